#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# Prepare the VM test tier (idempotent; a second run does nothing and takes
# well under a second):
#   - apt-get install qemu-system-x86 busybox-static cpio kmod xz-utils linux-headers-$KVER
#   - KVER = the kernel Debian's linux-image-amd64 depends on
#   - apt-get download linux-image-$KVER into the cache (never installed on the host)
#   - extract vmlinuz and the modules the guest needs (dpkg-deb --fsys-tarfile),
#     and an uncompressed vmlinux from vmlinuz (booted via PVH: faster)
#   - depmod them and build a small busybox initramfs (tests/vm/init.sh as /init)
#
# The cache is ${SVMBIND_VM_CACHE:-$HOME/.cache/svmbind-vm}. On success the last
# line of stdout is the path of "$CACHE/$KVER/vm.env", a file vm.sh sources:
#   KVER VMLINUZ KERNEL (what to boot: the ELF vmlinux if it could be extracted)
#   INITRD MODROOT (the guest's /lib/modules/$KVER) HEADERS
#
# usage: setup.sh [--kernel debian|new]
#   debian (default): Debian 12's own kernel, as above.
#   new: the VM tier's own kernel from Debian's newest kernel source
#        (tests/vm/kernel/build.sh: built once, cached by version + config);
#        its VFIO stack, 9p and overlayfs are built in, so the initramfs
#        carries no modules. vm.env then lives in that build's cache dir.
#
# Environment: SVMBIND_VM_CACHE, SVMBIND_VM_KVER (force a kernel version),
# SVMBIND_VM_KERNEL (debian|new, as --kernel), CI / no tty: everything is
# non-interactive anyway.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SVMBIND_VM_CACHE:-${HOME:-/root}/.cache/svmbind-vm}
export DEBIAN_FRONTEND=noninteractive

log() { printf 'setup.sh: %s\n' "$*" >&2; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

KIND=${SVMBIND_VM_KERNEL:-debian}
while [ "$#" -gt 0 ]; do
	case "$1" in
	--kernel) [ "$#" -ge 2 ] || die "--kernel needs debian or new"; KIND=$2; shift 2 ;;
	--kernel=*) KIND=${1#*=}; shift ;;
	*) die "unknown argument '$1' (usage: setup.sh [--kernel debian|new])" ;;
	esac
done
case "$KIND" in debian | new) ;; *) die "unknown kernel '$KIND' (debian or new)" ;; esac

apt_updated=0
apt_update_once() {
	if [ "$apt_updated" = 0 ]; then
		log "apt-get update"
		apt-get update -q >&2 || die "apt-get update failed"
		apt_updated=1
	fi
}

# Install the packages that are missing. apt-get update only when an install
# (or a lookup) fails, and at most once.
ensure_pkgs() {
	local missing=() p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || missing+=("$p")
	done
	[ "${#missing[@]}" = 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
	log "apt-get install ${missing[*]}"
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
		apt_update_once
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
			die "apt-get install ${missing[*]} failed"
	fi
}

find_kver() {
	local k
	k=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -n1)
	if [ -z "$k" ]; then
		apt_update_once
		k=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -n1)
	fi
	[ -n "$k" ] || die "cannot find the kernel linux-image-amd64 depends on"
	printf '%s\n' "$k"
}

command -v apt-get >/dev/null || die "this script needs Debian (apt-get)"
ensure_pkgs qemu-system-x86 busybox-static cpio kmod xz-utils
if [ "$KIND" = new ]; then
	# Our own kernel: built (or found in the cache) by kernel/build.sh.
	kenv=$("$HERE/kernel/build.sh" | tail -n1) || die "tests/vm/kernel/build.sh failed"
	[ -f "$kenv" ] || die "kernel/build.sh printed no kernel.env"
	# shellcheck source=/dev/null
	. "$kenv"
	KDIR=$(dirname "$kenv")
	ROOT=${MODROOT%/lib/modules/*}
	[ -f "$KERNEL" ] || die "$KERNEL is missing"
	[ -f "$HEADERS/Makefile" ] || die "$HEADERS is not a kernel build tree"
	printf '%s\n' "$KSRC_PKG $KSRC_VERSION $KCONFIG_HASH" >"$KDIR/.extracted"
else
	KVER=${SVMBIND_VM_KVER:-$(find_kver)}
	ensure_pkgs "linux-headers-$KVER"
	HEADERS=/usr/src/linux-headers-$KVER
	[ -f "$HEADERS/Makefile" ] || die "$HEADERS is missing"

	KDIR=$CACHE/$KVER
	ROOT=$KDIR/root
	mkdir -p "$CACHE/debs" "$KDIR"

	# 1. The kernel image package, downloaded only.
	find_deb() { find "$CACHE/debs" -maxdepth 1 -name "linux-image-${KVER}_*.deb" | sort | tail -n1; }
	deb=$(find_deb)
	if [ -z "$deb" ]; then
		log "apt-get download linux-image-$KVER"
		tmp=$(mktemp -d "$CACHE/debs/.dl.XXXXXX")
		if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$KVER" >&2); then
			apt_update_once
			(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$KVER" >&2) ||
				{ rm -rf "$tmp"; die "apt-get download linux-image-$KVER failed"; }
		fi
		mv "$tmp"/linux-image-"${KVER}"_*.deb "$CACHE/debs/"
		rmdir "$tmp"
		deb=$(find_deb)
	fi

	# 2. vmlinuz and the modules (only the subtrees the guest uses), depmod'ed.
	# The guest's modprobe reads them at /lib/modules/$KVER (vm.sh bind-mounts
	# $MODROOT there), so depmod runs on exactly this tree.
	SUBTREES=(
		kernel/drivers/virtio kernel/fs/9p kernel/net/9p kernel/fs/netfs kernel/fs/fscache
		kernel/fs/overlayfs kernel/drivers/vfio kernel/virt kernel/drivers/uio
		kernel/drivers/pci
	)
	if [ ! -f "$KDIR/.extracted" ] || [ "$(cat "$KDIR/.extracted")" != "$(basename "$deb") ${SUBTREES[*]}" ]; then
		log "extracting $(basename "$deb")"
		rm -rf "$ROOT"
		mkdir -p "$ROOT"
		members=("./boot/vmlinuz-$KVER" "./lib/modules/$KVER/modules.order"
			"./lib/modules/$KVER/modules.builtin" "./lib/modules/$KVER/modules.builtin.modinfo")
		for s in "${SUBTREES[@]}"; do members+=("./lib/modules/$KVER/$s"); done
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$ROOT" "${members[@]}"
		depmod -b "$ROOT" "$KVER"
		printf '%s\n' "$(basename "$deb") ${SUBTREES[*]}" >"$KDIR/.extracted"
	fi
	VMLINUZ=$ROOT/boot/vmlinuz-$KVER
	MODROOT=$ROOT/lib/modules/$KVER
	[ -f "$VMLINUZ" ] || die "$VMLINUZ is missing"

	# The uncompressed ELF vmlinux, booted through its PVH entry point: no
	# in-guest decompression (Debian's kernel is xz), about 2.5 s less per boot
	# under TCG. If it cannot be had, vm.sh boots the bzImage.
	VMLINUX=$KDIR/vmlinux
	if [ ! -f "$VMLINUX" ] || [ "$VMLINUX" -ot "$VMLINUZ" ]; then
		rm -f "$VMLINUX"
		off=$(LC_ALL=C grep -obUaP '\xfd\x37\x7a\x58\x5a\x00' "$VMLINUZ" | head -n1 | cut -d: -f1 || true)
		if [ -n "$off" ] && tail -c +"$((off + 1))" "$VMLINUZ" >"$VMLINUX.xz" &&
			xz -dc --single-stream "$VMLINUX.xz" >"$VMLINUX.tmp" 2>/dev/null &&
			[ "$(head -c4 "$VMLINUX.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv "$VMLINUX.tmp" "$VMLINUX"
			rm -f "$VMLINUX.xz"
		else
			rm -f "$VMLINUX.tmp" "$VMLINUX.xz"
			log "cannot extract an ELF vmlinux from $VMLINUZ: booting the bzImage (slower)"
		fi
	fi
	KERNEL=$VMLINUZ
	[ -f "$VMLINUX" ] && KERNEL=$VMLINUX
fi

# The VFIO stack in the order the kernel needs it, and the "other" driver
# (SVMBIND_LAB_OTHER_DRIVER). Loaded by /init with busybox insmod: running the
# host's modprobe through 9p under TCG costs about a second per module.
GUEST_MODULES=(irqbypass vfio vfio_iommu_type1)
modprobe -d "$ROOT" -S "$KVER" -n vfio_virqfd 2>/dev/null && GUEST_MODULES+=(vfio_virqfd)
GUEST_MODULES+=(vfio-pci-core vfio-pci uio_pci_generic)

# 3. The initramfs: static busybox, /init, and the modules needed to mount
# the host's root over virtio-9p and to put a tmpfs overlay on it.
INITRD=$KDIR/initramfs.cpio
BUSYBOX=/bin/busybox
want="$(cat "$HERE/init.sh" "${BASH_SOURCE[0]}" "$BUSYBOX" | sha256sum | cut -c1-16) $(cat "$KDIR/.extracted")"
if [ ! -f "$INITRD" ] || [ ! -f "$KDIR/.initrd" ] || [ "$(cat "$KDIR/.initrd")" != "$want" ]; then
	log "building $INITRD"
	file "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || [ ! -x /usr/bin/file ] ||
		die "$BUSYBOX is not static (install busybox-static)"
	ir=$(mktemp -d "$KDIR/.initrd.XXXXXX")
	mkdir -p "$ir"/{bin,dev,proc,sys,host,newroot,ovl,mods,tmp}
	cp "$BUSYBOX" "$ir/bin/busybox"
	ln -s busybox "$ir/bin/sh"
	install -m 0755 "$HERE/init.sh" "$ir/init"
	: >"$ir/mods/order"
	# Loading order from kmod itself: "insmod /path/x.ko" lines, dependencies first.
	while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		b=$(basename "$path")
		grep -qx "$b" "$ir/mods/order" && continue
		cp "$path" "$ir/mods/$b"
		printf '%s\n' "$b" >>"$ir/mods/order"
	done < <(modprobe -d "$ROOT" -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p overlay \
		"${GUEST_MODULES[@]}")
	grep -qx 9p.ko "$ir/mods/order" || grep -q '/9p\.ko$' "$ROOT/lib/modules/$KVER/modules.builtin" ||
		die "cannot resolve the 9p modules"
	(cd "$ir" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
	rm -rf "$ir"
	printf '%s\n' "$want" >"$KDIR/.initrd"
fi

cat >"$KDIR/vm.env.tmp" <<EOF
KVER=$KVER
VMLINUZ=$VMLINUZ
KERNEL=$KERNEL
INITRD=$INITRD
MODROOT=$MODROOT
HEADERS=$HEADERS
KERNEL_KIND=$KIND
EOF
mv "$KDIR/vm.env.tmp" "$KDIR/vm.env"
printf '%s\n' "$KDIR/vm.env"
