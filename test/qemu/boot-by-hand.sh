#!/bin/bash
# Boots a guest image layout by hand, without shed: the erofs lower + ext4 upper boot chain
# under plain QEMU (TCG), console on stdout. For debugging the image and guest/init.
#   test/qemu/boot-by-hand.sh /var/cache/shed-build/layouts/base-... [workdir] [extra kernel args]
set -euo pipefail
layout=${1:?usage: boot-by-hand.sh LAYOUT_DIR [WORKDIR] [KERNEL ARGS...]}
work=${2:-$(mktemp -d /tmp/shed-boot.XXXXXX)}
shift $(( $# >= 2 ? 2 : 1 ))
mkdir -p "$work"
if [ ! -f "$work/lower.erofs" ]; then
  rm -rf "$work/tree" && mkdir -p "$work/tree"
  manifest=$(python3 -c "import json,sys;print(json.load(open('$layout/index.json'))['manifests'][0]['digest'][7:])")
  for layer in $(python3 -c "import json;print(' '.join(l['digest'][7:] for l in json.load(open('$layout/blobs/sha256/$manifest'))['layers']))"); do
    tar -C "$work/tree" --numeric-owner --xattrs --xattrs-include='*' -xpf "$layout/blobs/sha256/$layer"
  done
  cp "$work/tree/boot/shed/vmlinuz" "$work/tree/boot/shed/initrd.img" "$work/"
  mkfs.erofs --quiet "$work/lower.erofs" "$work/tree"
  rm -rf "$work/tree"
fi
[ -f "$work/upper.ext4" ] || mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 "$work/upper.ext4" 4G
echo "work dir: $work (QMP: $work/qmp.sock)" >&2
exec qemu-system-x86_64 -accel tcg -machine q35 -cpu max,la57=off -smp 2 -m 1024 -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "console=ttyS0 shed.name=byhand panic=-1 $*" \
  -drive if=none,id=upper,file="$work/upper.ext4",format=raw -device virtio-blk-pci,drive=upper,addr=0x4 \
  -drive if=none,id=lower,file="$work/lower.erofs",format=raw,readonly=on -device virtio-blk-pci,drive=lower,addr=0x5 \
  -netdev user,id=net0 -device virtio-net-pci,netdev=net0,addr=0x6 -device virtio-rng-pci,addr=0x7 \
  -serial stdio -qmp "unix:$work/qmp.sock,server=on,wait=off"
