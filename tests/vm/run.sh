#!/usr/bin/env bash
# Boots the stock Debian 12 guest (tests/vm/image.sh), hands it a clean clone of the
# project and a command file, runs the command there as root (from the clone, as a new
# user would: `bash deploy/setup.sh` and so on), and exits with the command's exit code.
#
#   tests/vm/run.sh [--deadline SECONDS] COMMAND_FILE [ARTIFACT_DIR]
#
# The guest may reboot itself (see guest-run); the deadline (default 1200 s) covers all
# of it and then kills QEMU, so no VM outlives the run. KVM is used when the host really
# has it, software emulation otherwise. The guest has no network: npm installs come from
# a copy of the host's npm cache, filled here by `npm ci` of the project's lock files.
# ARTIFACT_DIR (optional) receives the guest's console and command logs, and whatever
# the command put in $JAILD_VM_OUT/artifacts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
deadline=1200
if [ "${1:-}" = --deadline ]; then deadline=$2; shift 2; fi
[ $# -ge 1 ] || { echo "usage: $0 [--deadline SECONDS] COMMAND_FILE [ARTIFACT_DIR]" >&2; exit 64; }
cmd=$(realpath "$1")
artifacts=${2:-}
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (QEMU's 9p shares and the image)" >&2; exit 1; }

image=$(bash "$here/image.sh")
work=$(mktemp -d /var/tmp/jaild-vm.XXXXXX)
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# a clean clone, plus what the working tree changes (nothing, on CI's clean clone)
git clone -q --no-hardlinks "$top" "$work/src"
(cd "$top" && git diff --binary HEAD) | (cd "$work/src" && git apply --allow-empty 2>/dev/null || git apply)
(cd "$top" && git ls-files -z --others --exclude-standard) | (cd "$top" && xargs -0 -r cp --parents -t "$work/src")
if [ -n "$(cd "$work/src" && git status --porcelain)" ]; then
  (cd "$work/src" && git add -A && git -c user.name=vm -c user.email=vm@localhost commit -qm "working tree")
fi

mkdir -p "$work/out"
cp "$cmd" "$work/out/cmd"
# npm's cache for the guest: the project's pinned packages, fetched here once
for d in tests/integration/wsclient web tests/browser; do
  (cd "$top/$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done
cp -a "$(npm config get cache)" "$work/out/npm-cache"
# promtool for test_metrics (deploy/deps.sh takes it out of Debian's package, online)
[ -x /var/cache/jaild-tools/promtool ] && cp /var/cache/jaild-tools/promtool "$work/out/promtool"
[ -n "${JAILD_VM_ENV:-}" ] && printf '%s\n' "$JAILD_VM_ENV" > "$work/out/env"

qemu-img create -q -f qcow2 -b "$image/base.raw" -F raw "$work/disk.qcow2"
accel=(-accel tcg,thread=multi)
if [ -w /dev/kvm ] && grep -qw -e vmx -e svm /proc/cpuinfo; then accel=(-accel kvm -cpu host); fi
start=$(date +%s)
timeout --kill-after=10 "$deadline" qemu-system-x86_64 "${accel[@]}" -m 6144 -smp 2 \
  -nodefaults -no-user-config -display none -serial "file:$work/console.log" \
  -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
  -append "console=ttyS0 root=/dev/vda rw quiet systemd.show_status=0 systemd.unified_cgroup_hierarchy=1" \
  -drive "file=$work/disk.qcow2,if=virtio,format=qcow2,cache=unsafe" \
  -fsdev "local,id=src,path=$work/src,security_model=none,readonly=on" -device virtio-9p-pci,fsdev=src,mount_tag=jsrc \
  -fsdev "local,id=out,path=$work/out,security_model=none" -device virtio-9p-pci,fsdev=out,mount_tag=jout \
  -nic none &
qemu_pid=$!
wait "$qemu_pid" || true
qemu_pid=
took=$(($(date +%s) - start))
if [ -n "$artifacts" ]; then
  mkdir -p "$artifacts"
  cp "$work/console.log" "$artifacts/console.log" 2>/dev/null || true
  cp "$work/out/log" "$artifacts/guest.log" 2>/dev/null || true
  # what the command left in $JAILD_VM_OUT/artifacts (screenshots, logs)
  [ -d "$work/out/artifacts" ] && cp -r "$work/out/artifacts/." "$artifacts/"
fi
if [ ! -s "$work/out/rc" ]; then
  echo "run.sh: the guest did not finish within ${deadline}s (or crashed); its console said:" >&2
  tail -n 60 "$work/console.log" >&2 || true
  exit 1
fi
rc=$(cat "$work/out/rc")
echo "run.sh: the guest's command exited $rc after ${took}s (${accel[*]})"
exit "$rc"
