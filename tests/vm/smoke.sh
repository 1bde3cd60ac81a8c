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
"$CC" "${CFLAGS[@]}" -I"$REPO/tests/lab" -o "$BUILD/labcheck" \
	"$HERE/labcheck.c" "$REPO/tests/lab/lab_real.c"

args=(--driver vfio-pci -c "$BUILD/smoke enotty" -c "$BUILD/labcheck")
pdir=$REPO/tests/vm/provider
if [ "${SVMBIND_VM_NO_PROVIDER:-0}" != 1 ] && { [ -f "$pdir/Kbuild" ] || [ -f "$pdir/Makefile" ]; }; then
	args+=(--driver svmref -c "$BUILD/smoke bind" -c "$BUILD/labcheck")
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
