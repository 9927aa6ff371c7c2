#!/usr/bin/env bash
# Debian 12 packages jaild needs to build, run and be tested. Idempotent; run as root.
# --list prints the packages a fresh Debian 12 machine needs, one a line, and installs
# nothing (the test VM image preinstalls them); --vm installs the VM lane's tools.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  # build
  build-essential meson ninja-build pkg-config python3 python3-yaml
  libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev libpq-dev libssl-dev libwslay-dev libcurl4-openssl-dev libarchive-dev libnftables-dev
  # run: the minimal template's userland, the jail firewall, tools the tests and bench use
  busybox-static nftables iproute2 util-linux procps curl sqlite3 wrk e2fsprogs
  # run: a jail's free, top and nproc read its own limits from /proc (lxcfs; where
  # systemd runs, Debian's lxcfs.service serves it, else jaild's supervisor starts it)
  lxcfs
  # run: templates built from a distribution's archive (mmdebstrap's unshare mode, as
  # jaild's unprivileged user, through newuidmap)
  mmdebstrap uidmap
  # tests: jailctl console runs under tmux; the web console's tests drive Debian's Chromium
  tmux chromium
)
if [ "${1:-}" = --list ]; then
  printf '%s\n' "${packages[@]}" nodejs npm
  exit 0
fi
# --vm: only what the stock Debian 12 test lane needs to build a guest image and boot
# it (tests/vm/); tests/run-all.sh asks for it, never inside that guest
if [ "${1:-}" = --vm ]; then
  packages=(qemu-system-x86 qemu-utils mmdebstrap)
fi
# tests: the freebsd suite compiles for FreeBSD with clang, on the host only (the test
# VM's guest, which runs no such suite, does without it)
[ "${1:-}" = --vm ] || [ -n "${JAILD_VM_BOOT:-}" ] || packages+=(clang)
# tests: the store's suite on PostgreSQL starts a throwaway server of its own (initdb,
# pg_ctl), on the host only; the cluster Debian's package starts is not used
[ "${1:-}" = --vm ] || [ -n "${JAILD_VM_BOOT:-}" ] || packages+=(postgresql)
# tests: the console's independent WebSocket client is Node's `ws` package; a Node.js
# already on the machine (e.g. from NodeSource) serves, else Debian's
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# the unprivileged user the API server drops to
id jaild >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin jaild
# its subordinate ids, for template builds (the archive's maintainer scripts run as
# these, in a user namespace): 65536 ids just below jails' default uid-base, 1000000
for f in /etc/subuid /etc/subgid; do
  grep -q '^jaild:' "$f" 2>/dev/null || echo 'jaild:934464:65536' >> "$f"
done
# tests: promtool (Prometheus's checker for /metrics), taken out of Debian's prometheus
# package without installing it, so no Prometheus server is set up on the machine (the
# test VM's guest, offline, gets the host's copy through its share instead)
if [ "${1:-}" != --vm ] && [ -z "${JAILD_VM_BOOT:-}" ] && [ ! -x /var/cache/jaild-tools/promtool ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -q prometheus >/dev/null && dpkg-deb -x prometheus_*.deb x) &&
    install -D -m 0755 "$tmp/x/usr/bin/promtool" /var/cache/jaild-tools/promtool
  rm -rf "$tmp"
fi
