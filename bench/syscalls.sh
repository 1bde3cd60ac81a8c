#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# Count the system calls of one device open+close, library vs the raw minimum.
#   bench/syscalls.sh BUILD-DIR PCI-ADDRESS GROUP [CDEV]
# With CDEV ("vfioN"), the raw minimum is the cdev + iommufd sequence, and
# the library takes whatever path it chooses on this kernel (iommufd there).
# Needs strace and a real lab (the VM tier runs it).
set -euo pipefail
build=$1 bdf=$2 group=$3 cdev=${4:-}
count() {	# count lib|raw [warm]
	local log
	log=$(mktemp)
	strace -o "$log" "$build/bench/bench_open_once" "$1" "$bdf" "${cdev:-$group}" ${2:-} >/dev/null
	# Calls after the marker write, minus the final exit_group.
	awk '/open-begins/ {on=1; next} on && !/exit_group|\+\+\+/ {n++} END {print n+0}' "$log"
	rm -f "$log"
}
rawmode=raw libmode=lib-legacy path="legacy container"
[ -n "$cdev" ] && rawmode=raw-cdev libmode=lib-iommufd path="cdev + iommufd"
lib=$(count $libmode) raw=$(count $rawmode) libw=$(count $libmode warm) raww=$(count $rawmode warm)
auto=$(count lib warm)
awk -v l="$libw" -v r="$raww" -v p="$path" 'BEGIN { printf "syscalls per device open+close (%s): library %d, raw minimum %d, ratio %.2f\n", p, l, r, l / r }'
echo "syscalls per device open+close with the backend left to the library (SVMBIND_BACKEND_AUTO): $auto"
awk -v l="$lib" -v r="$raw" 'BEGIN { printf "syscalls of the first open+close in a process: library %d, raw %d (the heap, the fork guard)\n", l, r }'
