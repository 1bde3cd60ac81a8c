#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# /init of the VM tier's initramfs (busybox sh; built by setup.sh).
#
# Mounts the host's root filesystem (virtio-9p tag "hostroot", read-only)
# under a tmpfs overlay, so the guest runs the host's own binaries and
# libraries and may write anywhere (writes are thrown away), mounts the
# per-run results share (tag "svmout", read-write) at the same path it has
# on the host, and runs the job script vm.sh wrote there with the host's
# bash, chrooted. Then powers off.
#
# Kernel command line: svmvm_out=<host path of the results dir>
#                      svmvm_rw=<dir>,<dir>... (tags svmrw0, svmrw1...: read-write)
#                      svmvm_overlay=0 (plain read-only root + tmpfs /tmp)
# shellcheck shell=sh

PATH=/bin
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin

fail() {
	echo "svmvm-init: FATAL: $*"
	echo "svmvm-init: rc=125"
	sync
	poweroff -f
	sleep 5
	exit 1
}

mount -t proc proc /proc
mount -t sysfs sys /sys

OUT=
RW=
OVERLAY=1
read -r cmdline </proc/cmdline
for a in $cmdline; do
	case "$a" in
	svmvm_out=*) OUT=${a#svmvm_out=} ;;
	svmvm_overlay=*) OVERLAY=${a#svmvm_overlay=} ;;
	svmvm_rw=*) RW=${a#svmvm_rw=} ;;
	esac
done
[ -n "$OUT" ] || fail "no svmvm_out= on the kernel command line"

while read -r m; do
	insmod "/mods/$m" || fail "insmod $m"
done </mods/order

# The host root, read-only. cache=loose: the host tree does not change
# under a running guest, and TCG is slow enough without 9p round trips.
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose hostroot /host ||
	fail "cannot mount the host root over 9p"

R=/newroot
if [ "$OVERLAY" = 1 ] && mount -t tmpfs -o mode=0755 ovl /ovl && mkdir -p /ovl/u /ovl/w &&
	mount -t overlay -o lowerdir=/host,upperdir=/ovl/u,workdir=/ovl/w overlay $R; then
	:
else
	echo "svmvm-init: overlay not available, read-only root"
	OVERLAY=0
	mount --bind /host $R || fail "bind mount of the host root"
fi

mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
# With the overlay, the host's /tmp stays visible (build trees there keep
# working) and writes land in the overlay; without it, /tmp is a fresh tmpfs.
[ "$OVERLAY" = 1 ] || mount -t tmpfs -o mode=1777 tmpfs $R/tmp
mount -t tmpfs -o mode=0755 tmpfs $R/run
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mkdir -p "$R$OUT" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 svmout "$R$OUT" ||
	fail "cannot mount the results share at $OUT"
[ -f "$R$OUT/job.sh" ] || fail "no $OUT/job.sh"
# vm.sh --rw DIR: host directories shared read-write at their own paths.
i=0
for p in $(echo "$RW" | tr , ' '); do
	mkdir -p "$R$p" 2>/dev/null
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "svmrw$i" "$R$p" ||
		fail "cannot mount $p read-write"
	i=$((i + 1))
done

chroot $R /bin/bash "$OUT/job.sh"
rc=$?
echo "svmvm-init: job.sh exited $rc"
sync
umount "$R$OUT" 2>/dev/null
poweroff -f
sleep 5
