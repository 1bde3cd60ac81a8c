#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# Count the system calls of one device open+close, library vs the raw minimum.
#   bench/syscalls.sh BUILD-DIR PCI-ADDRESS GROUP
# Needs strace; on the fake kernel the fake's own calls would be counted too,
# so run it on a real kernel (the VM tier does).
set -euo pipefail
build=$1 bdf=$2 group=$3
count() {
	local log
	log=$(mktemp)
	strace -o "$log" "$build/bench/bench_open_once" "$1" "$bdf" "$group" >/dev/null
	# Calls after the marker write, minus the final exit_group.
	awk '/open-begins/ {on=1; next} on && !/exit_group|\+\+\+/ {n++} END {print n+0}' "$log"
	rm -f "$log"
}
lib=$(count lib) raw=$(count raw)
awk -v l="$lib" -v r="$raw" 'BEGIN { printf "syscalls per device open+close: library %d, raw minimum %d, ratio %.2f\n", l, r, l / r }'
