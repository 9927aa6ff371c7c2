#!/usr/bin/env bash
# Compiles everything of jaild that is not the Linux backend against FreeBSD 14.2's
# headers (a sysroot: ../shared/freebsd-sysroot, or $FREEBSD_SYSROOT): the server, its
# supervisor, jailctl, server/lib and the helper's dispatcher, with the build's own
# warnings as errors. It compiles, it does not link (a sysroot of headers has no
# libraries). Needs clang. Prints each file that fails, and exits 1 if any does.
set -uo pipefail
cd "$(dirname "$0")/.."
# the sysroot: $FREEBSD_SYSROOT, else beside the project (../shared), else this
# machine's shared directory (a clean clone elsewhere, as CI makes one)
sr=${FREEBSD_SYSROOT:-}
for d in ../shared/freebsd-sysroot /work/shared/freebsd-sysroot; do
  [ -n "$sr" ] || { [ -d "$d/usr/include" ] && sr=$d; }
done
[ -d "${sr:-/nonexistent}/usr/include" ] || { echo "freebsd-check: no FreeBSD sysroot (../shared/freebsd-sysroot; or set FREEBSD_SYSROOT)" >&2; exit 2; }
command -v clang >/dev/null || { echo "freebsd-check: clang is not installed (deploy/deps.sh installs it)" >&2; exit 2; }
# the build's generated headers (the schema): the one meson runs this for, or ./build
gen=${FREEBSD_BUILD:-build}/schema
[ -f "$gen/schema.c" ] || { echo "freebsd-check: build first (meson setup build && meson compile -C build)" >&2; exit 2; }
fails=0 n=0
for f in server/daemon/*.c server/daemon/*/*.c server/supervisor/*.c client/*.c server/lib/*.c server/priv/*.c server/priv/jail_freebsd/*.c; do
  [ "$f" = server/daemon/os/linux.c ] && continue
  # the sysroot carries no libpq headers (ports' databases/postgresql15-client has
  # them): the PostgreSQL engine is compiled on Linux only, and named here as skipped
  if [ "$f" = server/daemon/store/engine_postgresql.c ] && [ ! -f "$sr/usr/local/include/libpq-fe.h" ]; then
    echo "skip $f (no libpq-fe.h in the sysroot)"; continue
  fi
  n=$((n + 1))
  if ! out=$(clang --target=x86_64-unknown-freebsd14.2 --sysroot="$sr" -isystem "$sr/usr/local/include" \
      -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE '-DJAILD_VERSION="check"' '-DJAILD_WEBDIR="/usr/local/share/jaild/web"' \
      '-DJAILD_LIBEXECDIR="/usr/local/libexec"' -Iserver/lib -Iserver/daemon -Iserver "-I$gen" -Iclient \
      -c "$f" -o /dev/null 2>&1); then
    echo "FAIL $f"; echo "$out" | grep -m3 error; fails=$((fails + 1))
  fi
done
echo "freebsd-check: $((n - fails)) of $n files compile for FreeBSD 14.2"
[ "$fails" -eq 0 ]
