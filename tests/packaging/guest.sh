#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# In the VM (tests/vm/vm.sh: the host's root filesystem under an overlay that
# vanishes at power-off), libsvmbind's Debian packages as a user gets them:
#   1. the root is clean: no libsvmbind installed, none found by pkg-config,
#      the dynamic linker or the shell;
#   2. dpkg installs libsvmbind1, libsvmbind-dev and svmbind-tools;
#   3. a program builds with `pkg-config --cflags --libs libsvmbind` alone,
#      loads the packaged library through the system's linker, and runs;
#   4. a CMake project finds the package with find_package(svmbind) and no
#      hint (no CMAKE_PREFIX_PATH), builds a C and a C++ program, they run;
#   5. for each version node of lib/libsvmbind.map, a program that uses a
#      symbol of that node gets "libsvmbind1 (>= X.Y.0)" from dpkg-shlibdeps
#      (the installed symbols file);
#   6. svmbind-probe from the package runs on the machine and on a device
#      (bound to stock vfio-pci: the kernel has no SVM bind, exit 1), also as
#      JSON; man finds svmbind-probe(1) and svm_bind_pid(3);
#   7. dpkg --purge removes all three and leaves none of their files.
#
# usage: tests/packaging/guest.sh DEB-DIR PCI-ADDRESS
#   DEB-DIR holds the .deb files and the .changes of one build
#   (tests/packaging/check.sh); run as root in the VM only.
# Exit 0 when every check passed, 1 when one failed, 2 on usage.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

if [ $# -ne 2 ] || [ ! -d "$1" ]; then
	echo "usage: $0 DEB-DIR PCI-ADDRESS   (in the VM, as root)" >&2
	exit 2
fi
if [ "${SVMBIND_VM:-}" != 1 ]; then
	echo "$0: runs in the VM only (tests/vm/vm.sh): it installs packages into the root" >&2
	exit 2
fi
DEBS=$(cd "$1" && pwd)
DEV=$2
PKGS=(libsvmbind1 libsvmbind-dev svmbind-tools)
unset LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH LIBRARY_PATH CPATH C_INCLUDE_PATH

failures=()
npass=0
ok() { npass=$((npass + 1)); echo "ok:   $*"; }
section() { echo "== $* (at ${SECONDS}s)"; }
fail() { failures+=("$*"); echo "FAIL: $*"; }
WORK=$(mktemp -d /tmp/svmbind-pkg.XXXXXX)
LOGS=$WORK/logs
mkdir -p "$LOGS"
run() {	# run NAME CMD...: output in a log, shown on failure
	local name=$1 rc=0 log
	shift
	log=$LOGS/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_').log
	"$@" >"$log" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		echo "---- $name: exit $rc: $*"
		sed 's/^/    | /' "$log" | tail -30
		echo "----"
	fi
	return $rc
}
finish() {
	echo
	if [ ${#failures[@]} -eq 0 ]; then echo "packages in the VM: all $npass checks passed"; exit 0; fi
	echo "packages in the VM: $npass passed, ${#failures[@]} FAILED:"
	printf '  - %s\n' "${failures[@]}"
	exit 1
}

ma=$(gcc -print-multiarch)
libdir=/usr/lib/$ma
version=$(sed -n 's/^Version: //p' "$DEBS"/*.changes | head -1)
debs=()
for p in "${PKGS[@]}"; do
	d=$(find "$DEBS" -maxdepth 1 -name "${p}_${version}_*.deb" | head -1)
	[ -n "$d" ] && debs+=("$d")
done

# ---------------------------------------------------------------- 1. clean root
section "1. a root without libsvmbind"
installed=$(dpkg-query -W -f='${binary:Package} ${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null | grep ' installed$')
if [ -z "$installed" ] && ! pkg-config --exists libsvmbind && ! ldconfig -p | grep -q 'libsvmbind\.so' &&
   ! command -v svmbind-probe >/dev/null; then
	ok "no libsvmbind package, pkg-config module, shared library or svmbind-probe before the install"
else
	fail "the root is not clean before the install: ${installed:-pkg-config, ldconfig or PATH finds libsvmbind}"
	finish
fi

# ---------------------------------------------------------------- 2. install
section "2. dpkg -i ${PKGS[*]} $version"
if [ ${#debs[@]} -ne ${#PKGS[@]} ]; then
	fail "$DEBS lacks one of ${PKGS[*]} at version '$version'"
	finish
fi
# man-db's trigger would index every man page of the host's root under TCG.
rm -f /var/lib/man-db/auto-update
if run "dpkg -i" dpkg -i "${debs[@]}"; then
	ok "dpkg -i ${debs[*]##*/}"
else
	fail "dpkg -i of the three packages"
	finish
fi
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$p" 2>/dev/null)
	if [ "$st" = "installed $version" ]; then ok "$p $version is installed"; else fail "$p: '$st'"; fi
done

# loads_packaged BIN: the system's dynamic linker resolves libsvmbind to the package's file.
loads_packaged() {
	local where
	where=$(ldd "$1" 2>/dev/null | awk '/libsvmbind\.so/ {print $3}')
	# (/lib is /usr/lib on Debian 12: compare the files, not the spellings)
	if [ -n "$where" ] && [ "$(readlink -f "$where")" = "$(readlink -f "$libdir/libsvmbind.so.1")" ] &&
	   dpkg -S "$libdir/libsvmbind.so.1" 2>/dev/null | grep -q '^libsvmbind1:'; then
		ok "$(basename "$1") loads $where = libsvmbind1's $libdir/libsvmbind.so.1"
	else
		fail "$(basename "$1") loads libsvmbind from '${where:-nowhere}', not libsvmbind1's $libdir/libsvmbind.so.1"
	fi
}

# ---------------------------------------------------------------- 3. pkg-config
section "3. pkg-config consumer"
mkdir -p "$WORK/pc"
cp "$REPO/tests/consumers/consumer.c" "$WORK/pc/"
modv=$(pkg-config --modversion libsvmbind 2>&1)
if [ "$modv" = "${version%-*}" ]; then ok "pkg-config --modversion libsvmbind: $modv"
else fail "pkg-config --modversion libsvmbind: '$modv', want ${version%-*}"; fi
pcdir=$(pkg-config --variable=pcfiledir libsvmbind 2>/dev/null)
if [ "$pcdir" = "$libdir/pkgconfig" ]; then ok "libsvmbind.pc found in $pcdir"
else fail "libsvmbind.pc found in '$pcdir', want $libdir/pkgconfig"; fi
flags=$(pkg-config --cflags --libs libsvmbind)
# Installed in the system directories: nothing but the library itself.
if [ "$(echo $flags)" = -lsvmbind ]; then ok "pkg-config --cflags --libs libsvmbind: $flags (no system -I/-L)"
else fail "pkg-config --cflags --libs libsvmbind: '$flags', want '-lsvmbind' (system directories spelt absolutely)"; fi
# shellcheck disable=SC2086  # flags are words
if run "pkg-config build" cc -std=c11 -Wall -Wextra -Werror -o "$WORK/pc/consumer" "$WORK/pc/consumer.c" $flags; then
	ok "cc -std=c11 consumer.c $flags"
	loads_packaged "$WORK/pc/consumer"
	if run "pkg-config consumer" "$WORK/pc/consumer"; then ok "consumer runs: $(head -1 "$LOGS/pkg-config_consumer.log")"
	else fail "the pkg-config consumer does not run"; fi
else
	fail "the pkg-config consumer does not build"
fi

# ---------------------------------------------------------------- 4. CMake
section "4. CMake consumer: find_package(svmbind) with no hint"
mkdir -p "$WORK/cmake-src"
cp "$REPO/tests/consumers/cmake/CMakeLists.txt" "$REPO/tests/consumers/consumer.c" \
	"$REPO/tests/consumers/consumer_cxx.cpp" "$WORK/cmake-src/"
if run "cmake configure" cmake -S "$WORK/cmake-src" -B "$WORK/cmake-build"; then
	dir=$(sed -n 's/^svmbind_DIR:PATH=//p' "$WORK/cmake-build/CMakeCache.txt")
	if [ "$dir" = "$libdir/cmake/svmbind" ]; then ok "find_package(svmbind) found $dir"
	else fail "find_package(svmbind) found '$dir', want the package's $libdir/cmake/svmbind"; fi
	if run "cmake build" cmake --build "$WORK/cmake-build"; then
		ok "C and C++ consumers build against svmbind::svmbind"
		for prog in consumer consumer_cxx; do
			loads_packaged "$WORK/cmake-build/$prog"
			if run "cmake $prog" "$WORK/cmake-build/$prog"; then ok "$prog runs"; else fail "$prog does not run"; fi
		done
	else
		fail "the CMake consumers do not build"
	fi
else
	fail "find_package(svmbind) failed (cmake configure)"
fi

# ---------------------------------------------------------------- 5. symbols
section "5. the symbols file: a symbol of node X.Y needs libsvmbind1 (>= X.Y.0)"
mkdir -p "$WORK/shlibs/debian"
printf 'Source: consumer\n\nPackage: consumer\nArchitecture: any\n' >"$WORK/shlibs/debian/control"
headers=$(cd /usr/include && ls svmbind/*.h)
# The first symbol of each node: "NODE SYMBOL".
# (no process substitution: the guest has no /dev/fd)
firsts_txt=$(awk '/^LIBSVMBIND_[0-9]+\.[0-9]+ *\{/ {node=$1; want=1; next}
	want && /^[[:space:]]+[a-z_0-9]+;/ {gsub(/[[:space:];]/, ""); print node, $0; want=0}' \
	"$REPO/lib/libsvmbind.map")
mapfile -t firsts <<<"$firsts_txt"
[ -n "$firsts_txt" ] || firsts=()
[ ${#firsts[@]} -gt 0 ] || fail "no version node read from lib/libsvmbind.map"
for f in "${firsts[@]}"; do
	node=${f% *} sym=${f#* }
	want="libsvmbind1 (>= ${node#LIBSVMBIND_}.0)"
	src=$WORK/shlibs/use_$sym.c
	{ for h in $headers; do echo "#include <$h>"; done
	  echo "int main(void) { void *volatile p = (void *)$sym; return p == (void *)0; }"; } >"$src"
	if ! run "build use_$sym" cc -o "$WORK/shlibs/use_$sym" "$src" $flags; then
		fail "a program that uses $sym ($node) does not build"
		continue
	fi
	got=$(cd "$WORK/shlibs" && dpkg-shlibdeps -O "use_$sym" 2>"$LOGS/shlibdeps_$sym.log" |
		grep -o 'libsvmbind1 ([^)]*)')
	if [ "$got" = "$want" ]; then ok "$sym ($node): dpkg-shlibdeps says $got"
	else fail "$sym ($node): dpkg-shlibdeps says '${got:-nothing}', want '$want'"; fi
done

# ---------------------------------------------------------------- 6. svmbind-probe
section "6. svmbind-probe from svmbind-tools"
probe=$(command -v svmbind-probe)
if [ "$probe" = /usr/bin/svmbind-probe ] && dpkg -S "$probe" 2>/dev/null | grep -q '^svmbind-tools:'; then
	ok "svmbind-probe is /usr/bin/svmbind-probe of svmbind-tools"
	loads_packaged "$probe"
	rc=0
	svmbind-probe >"$LOGS/probe.txt" 2>&1 || rc=$?
	if [ $rc -le 1 ] && grep -q '^Result: ' "$LOGS/probe.txt"; then
		ok "svmbind-probe: exit $rc, $(grep '^Result: ' "$LOGS/probe.txt")"
	else
		fail "svmbind-probe: exit $rc"; sed 's/^/    | /' "$LOGS/probe.txt" | tail -20
	fi
	rc=0
	svmbind-probe "$DEV" >"$LOGS/probe-dev.txt" 2>&1 || rc=$?
	sed 's/^/    | /' "$LOGS/probe-dev.txt"
	if [ $rc -eq 1 ] && grep -qi 'dialect.*none' "$LOGS/probe-dev.txt"; then
		ok "svmbind-probe $DEV: exit 1, the kernel has no SVM bind (dialect none) on stock ${SVMBIND_LAB_DRIVER:-vfio-pci}"
	else
		fail "svmbind-probe $DEV: exit $rc, want 1 and dialect none on stock vfio-pci"
	fi
	rc=0
	svmbind-probe --json "$DEV" >"$LOGS/probe.json" 2>&1 || rc=$?
	if [ $rc -eq 1 ] && python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
assert d["version"] == sys.argv[2], d["version"]; assert d["device"]["dialect"] == "none", d["device"]' \
		"$LOGS/probe.json" "${version%-*}" 2>"$LOGS/probe.json.err"; then
		ok "svmbind-probe --json $DEV: exit 1, JSON of version ${version%-*}, dialect none"
	else
		fail "svmbind-probe --json $DEV: exit $rc, $(tail -1 "$LOGS/probe.json.err")"
	fi
else
	fail "svmbind-probe is '${probe:-not on PATH}', not svmbind-tools' /usr/bin/svmbind-probe"
fi
# The function pages are links (.so) to their group's page: man -w names the target.
for page in "1 svmbind-probe svmbind-tools" "3 svm_bind_pid libsvmbind-dev" "3 svmbind_ctx_new libsvmbind-dev"; do
	read -r sec name owner <<<"$page"
	where=$(man -w "$sec" "$name" 2>/dev/null)
	if [[ $where == /usr/share/man/man$sec/*.$sec.gz ]] && dpkg -S "$where" 2>/dev/null | grep -q "^$owner:"; then
		ok "man $sec $name: $where ($owner)"
	else
		fail "man $sec $name: '${where:-not found}', not a page of $owner"
	fi
done

# ---------------------------------------------------------------- 7. purge
section "7. dpkg --purge"
files_txt=$(dpkg -L "${PKGS[@]}" 2>/dev/null |
	grep -E "^(/usr/include/svmbind|$libdir/(libsvmbind|cmake/svmbind|pkgconfig/libsvmbind)|/usr/bin/svmbind|/usr/share/man/man[13]/svm)")
mapfile -t files <<<"$files_txt"
if run "dpkg --purge" dpkg --purge "${PKGS[@]}"; then
	left=()
	for f in "${files[@]}"; do [ -e "$f" ] || [ -L "$f" ] && left+=("$f"); done
	if [ ${#left[@]} -eq 0 ] && ! pkg-config --exists libsvmbind; then
		ok "dpkg --purge ${PKGS[*]} leaves none of their ${#files[@]} files"
	else
		fail "after dpkg --purge: ${left[*]:-pkg-config still finds libsvmbind}"
	fi
else
	fail "dpkg --purge ${PKGS[*]}"
fi

finish
