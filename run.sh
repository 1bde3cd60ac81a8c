#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The project's two jobs, on a fresh Debian 12 machine (as root, or with sudo):
#
#   ./run.sh demo   set up, build, boot Debian's kernel in QEMU with the reference
#                   provider, and bind address spaces to a device for real
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

# Debian packages the build and the fast tier need (the VM tier installs its own).
PKGS=(build-essential cmake pkg-config check libnl-3-dev libnl-genl-3-dev
      doxygen graphviz strace valgrind abigail-tools clang libclang-rt-14-dev groff-base python3)

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

vm() { tests/vm/vm.sh -v --timeout 600 --out "$BUILD/vm-out" "$@"; }

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
		case $s in *@@LIBSVMBIND_*) ;; *) echo "unversioned export: $s"; bad=1 ;; esac
		grep -q "\b${s%@@*}(" include/svmbind/*.h || { echo "export not in a public header: $s"; bad=1; }
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
		-c "$b/bench/bench_bind $c 2000 | tee \$SVMBIND_VM_OUT/bench.txt" \
		-c "bench/syscalls.sh $b $c \$(basename \$(readlink /sys/bus/pci/devices/$c/iommu_group)) | tee -a \$SVMBIND_VM_OUT/bench.txt" \
		-c "$b/tests/conformance"
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
	[ "${SVMBIND_SKIP_VM:-}" = 1 ] && { echo "SVMBIND_SKIP_VM=1: NOT run"; return 77; }
	STRESS_SECS=10 tests/vm/provider/selftest.sh -v --timeout 600
}

demo() {
	install_packages
	say "building"
	build "$BUILD"
	tests/vm/setup.sh
	local b=$BUILD c='${SVMBIND_LAB_DEVS##*,}'
	say "booting Debian's kernel in QEMU (emulated VT-d, edu devices)"
	vm --driver vfio-pci \
		-c "echo '--- stock vfio-pci: the kernel has no SVM bind, and the library says so'" \
		-c "$b/tools/svmbind-probe $c; true" \
		-c "$b/examples/bind_self $c; test \$? = 2" \
		--driver svmref \
		-c "echo '--- the reference provider (the seed UAPI): bind for real'" \
		-c "$b/tools/svmbind-probe $c" \
		-c "$b/examples/bind_self $c"
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
	step "host tier: pure logic on fixture bytes (CTest)" host_tier "$BUILD"
	step "host tier under ASan+UBSan" host_tier "$BUILD-asan"
	step "host tier under valgrind (leaks)" valgrind_tier
	step "QEMU tier: Debian's kernel, stock vfio-pci and the svmref provider: conformance, unit" vm_tier
	step "QEMU tier under ASan+UBSan: conformance, unit" vm_asan_tier
	step "QEMU tier: the provider's raw-ioctl selftest, stress, clean unload" provider_selftest
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
