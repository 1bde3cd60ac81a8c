#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The broker's test command: its Check suite on the real kernel in the VM with
# the svmref provider (as root; test_broker exits 77 anywhere else), then the
# parser's libFuzzer target for a bounded time on the host.
#
#   tests/broker/vm-tests.sh [BUILD_DIR (build)] [FUZZ_SECONDS (60)] [vm.sh options...]
#   tests/broker/vm-tests.sh build 0 --kernel new   # the newest-kernel tier (SO_PEERPIDFD, pidfs); no fuzzing
#
# Exit 0 when both passed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
build=${1:-$REPO/build}
secs=${2:-60}
shift $(($# > 2 ? 2 : $#))
rc=0

"$REPO/tests/vm/vm.sh" --driver svmref --timeout 900 \
	-e BROKER_TEST_CLIENTS="${BROKER_TEST_CLIENTS:-1000}" -e CK_DEFAULT_TIMEOUT=120 "$@" \
	-- "$build/tests/broker/test_broker" || rc=$?
r=77
[ "$secs" = 0 ] || { "$REPO/tests/fuzz/run.sh" "$build" "$secs"; r=$?; }	# 0: no fuzzing
if [ "$r" != 0 ] && [ "$r" != 77 ] && [ "$rc" = 0 ]; then rc=$r; fi
exit "$rc"
