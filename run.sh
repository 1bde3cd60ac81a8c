#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The project's two jobs, on a fresh Debian 12 machine (as root, or with sudo):
#
#   ./run.sh demo   set up, build, boot Debian's kernel in QEMU: the stock kernel's
#                   clear refusal, then the reference provider binding address
#                   spaces for real, with the seed's A/B flow end to end; then
#                   real SVA on our QEMU: the same A/B flow on the svm-dma device;
#                   one verdict per part, and one for the whole
#   ./run.sh test   set up, build, and run every test tier (what CI runs)
#
# Both install the Debian packages they need. Environment:
#   BUILD=DIR        build directory (default: build)
#   SVMBIND_SKIP_VM=1  skip the QEMU tier (says so; the run is then incomplete)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
JOBS=$(nproc)

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'run.sh: error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		die "need root to run: $* (run as root, or install sudo)"; fi
}

# Debian packages the build and the host tiers need (gcc-multilib: the 32-bit build;
# libsystemd-dev: the broker's sd_listen_fds(); the VM tiers install their own).
PKGS=(build-essential cmake pkg-config check libnl-3-dev libnl-genl-3-dev libsystemd-dev
      doxygen graphviz strace valgrind abigail-tools clang libclang-rt-14-dev groff-base python3
      gcc-multilib file util-linux)

install_packages() {
	local missing=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}

build() {	# build DIR [cmake args...]
	local dir=$1; shift
	cmake -S . -B "$dir" -DSVMBIND_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$JOBS" >/dev/null
}

# --- results: every step counts as passed or failed; the closing line sums them
passed=0 failed=0 skipped=0
failures=()
step() {	# step NAME COMMAND...
	local name=$1 rc=0; shift
	say "$name"
	"$@" || rc=$?
	if [ $rc -eq 0 ]; then passed=$((passed + 1)); echo "PASS: $name"
	elif [ $rc -eq 77 ]; then skipped=$((skipped + 1)); echo "SKIP: $name"
	else failed=$((failed + 1)); failures+=("$name"); echo "FAIL: $name (exit $rc)"; fi
}

vm() { tests/vm/vm.sh -v --timeout 900 --out "$BUILD/vm-out" "$@"; }
vm_to() { local out=$1; shift; tests/vm/vm.sh -v --timeout 900 --out "$out" "$@"; }
skip_vm() { [ "${SVMBIND_SKIP_VM:-}" = 1 ] && { echo "SVMBIND_SKIP_VM=1: the QEMU tier is NOT run"; return 0; }; return 1; }

# In the guest: device C (alone in its group), its group number, its VFIO cdev.
C='${SVMBIND_LAB_DEVS##*,}'
C_GROUP="\$(basename \$(readlink /sys/bus/pci/devices/$C/iommu_group))"
C_CDEV="\$(ls /sys/bus/pci/devices/$C/vfio-dev)"

# --- the host tier: the library's pure logic on fixture bytes (no kernel), CTest
host_tier() { ctest --test-dir "$1" --output-on-failure -j "$JOBS"; }

valgrind_tier() {
	# Leak and memory check of the pure tests (no fork: valgrind follows one process).
	CK_FORK=no valgrind --quiet --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
		"$BUILD/tests/pure"
}

exports_only_the_api() {
	# Every exported function is in the version map, versioned, and declared in a public header.
	local syms bad=0
	syms=$(nm -D --defined-only "$BUILD/lib/libsvmbind.so" | awk '$2 == "T" {print $3}')
	for s in $syms; do
		# name@@NODE: the default version; name@NODE: an older one kept for old programs
		case $s in *@LIBSVMBIND_*) ;; *) echo "unversioned export: $s"; bad=1 ;; esac
		grep -q "\b${s%%@*}(" include/svmbind/*.h || { echo "export not in a public header: $s"; bad=1; }
	done
	readelf -d "$BUILD/lib/libsvmbind.so" | grep -q 'SONAME.*libsvmbind.so.1' || { echo "SONAME"; bad=1; }
	return $bad
}

vm_tier() {
	local b=$BUILD c
	[ "${SVMBIND_SKIP_VM:-}" = 1 ] && { echo "SVMBIND_SKIP_VM=1: the QEMU tier is NOT run"; return 77; }
	tests/vm/setup.sh
	c='${SVMBIND_LAB_DEVS##*,}'	# device C, expanded in the guest
	# One boot: stock vfio-pci first, then the provider. The conformance run on the
	# provider goes last: its final case sets Yama to 3, which sticks until reboot.
	vm --driver vfio-pci \
		-c "$b/tests/conformance" \
		-c "$b/tests/unit" \
		-c "$b/tests/test_edu_dma" \
		-c "$b/examples/bind_self $c; test \$? = 2" \
		-c "$b/tools/svmbind-probe $c; test \$? = 1" \
		--driver svmref \
		-c "$b/tests/unit" \
		-c "$b/examples/bind_self $c" \
		-c "$b/tools/svmbind-probe $c" \
		-c "tests/docs/snippets.sh run $b/snippets $c" \
		-c "tests/docs/snippets.sh run $BUILD-m32/snippets $c" \
		-c "$BUILD-m32/policy_sizes" \
		-c "AB_BIN=$b/examples examples/ab_demo.sh" \
		-c "$b/bench/bench_bind $c 2000 | tee \$SVMBIND_VM_OUT/bench.txt" \
		-c "bench/syscalls.sh $b $c $C_GROUP | tee -a \$SVMBIND_VM_OUT/bench.txt" \
		-c "bench/callgrind.sh $b $c 100 | tee -a \$SVMBIND_VM_OUT/bench.txt" \
		-c "$b/tests/conformance"
}

# The newest-kernel tier: Debian's newest linux-source built by tests/vm/kernel/
# (cached), with iommufd and VFIO cdevs next to the legacy container. Every suite
# on both paths, stock and provider, and the unprivileged A/B flow (the owner is
# given only its group node: AUTO must fall back to the container); the provider
# conformance run that sets Yama 3 goes last.
new_kernel_tier() {
	local b=$BUILD c=$C
	skip_vm && return 77
	vm_to "$BUILD/vm-new" --kernel new --driver vfio-pci \
		-c "$b/tests/conformance" \
		-c "SVMBIND_TEST_BACKEND=legacy $b/tests/conformance" \
		-c "SVMBIND_TEST_BACKEND=legacy $b/tests/unit" \
		-c "$b/tests/test_edu_dma" \
		-c "$b/tools/svmbind-probe $c; test \$? = 1" \
		-c "AB_BIN=$b/examples examples/ab_demo.sh" \
		--driver svmref \
		-c "SVMBIND_TEST_BACKEND=legacy $b/tests/unit" \
		-c "$b/tools/svmbind-probe $c" \
		-c "$b/examples/bind_self $c" \
		-c "AB_BIN=$b/examples examples/ab_demo.sh" \
		-c "tests/docs/snippets.sh run $b/snippets $c" \
		-c "$b/bench/bench_bind $c 1000 | tee \$SVMBIND_VM_OUT/bench.txt" \
		-c "bench/syscalls.sh $b $c $C_GROUP $C_CDEV | tee -a \$SVMBIND_VM_OUT/bench.txt" \
		-c "bench/syscalls.sh $b $c $C_GROUP | tee -a \$SVMBIND_VM_OUT/bench.txt" \
		-c "SVMBIND_TEST_NO_LAST=1 $b/tests/conformance" \
		-c "SVMBIND_TEST_BACKEND=legacy $b/tests/conformance"
}

# No IOMMU at all, vfio's unsafe no-IOMMU mode: /dev/vfio/noiommu-N, the
# library's no-IOMMU container path.
noiommu_tier() {
	local b=$BUILD
	skip_vm && return 77
	vm_to "$BUILD/vm-noiommu" --kernel new --noiommu \
		--driver vfio-pci -c "$b/tests/conformance" \
		--driver svmref -c "$b/tests/conformance"
}

# 32-bit: the library with a 64-bit off_t (VFIO region offsets are index << 40),
# and the doc snippets linked against it (run in the VM by vm_tier).
m32_build() {
	cmake -S . -B "$BUILD-m32" -DSVMBIND_WERROR=ON -DCMAKE_C_FLAGS=-m32 -DSVMBIND_TESTS=OFF \
		-DSVMBIND_BENCH=OFF -DSVMBIND_DOCS=OFF -DSVMBIND_EXAMPLES=OFF -DSVMBIND_LIBNL=OFF \
		-DSVMBIND_LIBSYSTEMD=OFF >/dev/null || return 1
	local syms
	cmake --build "$BUILD-m32" -j "$JOBS" >"$BUILD-m32/build.log" 2>&1 || { cat "$BUILD-m32/build.log"; return 1; }
	file -L "$BUILD-m32/lib/libsvmbind.so" | grep 'ELF 32-bit' >/dev/null || { echo "not a 32-bit library"; return 1; }
	syms=$(nm -D "$BUILD-m32/lib/libsvmbind.so")
	grep -w 'mmap64' <<<"$syms" >/dev/null || { echo "mmap is not mmap64"; return 1; }
	! grep -w 'mmap' <<<"$syms" >/dev/null || { echo "a 32-bit off_t mmap is used"; return 1; }
	echo "32-bit libsvmbind maps regions with $(grep -w mmap64 <<<"$syms" | awk '{print $2}')"
	# The broker policy's list sizes where size_t is 32 bits (run in the VM: the
	# host may not run 32-bit programs).
	cc -m32 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -I"$BUILD-m32/include" -Ilib/broker \
		tests/broker/policy_sizes.c lib/broker/policy.c -o "$BUILD-m32/policy_sizes" || return 1
	tests/docs/snippets.sh build "$BUILD-m32" "$BUILD-m32/snippets" -m32
}

snippets_build() { tests/docs/snippets.sh build "$BUILD" "$BUILD/snippets"; }

# Real SVA: our QEMU (tests/vm/qemu/, built once, cached) with VT-d in scalable
# mode and our PASID device (svm-dma), the newest kernel, the provider binding
# through iommu_sva_bind_device(): device DMA translated through B's page tables.
vm_sva_tier() {
	local b=$BUILD
	skip_vm && return 77
	vm_to "$BUILD/vm-sva" --kernel new --sva --driver svmref \
		-c "$b/tests/sva/svacheck" -c "$b/tests/sva/sva_dma" \
		-c "set -o pipefail; $b/tests/sva/sva_dma --bench | tee \$SVMBIND_VM_OUT/bench-sva.txt" \
		-c "! dmesg | grep -E 'WARNING:|BUG:|Call Trace:'"
}

# Whether every directory on the way to PATH lets other users through (o+x).
others_can_reach() {	# PATH
	local p
	p=$(readlink -f "$1")
	while [ "$p" != / ]; do
		p=$(dirname "$p")
		[ $((0$(stat -c %a "$p") & 1)) = 1 ] || return 1
	done
}

# The seed's A/B flow on the svm-dma device (A drives its DMA with B's PASID,
# an untouched page of B's comes in by PRI), run by service users from a
# checkout they cannot reach, as a clone under /root (0700 on Debian 12) is:
# from this checkout when it is such a one, else from a copy of what the flow
# runs, placed under a fresh 0700 directory.
ab_sva_0700_tier() {
	local b src=$ROOT d= rc=0
	skip_vm && return 77
	b=$(cd "$BUILD" && pwd)
	if others_can_reach "$ROOT/examples"; then
		d=$(mktemp -d)	# 0700
		mkdir -p "$d/checkout/examples" "$d/checkout/build/examples" "$d/checkout/build/lib"
		cp examples/ab_demo.sh "$d/checkout/examples/"
		cp "$b/examples/ab_owner" "$b/examples/ab_client" "$d/checkout/build/examples/"
		cp -P "$b"/lib/libsvmbind.so* "$d/checkout/build/lib/"
		src=$d/checkout
		b=$d/checkout/build
		echo "$ROOT is open to other users: the flow runs from a copy under a fresh 0700 directory ($d)"
	else
		echo "$ROOT is under a directory other users cannot traverse: the flow runs from it"
	fi
	vm_to "$BUILD/vm-ab-sva" --kernel new --sva --driver svmref \
		-c "AB_BIN=$b/examples $src/examples/ab_demo.sh" || rc=$?
	[ -z "$d" ] || rm -rf "$d"
	return $rc
}

# The seed's flow on a stock kernel: STOCK vfio-pci on the svm-dma devices, a PASID
# attached through iommufd to a per-client address space holding a memfd at the
# client's addresses, page requests served in user space (include/svmbind/space.h).
# rawcheck proves the kernel's pieces with raw ioctls; test_space the library;
# test_broker_space the broker's bonds made of such spaces (B shares memfds, A's
# device works at B's addresses); ab_demo the seed's A/B flow that way, by
# service users, on the stock driver. In the same boot, bench_space on the
# provider first (real SVA), then on vfio-pci: the page request served in user
# space against the kernel's SVA fault-in, and MiB/s against IOVA (bench/space.sh
# prints the ratios; nothing asserted, but the bench must run).
vm_pasid_tier() {
	local b=$BUILD out=$BUILD/vm-pasid rc=0 r=0
	skip_vm && return 77
	rm -f "$out"/bench-space-*.txt
	vm_to "$out" --kernel new --sva \
		--driver svmref \
		-c "set -o pipefail; $b/bench/bench_space sva | tee \$SVMBIND_VM_OUT/bench-space-sva.txt" \
		--driver vfio-pci \
		-c "$b/tests/pasid/rawcheck" -c "$b/tests/pasid/test_space" \
		-c "$b/tests/pasid/test_broker_space" \
		-c "AB_BIN=$b/examples examples/ab_demo.sh" \
		-c "set -o pipefail; $b/bench/bench_space space | tee \$SVMBIND_VM_OUT/bench-space-space.txt" \
		-c "! dmesg | grep -E 'WARNING:|BUG:|Call Trace:'" || rc=$?
	if [ -f "$out/bench-space-sva.txt" ] && [ -f "$out/bench-space-space.txt" ]; then
		bench/space.sh --ratios "$out/bench-space-sva.txt" "$out/bench-space-space.txt" || r=$?
		[ "$r" = 0 ] || [ "$r" = 77 ] || [ "$rc" != 0 ] || rc=$r
	elif [ "$rc" = 0 ]; then
		echo "bench_space left no output in $out"
		rc=1
	fi
	return $rc
}

# Debian packages (debian/): built out of the tree in $BUILD/deb, lintian with
# no warning, installed with dpkg in the VM's throwaway root; consumers against
# the -dev package alone (pkg-config, find_package), svmbind-probe from the
# package on Debian's kernel. Fails first, and says what to change, when
# debian/changelog or the symbols file lag CMakeLists.txt or the version map.
packaging_tier() { tests/packaging/check.sh "$BUILD"; }

# The broker's Check suite on the provider, and its parser's fuzz target (bounded).
broker_tier() {
	skip_vm && return 77
	tests/broker/vm-tests.sh "$BUILD" "${SVMBIND_FUZZ_SECS:-60}" --out "$BUILD/vm-broker"
}

# The broker's Check suite on the newest kernel (SO_PEERPIDFD, pidfs); no fuzzing.
broker_new_kernel_tier() {
	skip_vm && return 77
	tests/broker/vm-tests.sh "$BUILD" 0 --kernel new --out "$BUILD/vm-broker-new"
}


vm_asan_tier() {
	# The same suites built with ASan+UBSan, in a boot of their own (Yama 3 is
	# sticky); LeakSanitizer on. unit preloads its fault injector itself.
	local b=$BUILD-asan
	[ "${SVMBIND_SKIP_VM:-}" = 1 ] && { echo "SVMBIND_SKIP_VM=1: the QEMU tier is NOT run"; return 77; }
	tests/vm/vm.sh -v --timeout 600 --out "$b/vm-out" \
		-e ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 -e UBSAN_OPTIONS=print_stacktrace=1 \
		--driver vfio-pci -c "$b/tests/conformance" -c "$b/tests/unit" \
		--driver svmref -c "$b/tests/unit" -c "$b/tests/conformance"
}

provider_selftest() {
	skip_vm && return 77
	STRESS_SECS=10 tests/vm/provider/selftest.sh -v --timeout 600
}

provider_selftest_new() {
	skip_vm && return 77
	STRESS_SECS=10 tests/vm/provider/selftest.sh -v --timeout 600 --kernel new
}

# --- the demo: three parts, each with its verdict, then one for the whole
demo_fails=0
demo_verdicts=()

# Did the commands [first..last] of a kept VM run pass, and did they keep quiet?
# On success no library warning may appear, and library errors only inside a
# step announced as showing a refusal on purpose ("on purpose" in its "==" or
# "---" heading).
part_verdict() {	# NAME OUT FIRST LAST
	local name=$1 out=$2 first=$3 last=$4 i rc bad=() noisy
	for ((i = first; i <= last; i++)); do
		rc=$(cat "$out/rc.$i" 2>/dev/null || echo none)
		[ "$rc" = 0 ] || bad+=("command $i exit $rc")
	done
	noisy=$(awk -v a="$first" -v b="$last" '
		/^svmvm: \[[0-9]+\] driver=/ { n = substr($2, 2) + 0; next }
		/^svmvm: / { next }
		n < a || n > b { next }
		/^(== |--- )/ { sec = $0 }
		/libsvmbind: warn:/ || (/libsvmbind: error:/ && sec !~ /on purpose/) { c++ }
		END { print c + 0 }' n=-1 "$out/console.log" 2>/dev/null || echo "?")
	[ "$noisy" = 0 ] || bad+=("$noisy unexpected library warning/error line(s)")
	if [ ${#bad[@]} -eq 0 ]; then
		demo_verdicts+=("PASS: $name")
	else
		demo_verdicts+=("FAIL: $name (${bad[*]})")
		demo_fails=$((demo_fails + 1))
	fi
	echo "${demo_verdicts[-1]}"
}

demo() {
	install_packages
	say "building"
	build "$BUILD"
	tests/vm/setup.sh
	local b=$BUILD c=$C out
	say "booting Debian 12's kernel in QEMU (emulated VT-d, edu devices)"
	out=$BUILD/vm-demo
	rm -rf "$out"
	vm_to "$out" -k --driver vfio-pci \
		-c "echo '--- stock vfio-pci: the kernel has no SVM bind, and the library says so (a refusal, on purpose)'" \
		-c "$b/tools/svmbind-probe $c; true" \
		-c "$b/examples/bind_self $c; test \$? = 2" \
		-c "AB_BIN=$b/examples examples/ab_demo.sh" \
		--driver svmref \
		-c "echo '--- the reference provider (the seed UAPI) on Debian 12: bind for real, the device emulated'" \
		-c "$b/tools/svmbind-probe $c" \
		-c "$b/examples/bind_self $c" \
		-c "echo '--- the seed flow: A owns the device, B asks to be bound, A works on B memory'" \
		-c "AB_BIN=$b/examples examples/ab_demo.sh" || true
	part_verdict "Debian 12, stock vfio-pci: no SVM bind, said clearly to A and to B" "$out" 0 3
	part_verdict "Debian 12, the reference provider: the seed's A/B flow through the broker (emulated DMA)" "$out" 4 8
	say "real SVA: the newest kernel on our QEMU; A drives the svm-dma device with B's PASID, the IOMMU walks B's page tables"
	out=$BUILD/vm-sva-demo
	rm -rf "$out"
	vm_to "$out" -k --kernel new --sva --driver svmref \
		-c "AB_BIN=$b/examples examples/ab_demo.sh" \
		--driver vfio-pci \
		-c "echo '--- stock vfio-pci, no module: the same flow through PASID spaces (only what B shared, pinned)'" \
		-c "AB_BIN=$b/examples examples/ab_demo.sh" || true
	part_verdict "real SVA: the seed's A/B flow through the broker on the svm-dma device (B's buffers by PASID-tagged DMA, an untouched page by PRI)" "$out" 0 0
	part_verdict "stock kernel, no module: the same A/B flow through iommufd PASID spaces (B's shared memfd at B's addresses, page requests served by A)" "$out" 1 2
	echo
	printf '%s\n' "${demo_verdicts[@]}"
	if [ "$demo_fails" = 0 ]; then
		echo "demo: PASS (${#demo_verdicts[@]} of ${#demo_verdicts[@]} parts)"
	else
		echo "demo: FAIL ($demo_fails of ${#demo_verdicts[@]} parts failed)"
		return 1
	fi
}

test_all() {
	install_packages
	say "building (gcc, -Werror) and with ASan+UBSan"
	build "$BUILD"
	build "$BUILD-asan" -DSVMBIND_SANITIZE=ON -DSVMBIND_BENCH=OFF -DSVMBIND_DOCS=OFF
	step "exports: only the versioned public API" exports_only_the_api
	step "consumers: install, pkg-config, find_package, each header alone (C11, C++17), man pages" \
		tests/consumers/check.sh "$BUILD"
	step "ABI: abidiff against abi/*.abi, version node = project version" abi/check.sh "$BUILD"
	step "Debian packages: versions agree, build, lintian clean, installed in the VM, consumers, svmbind-probe" \
		packaging_tier
	step "docs: every C snippet of README.md and docs/ compiles (run in the VM below)" snippets_build
	step "32-bit build: 64-bit off_t (mmap64), the snippets linked against it" m32_build
	step "host tier: pure logic on fixture bytes (CTest)" host_tier "$BUILD"
	step "host tier under ASan+UBSan" host_tier "$BUILD-asan"
	step "host tier under valgrind (leaks)" valgrind_tier
	step "QEMU tier: Debian's kernel, stock vfio-pci and the svmref provider: conformance, unit" vm_tier
	step "QEMU tier under ASan+UBSan: conformance, unit" vm_asan_tier
	step "QEMU tier: the provider's raw-ioctl selftest, stress, clean unload" provider_selftest
	step "QEMU tier: the bind broker (Check suite on the provider) and its parser's fuzz target" \
		broker_tier
	step "newest-kernel tier: Debian's newest kernel, iommufd + cdev and legacy paths, stock and provider" \
		new_kernel_tier
	step "newest-kernel tier: the bind broker's Check suite there (SO_PEERPIDFD, pidfs)" \
		broker_new_kernel_tier
	step "newest-kernel tier: the provider's selftest there" provider_selftest_new
	step "newest-kernel tier: no-IOMMU mode" noiommu_tier
	step "real SVA: our QEMU's PASID device, VT-d walking B's page tables, the provider binding for real" \
		vm_sva_tier
	step "real SVA: the seed's A/B flow through the broker on the svm-dma device (PRI fault-in), run by service users from a checkout they cannot reach (0700)" \
		ab_sva_0700_tier
	step "stock kernel, no provider: a PASID of the svm-dma device attached through iommufd to a per-client address space (memfd at the client's addresses, page requests served in user space), the broker's bonds made of it, and the A/B flow on the stock driver" \
		vm_pasid_tier
	echo
	[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

case ${1:-} in
	demo) demo ;;
	test) test_all ;;
	*) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
