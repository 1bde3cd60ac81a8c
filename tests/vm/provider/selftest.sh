#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build svmref.ko and selftest, boot the VM (tests/vm/vm.sh) with the lab
# devices on svmref-vfio-pci, and run in the guest:
#   [0] ./selftest             functional checks (122)
#   [1] ./selftest stress      concurrent BIND/UNBIND/DMA/exit, $STRESS_SECS s
#   [2] rmmod svmref           unload, and no WARNING/BUG in the kernel log
# Extra arguments go to vm.sh (e.g. -v, --timeout 600). Exit: vm.sh's.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
make -s -C "$HERE" selftest
exec "$HERE/../vm.sh" --driver svmref -C "$HERE" --cmd-timeout "${SVMREF_CMD_TIMEOUT:-300}" "$@" \
	-c './selftest' \
	-c "STRESS_SECS=${STRESS_SECS:-20} ./selftest stress" \
	-c 'rmmod svmref && ! lsmod | grep -q "^svmref " && ! dmesg | grep -E "WARNING:|BUG:|Call Trace:"'
