#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The VM tier's own check, without libsvmbind: one boot that runs
#   on vfio-pci:        smoke enotty   (BIND_TASK is ENOTTY on stock vfio-pci)
#                       labcheck       (tests/lab/lab_real.c against the kernel)
#   on svmref-vfio-pci: smoke bind     (BIND_TASK is no longer ENOTTY)
#                       labcheck
#                       svmref-selftest (the provider's raw-ioctl self-test)
#                       svmref-selftest stress (only with SVMBIND_VM_STRESS=1)
# and with --kernel new, on each driver: cdevcheck (the VFIO cdev + iommufd
# path: bind, IOAS, edu DMA through it, BIND_TASK on the cdev fd).
# With --noiommu (no IOMMU groups to share, no DMA translation): smoke and
# cdevcheck on each driver only (labcheck and the selftest want VT-d).
# The svmref part runs when tests/vm/provider/ has a Kbuild or Makefile
# (SVMBIND_VM_NO_PROVIDER=1 skips it).
#
# usage: smoke.sh [vm.sh options, e.g. -v]
# Binaries go to ${SVMBIND_VM_BUILD:-$CACHE/smoke} (visible to the guest).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${SVMBIND_VM_CACHE:-${HOME:-/root}/.cache/svmbind-vm}
BUILD=${SVMBIND_VM_BUILD:-$CACHE/smoke}
CC=${CC:-cc}
CFLAGS=(-std=gnu11 -O2 -g -Wall -Wextra -Werror)

"$HERE/setup.sh" >/dev/null	# also installs the compiler's kernel headers' peers
mkdir -p "$BUILD"
"$CC" "${CFLAGS[@]}" -o "$BUILD/smoke" "$HERE/smoke.c"
# lab.c (the lab's shared helpers) when the tree has it.
labsrc=("$REPO/tests/lab/lab_real.c")
[ -f "$REPO/tests/lab/lab.c" ] && labsrc+=("$REPO/tests/lab/lab.c")
"$CC" "${CFLAGS[@]}" -I"$REPO/tests/lab" -o "$BUILD/labcheck" \
	"$HERE/labcheck.c" "${labsrc[@]}"

# The kernel vm.sh will boot (its --kernel, last one wins).
kernel=${SVMBIND_VM_KERNEL:-debian}
noiommu=0
prev=
for a in "$@"; do
	case "$a" in --kernel=*) kernel=${a#*=} ;; --noiommu) noiommu=1 ;; esac
	[ "$prev" = --kernel ] && kernel=$a
	prev=$a
done
cdev=()
if [ "$kernel" = new ]; then
	"$CC" "${CFLAGS[@]}" -o "$BUILD/cdevcheck" "$HERE/cdevcheck.c"
	cdev=(-c "$BUILD/cdevcheck enotty")
fi

if [ "$noiommu" = 1 ]; then
	exec "$HERE/vm.sh" --cmd-timeout 60 --driver vfio-pci -c "$BUILD/smoke enotty" "${cdev[@]}" \
		--driver svmref -c "$BUILD/smoke bind" -c "$BUILD/cdevcheck bind" "$@"
fi

args=(--driver vfio-pci -c "$BUILD/smoke enotty" -c "$BUILD/labcheck" "${cdev[@]}")
pdir=$REPO/tests/vm/provider
if [ "${SVMBIND_VM_NO_PROVIDER:-0}" != 1 ] && { [ -f "$pdir/Kbuild" ] || [ -f "$pdir/Makefile" ]; }; then
	args+=(--driver svmref -c "$BUILD/smoke bind" -c "$BUILD/labcheck")
	[ "$kernel" = new ] && args+=(-c "$BUILD/cdevcheck bind")
	if [ -f "$pdir/selftest.c" ]; then
		"$CC" "${CFLAGS[@]}" -pthread -I"$REPO/include" -I"$REPO/tests/lab" \
			-o "$BUILD/svmref-selftest" "$pdir/selftest.c"
		args+=(-c "$BUILD/svmref-selftest")
		# Opt-in: the stress mode forks from a multithreaded process and
		# calls rand() in the child, which can deadlock on glibc's lock.
		if [ "${SVMBIND_VM_STRESS:-0}" = 1 ]; then
			args+=(-c "STRESS_SECS=${STRESS_SECS:-5} $BUILD/svmref-selftest stress")
		fi
	fi
else
	echo "smoke.sh: no provider in $pdir: vfio-pci only" >&2
fi
exec "$HERE/vm.sh" --cmd-timeout 60 "${args[@]}" "$@"
