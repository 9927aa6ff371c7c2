#!/usr/bin/env bash
# On demand (not part of the README's test command): every suite, run inside the stock
# Debian 12 guest as a new user would run it there.
#   bash tests/vm/run.sh --deadline 5400 tests/vm/all.sh build/vm-all
set -uo pipefail
bash tests/run-all.sh
rc=$?
# the browser suite's screenshots come back with the logs
mkdir -p "${JAILD_VM_OUT:-/tmp}/artifacts"
cp -r build/screenshots "${JAILD_VM_OUT:-/tmp}/artifacts/" 2>/dev/null
exit $rc
