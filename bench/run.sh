#!/usr/bin/env bash
# Benchmarks (not tests): build, then print figures and ratios. As root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/deps.sh
# the peers bench/peers.py measures jaild against, from Debian; no service of theirs is
# started (the bench makes its own bridge and touches no other network)
if ! command -v crun >/dev/null || ! command -v lxc-start >/dev/null; then
  block=0
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; block=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends crun lxc
  [ "$block" = 0 ] || rm -f /usr/sbin/policy-rc.d
fi
[ -d build ] || meson setup build --buildtype=debugoptimized
meson compile -C build
JAILD_BUILD=$PWD/build python3 bench/bench.py
# one tenant's latency while another attacks what they share (issue 10)
JAILD_BUILD=$PWD/build python3 bench/neighbours.py
# jails on the network against a plain veth pair (issue 12)
JAILD_BUILD=$PWD/build python3 bench/network.py
# side by side with crun and LXC (issue 15)
JAILD_BUILD=$PWD/build python3 bench/peers.py
# a cluster's cost: through a proxying host against directly on the owner (issue 17)
JAILD_BUILD=$PWD/build bash tests/pg/with-postgres.sh python3 bench/cluster.py
