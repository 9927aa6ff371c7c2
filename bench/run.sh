#!/usr/bin/env bash
# Benchmarks (not tests): build, then print figures and ratios. As root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/deps.sh
[ -d build ] || meson setup build --buildtype=debugoptimized
meson compile -C build
JAILD_BUILD=$PWD/build python3 bench/bench.py
# one tenant's latency while another attacks what they share (issue 10)
JAILD_BUILD=$PWD/build python3 bench/neighbours.py
# jails on the network against a plain veth pair (issue 12)
JAILD_BUILD=$PWD/build python3 bench/network.py
