#!/bin/sh
# Makes Tests/Fixtures/qemu-numa-movable: Debian's own kernel booted under
# qemu-system-x86_64 software emulation (TCG) as a 2-node NUMA machine with a
# ZONE_MOVABLE, a workload running (THP anon, page cache, a BPF ringbuf: a
# VM_USERMAP vmalloc area mapped to userspace), captured twice with
# `scamem capture` inside the guest:
#   boot/     movablecore=256M: each node's boot memory, Movable at the top of it;
#   hotplug/  then a 512 MiB DIMM on node 1 onlined block by block, alternately
#             online_movable and online_kernel: Normal and Movable interleave.
# The captures leave the guest base64-encoded on its second serial port.
#
# Usage: scripts/capture-qemu-numa.sh OUTDIR
# Needs (Debian): qemu-system-x86 busybox-static gcc libc6-dev cpio xz-utils,
# and a scamem binary (SCAMEM=..., default build/bin/scamem from `make tools`);
# its shared libraries are copied into the initramfs beside it.
# KERNEL_DEB=path to a linux-image-*-amd64 .deb (default: apt-get download
# linux-image-6.1.0-50-amd64-unsigned).  Heavy steps run under nice -n 19.
set -eu
for t in qemu-system-x86_64 cpio gcc dpkg-deb base64 file; do
    command -v $t >/dev/null || { echo "$0: $t not found (apt-get install qemu-system-x86 cpio gcc file)" >&2; exit 1; }
done
out=${1:?usage: $0 OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
scamem=${SCAMEM:-$root/build/bin/scamem}
[ -x "$scamem" ] || (cd "$root" && nice -n 19 make tools)
work=$(mktemp -d /tmp/scamem-numa.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ -z "${KERNEL_DEB:-}" ]; then
    (cd "$work" && apt-get download linux-image-6.1.0-50-amd64-unsigned)
    KERNEL_DEB=$(ls "$work"/linux-image-*.deb)
fi
dpkg-deb -x "$KERNEL_DEB" "$work/k"
vmlinuz=$(ls "$work"/k/boot/vmlinuz-*)

ir=$work/initramfs
mkdir -p "$ir/bin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/tmp"
cp /bin/busybox "$ir/bin/busybox"   # busybox-static
file -L "$ir/bin/busybox" | grep -q 'statically linked' || { echo "busybox is not static: apt-get install busybox-static" >&2; exit 1; }
cp "$here/qemu-numa/init" "$ir/init"
nice -n 19 gcc -O2 -static -o "$ir/workload" "$here/qemu-numa/workload.c"
cp "$scamem" "$ir/scamem"
for lib in $(ldd "$scamem" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do
    mkdir -p "$ir$(dirname "$lib")"
    cp -L "$lib" "$ir$lib"
done
[ -e "$ir/lib64" ] || { mkdir -p "$ir/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$ir/lib64/"; }
(cd "$ir" && find . | cpio -o -H newc --quiet) | nice -n 19 gzip -1 > "$work/initrd.gz"

# 1 GiB of boot memory, 512 MiB per node, all below 4 GiB (DMA and DMA32 only);
# the DIMM lands above 4 GiB, where only Normal and Movable can be.
nice -n 19 timeout 3600 qemu-system-x86_64 -machine pc -accel tcg -smp 2 \
    -m 1G,slots=2,maxmem=2G \
    -object memory-backend-ram,id=r0,size=512M -numa node,nodeid=0,cpus=0,memdev=r0 \
    -object memory-backend-ram,id=r1,size=512M -numa node,nodeid=1,cpus=1,memdev=r1 \
    -object memory-backend-ram,id=hp,size=512M -device pc-dimm,id=dimm1,memdev=hp,node=1 \
    -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 movablecore=256M memhp_default_state=offline panic=-1" \
    -display none -no-reboot -serial file:"$work/console.log" -serial file:"$work/out.b64"
cat "$work/console.log" > "$work/console.txt"
grep -q "scamem-numa: done" "$work/console.log" || { tail -40 "$work/console.log" >&2; echo "the guest did not finish" >&2; exit 1; }
mkdir -p "$out"
tr -d '\r' < "$work/out.b64" | sed '/====end====/,$d' | base64 -d | tar -x -C "$out"
tr -d '\r' < "$work/console.log" > "$out/console.log"
echo "$out: $(ls "$out")"
