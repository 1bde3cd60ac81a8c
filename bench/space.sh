#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The PASID-space path against real SVA and a plain IOVA mapping, in ONE boot
# of the SVA VM (our QEMU, the newest kernel, the svm-dma device with PRI):
#
#   bench/space.sh BUILD [OUT]
#       bench_space sva on the provider (svmref: the kernel serves the device's
#       page requests), then bench_space space on stock vfio-pci (PASID spaces:
#       page requests served in user space); OUT (default BUILD/bench-space)
#       keeps sva.txt, space.txt and the console log; then the ratios.
#   bench/space.sh --ratios SVA.TXT SPACE.TXT
#       the ratios of two outputs of that boot (run.sh's vm_pasid_tier).
#
# Nothing is asserted. Exit 0; 77 when the bench could not run here; else a failure.
set -euo pipefail

die() { printf 'space.sh: error: %s\n' "$*" >&2; exit 1; }

# ratios SVA.TXT SPACE.TXT: key=value lines, then the same in words.
ratios() {
	local f
	for f in "$1" "$2"; do
		[ -f "$f" ] || die "no $f"
		if grep -q 'SKIP' "$f"; then cat "$f"; return 77; fi
	done
	awk -F= '
		FNR == 1 { mode = (NR == FNR) ? "sva" : "space" }
		/^[a-z_]+=/ { v[mode "." $1] = $2 }
		function need(k) { if (!(k in v)) { printf "space.sh: error: no %s in the output\n", k > "/dev/stderr"; bad = 1 } return v[k] + 0 }
		END {
			touched = need("sva.sva_onepage_touched_us"); faultin = need("sva.sva_onepage_faultin_us")
			kern = need("sva.sva_faultin_us"); sva_q = need("sva.sva_over_iova")
			sva_mib = need("sva.sva_mibps"); sva_iova = need("sva.iova_mibps")
			placed = need("space.space_onepage_placed_us"); demand = need("space.space_onepage_ondemand_us")
			user = need("space.space_pagereq_us"); sp_q = need("space.space_over_iova")
			sp_mib = need("space.space_mibps"); sp_iova = need("space.iova_mibps")
			if (bad || kern <= 0 || touched <= 0 || faultin <= 0 || placed <= 0) { print "space.sh: error: figures missing or not positive" > "/dev/stderr"; exit 1 }
			printf "ratio_pagereq_user_over_kernel=%.2f\n", user / kern
			printf "ratio_onepage_placed_over_touched=%.2f\n", placed / touched
			printf "ratio_onepage_ondemand_over_faultin=%.2f\n", demand / faultin
			printf "ratio_onepage_ondemand_over_placed=%.2f\n", demand / placed
			printf "ratio_onepage_faultin_over_touched=%.2f\n", faultin / touched
			printf "norm_mibps_space=%.2f\nnorm_mibps_sva=%.2f\nnorm_mibps_iova=1\n", sp_q, sva_q
			printf "page-request round trip: served in user space (PASID space: on-demand minus placed copy) %.1f us, " \
			       "served by the kernel (SVA fault-in: never-touched minus touched copy) %.1f us: user/kernel %.2f\n", user, kern, user / kern
			printf "one-page copy: placed %.1f us vs touched %.1f us (space/SVA %.2f); on-demand %.1f us vs fault-in %.1f us (space/SVA %.2f); " \
			       "on-demand/placed %.2f, fault-in/touched %.2f\n", placed, touched, placed / touched, demand, faultin, demand / faultin, demand / placed, faultin / touched
			printf "1 MiB copies, MiB/s normalised to IOVA = 1: PASID space %.2f : SVA %.2f : IOVA 1 " \
			       "(each against the IOVA copies of its own mode, same boot: %.0f MiB/s on vfio-pci, %.0f on svmref; raw: space %.0f, SVA %.0f MiB/s)\n", \
			       sp_q, sva_q, sp_iova, sva_iova, sp_mib, sva_mib
			print "(medians; TCG on one vCPU: only ratios mean anything)"
		}' "$1" "$2"
}

if [ "${1:-}" = --ratios ]; then
	[ $# = 3 ] || die "usage: space.sh --ratios SVA.TXT SPACE.TXT"
	ratios "$2" "$3"
	exit
fi
{ [ $# -ge 1 ] && [ $# -le 2 ]; } || die "usage: space.sh BUILD [OUT] | space.sh --ratios SVA.TXT SPACE.TXT"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
b=$(cd "$1" && pwd) || die "no build directory $1"
[ -x "$b/bench/bench_space" ] || die "no $b/bench/bench_space: build first"
out=${2:-$b/bench-space}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/sva.txt" "$out/space.txt"
rc=0
tests/vm/vm.sh --timeout 600 --out "$out" --kernel new --sva \
	--driver svmref -c "set -o pipefail; $b/bench/bench_space sva | tee \$SVMBIND_VM_OUT/sva.txt" \
	--driver vfio-pci -c "set -o pipefail; $b/bench/bench_space space | tee \$SVMBIND_VM_OUT/space.txt" || rc=$?
[ "$rc" = 0 ] || { echo "space.sh: the VM run failed (exit $rc); console: $out/console.log"; exit "$rc"; }
cat "$out/sva.txt" "$out/space.txt"
ratios "$out/sva.txt" "$out/space.txt"
