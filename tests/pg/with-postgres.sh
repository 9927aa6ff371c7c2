#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL of its own: initdb into a temporary
# directory (as the unprivileged user postgres when run as root), a server that
# listens only on a socket in that directory (no TCP port, nothing shared with another
# run), and a database "jaild". The command finds its URI in JAILD_TEST_STORE. The
# server and its files are gone when the command ends; fsync is off (test data only).
#   tests/pg/with-postgres.sh COMMAND...
set -uo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: PostgreSQL's server is not installed (deploy/deps.sh installs it)" >&2
  exit 1
fi
dir=$(mktemp -d /var/tmp/jaild-pg-XXXXXX) || exit 1
chmod 755 "$dir"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir" || exit 1
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
stop() {
  as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$dir"
}
trap stop EXIT
if ! as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  exit 1
fi
if ! as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c max_connections=300" start >/dev/null; then
  cat "$dir/server.log" >&2
  exit 1
fi
as_pg "$bin/createdb" -h "$dir" -U postgres jaild || exit 1
export JAILD_TEST_STORE="postgresql:///jaild?host=$dir&user=postgres"
# for suites that restart the server (pg_ctl -D "$JAILD_TEST_PGDATA" restart, as postgres)
export JAILD_TEST_PGBIN="$bin" JAILD_TEST_PGDATA="$dir/data"
"$@"
