#!/usr/bin/env bash
# Builds (once) a stock Debian 12 guest image for the vm lane and prints its directory:
# base.raw (ext4 root), vmlinuz and initrd.img (Debian's own kernel, for a direct boot).
# The image holds Debian 12 as a provider installs it (systemd, cgroup v2, kernel 6.1)
# plus the packages deploy/deps.sh would install, so setup.sh in the guest installs
# nothing. It is cached under JAILD_VM_CACHE (default /var/cache/jaild-vm) by a hash of
# its inputs: reruns and CI on the same machine reuse it; a change of inputs builds anew.
# Run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${JAILD_VM_CACHE:-/var/cache/jaild-vm}

for t in mmdebstrap qemu-system-x86_64 qemu-img mkfs.ext4; do
  command -v "$t" >/dev/null || { echo "image.sh: $t is missing (deploy/deps.sh installs it)" >&2; exit 1; }
done

# the guest's own pieces: kernel and init system as Debian ships them, the runner
packages=$( (bash "$top/deploy/deps.sh" --list; printf '%s\n' linux-image-amd64 initramfs-tools systemd \
  systemd-sysv udev dbus kmod git ca-certificates) | sort -u | paste -sd, -)
sources=
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
  [ -s "$f" ] && { sources=$f; break; }
done
[ -n "$sources" ] || { echo "image.sh: no apt sources on this machine to build from" >&2; exit 1; }
key=$( { cat "$here/image.sh" "$here/guest-run"; echo "$packages"; grep -v '^#' "$sources"; } | sha256sum | cut -c1-16)
out="$cache/debian12-$key"
if [ -s "$out/base.raw" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one build at a time; a second caller waits and then reuses it
if [ -s "$out/base.raw" ]; then echo "$out"; exit 0; fi
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "image.sh: building the Debian 12 guest image (about 2 minutes)" >&2
mmdebstrap --variant=important --include="$packages" \
  --customize-hook="cp '$here/guest-run' \"\$1/usr/local/sbin/jaild-vm-run\"" \
  --customize-hook='chmod 755 "$1/usr/local/sbin/jaild-vm-run"' \
  --customize-hook='cat > "$1/etc/systemd/system/jaild-vm-run.service" <<EOF
[Unit]
Description=run the vm lane command handed over by the host
After=basic.target systemd-user-sessions.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/jaild-vm-run
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
EOF' \
  --customize-hook='chroot "$1" systemctl enable jaild-vm-run.service' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer getty@tty1.service serial-getty@ttyS0.service' \
  --customize-hook='echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" > "$1/etc/fstab"' \
  --customize-hook='echo debian12-guest > "$1/etc/hostname"' \
  --customize-hook='printf "9p\n9pnet\n9pnet_virtio\n" > "$1/etc/modules-load.d/jaild-vm.conf"' \
  --customize-hook='chroot "$1" passwd -d root' \
  --customize-hook="cp \"\$1\"/boot/vmlinuz-* '$work/vmlinuz'; cp \"\$1\"/boot/initrd.img-* '$work/initrd.img'" \
  bookworm "$work/root" "$sources" >&2
truncate -s 12G "$work/base.raw"
mkfs.ext4 -q -L root -d "$work/root" "$work/base.raw"
rm -rf "$work/root"
chmod 0644 "$work/vmlinuz" "$work/initrd.img"
mkdir -p "$out"
mv "$work/base.raw" "$work/vmlinuz" "$work/initrd.img" "$out/"
# images of older inputs go
for d in "$cache"/debian12-*; do [ "$d" = "$out" ] || rm -rf "$d"; done
echo "$out"
