#!/usr/bin/env bash
# Set up and start jaild on a fresh Debian 12 machine, as root: packages, build, and
# jaild in the background on its embedded default (SQLite in /var/lib/jaild, the
# minimal busybox template). Prints a curl line that creates and starts a jail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/deps.sh
# the web console's xterm.js, pinned by web/package-lock.json
(cd web && npm ci --no-audit --no-fund --loglevel=error)
[ -d build ] || meson setup build --buildtype=debugoptimized
meson compile -C build
data=${JAILD_DATA_DIR:-/var/lib/jaild}
listen=${JAILD_LISTEN:-127.0.0.1:8080}
if pgrep -x jaild >/dev/null; then
  echo "jaild is already running; stop it first (pkill -x jaild) to restart it"
else
  nohup build/server/jaild --data-dir "$data" --listen "$listen" >>/var/log/jaild.log 2>&1 &
fi
for _ in $(seq 100); do
  curl -sf "http://$listen/api/health" >/dev/null && [ -s "$data/admin.token" ] && break
  sleep 0.1
done
curl -sf "http://$listen/api/health" >/dev/null || { echo "jaild did not start; see /var/log/jaild.log"; exit 1; }
echo "jaild is running on http://$listen (log: /var/log/jaild.log, admin token: $data/admin.token)"
echo "Web console: http://$listen/ (log in with the admin token, or a tenant user)"
echo "Create and start a jail:"
echo "  curl -s -H \"Authorization: Bearer \$(cat $data/admin.token)\" -X POST 'http://$listen/api/jails?start=1' -d '{\"name\":\"web1\",\"ip4\":[\"auto\"]}'"
