#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# User-space instructions per bind+unbind, library vs raw ioctls, with callgrind
# (repeatable where wall time under TCG is not). Needs valgrind and a device
# whose kernel binds (the provider).
#   bench/callgrind.sh BUILD-DIR PCI-ADDRESS [N]
set -euo pipefail
build=$1 bdf=$2 n=${3:-200}
ir() {	# ir MODE COUNT: total instructions of the run
	local out
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" --trace-children=no \
		"$build/bench/bench_loop" "$1" "$bdf" "$2" >/dev/null 2>&1
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
	rm -f "$out"
}
for kind in self pid; do
	raw=$(( ($(ir raw-$kind "$n") - $(ir raw-$kind 0)) / n ))
	lib=$(( ($(ir lib-$kind "$n") - $(ir lib-$kind 0)) / n ))
	awk -v k="$kind" -v l="$lib" -v r="$raw" 'BEGIN { printf "user-space instructions per bind+unbind (%s): library %d, raw %d, ratio %.2f\n", k, l, r, l / r }'
done
