#!/usr/bin/env bash
# Every test suite, from a fresh Debian 12 machine, as root: packages, a normal build
# and an ASan+UBSan build, each running the unit, integration and browser suites.
set -uo pipefail
cd "$(dirname "$0")/.."
bash deploy/deps.sh || exit 1
[ -n "${JAILD_VM_BOOT:-}" ] || bash deploy/deps.sh --vm || exit 1
# npm packages, each pinned by its package-lock.json: the console tests' WebSocket
# client, the web console's xterm.js, and playwright-core for the browser tests
for d in tests/integration/wsclient web tests/browser; do
  (cd "$d" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
passed=0 failed=0
# the stock Debian 12 guest lane (suite vm) runs once, from the normal build; never
# inside that guest itself (tests/vm/all.sh runs this script there)
vm=(); [ -n "${JAILD_VM_BOOT:-}" ] && vm=(--no-suite vm --no-suite freebsd)
run_build() { # dir, meson test options, -- meson setup options...
  local dir=$1; shift
  local topts=()
  while [ "$1" != -- ]; do topts+=("$1"); shift; done; shift
  [ -d "$dir" ] || meson setup "$dir" "$@" || return 1
  meson compile -C "$dir" || return 1
  meson test -C "$dir" --print-errorlogs --num-processes 2 ${topts[@]+"${topts[@]}"}
}
count() { # dir: add meson's counts to the totals
  local ok fail
  # a skipped suite has not passed: under CI=true it counts as failed
  ok=$(python3 -c 'import json,os,sys; r=[json.loads(l) for l in open(sys.argv[1])]; bad=("OK",) if os.environ.get("CI")=="true" else ("OK","SKIP"); print(sum(x["result"]=="OK" for x in r)); print(sum(x["result"] not in bad for x in r))' "$1/meson-logs/testlog.json" 2>/dev/null) || ok=$'0\n1'
  passed=$((passed + $(sed -n 1p <<<"$ok")))
  failed=$((failed + $(sed -n 2p <<<"$ok")))
}
run_build build ${vm[@]+"${vm[@]}"} -- --buildtype=debugoptimized; rc1=$?
count build
# (every suite on PostgreSQL, suite postgresql, runs in the normal build only: the store
# engine's code runs under the sanitizers in the unit suite and test_cluster)
run_build build-asan --no-suite vm --no-suite postgresql -- --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false; rc2=$?
count build-asan
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] || [ $failed -gt 0 ] || failed=1
echo "suites (normal and ASan+UBSan builds):"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
