#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# libsvmbind's Debian packages, built by the project's own debian/ and used
# as a Debian user gets them:
#   1. debian/changelog and the symbols file agree with CMakeLists.txt's
#      version and lib/libsvmbind.map's nodes (versions.sh);
#   2. the tracked sources (git ls-files, as they are in the working tree)
#      are copied to BUILD-DIR/deb/src;
#   3. the build dependencies of debian/control are installed (apt-get
#      build-dep on that copy when some are missing, as root), and lintian;
#   4. dpkg-buildpackage -b -us -uc builds the packages there, tests off
#      (DEB_BUILD_OPTIONS=nocheck): every artifact lands in BUILD-DIR/deb/;
#   5. the three packages hold what they should: libsvmbind1 the library in
#      the multiarch libdir with its symbols file and real dependencies on
#      libnl-3 and libsystemd (linked, not vendored); libsvmbind-dev the
#      headers, the .so link, libsvmbind.pc, the CMake package and a section 3
#      man page for each exported function; svmbind-tools svmbind-probe and
#      its man page;
#   6. lintian --fail-on error,warning on the .changes (the three packages
#      and their debug symbols): no error, no warning;
#   7. in the VM on Debian 12's kernel (tests/vm/vm.sh, the host's root under
#      a throwaway overlay): guest.sh installs the packages with dpkg, builds
#      consumers against the -dev package alone (pkg-config, find_package),
#      checks the symbols file's minimum versions, runs svmbind-probe from
#      the package, and purges them.
#
# usage: tests/packaging/check.sh BUILD-DIR
# Environment: SVMBIND_SKIP_VM=1 stops after 6 and exits 77 (incomplete);
#   JOBS (default nproc) for the package build.
# Exit 0 when every check passed, 1 when one failed, 2 on usage, 77 when the
# VM part was skipped.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD-DIR   (the packages are built in BUILD-DIR/deb)" >&2
	exit 2
fi
mkdir -p "$1" || exit 2
BUILD=$(cd "$1" && pwd)
OUT=$BUILD/deb
SRC=$OUT/src
JOBS=${JOBS:-$(nproc)}
PKGS=(libsvmbind1 libsvmbind-dev svmbind-tools)

failures=()
npass=0
ok() { npass=$((npass + 1)); echo "ok:   $*"; }
fail() { failures+=("$*"); echo "FAIL: $*"; }
finish() {	# finish [EXIT-IF-PASSED]
	echo
	if [ ${#failures[@]} -eq 0 ]; then
		echo "packaging: all $npass checks passed${1:+ (the VM part was NOT run: incomplete)}"
		exit "${1:-0}"
	fi
	echo "packaging: $npass passed, ${#failures[@]} FAILED:"
	printf '  - %s\n' "${failures[@]}"
	exit 1
}
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		echo "need root to run: $*" >&2; return 1; fi
}

# ---------------------------------------------------------------- 1. versions
echo "== 1. debian/ agrees with CMakeLists.txt and lib/libsvmbind.map"
if "$HERE/versions.sh" "$REPO"; then
	ok "debian/changelog and debian/libsvmbind1.symbols follow the project version and the version map"
else
	fail "debian/ is out of step with the project version or the version map (see above)"
	finish
fi
version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$REPO/debian/changelog")
pver=${version#*:}
pver=${pver%-*}

# ---------------------------------------------------------------- 2. export
echo "== 2. the tracked sources into ${SRC#"$REPO"/}"
rm -rf "$OUT"
mkdir -p "$SRC"
if ! git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
	fail "$REPO is not a git checkout: the tracked files are what is packaged"
	finish
fi
# Tracked files as they are in the working tree (a deleted one is left out).
if (cd "$REPO" && git ls-files -z | while IFS= read -r -d '' f; do
		[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$SRC"; then
	ok "copied $(cd "$SRC" && find . -type f | wc -l) tracked files"
else
	fail "copying the tracked files into $SRC"
	finish
fi
[ -f "$SRC/debian/control" ] || { fail "debian/control is not tracked (git add debian/)"; finish; }

# ---------------------------------------------------------------- 3. build dependencies
echo "== 3. build dependencies"
if ! command -v dpkg-checkbuilddeps >/dev/null; then
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
fi
if ! (cd "$SRC" && dpkg-checkbuilddeps) 2>"$OUT/builddeps.log"; then
	echo "installing: $(sed 's/.*Unmet build dependencies: //' "$OUT/builddeps.log")"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$SRC" >"$OUT/apt.log" 2>&1 ||
		{ tail -20 "$OUT/apt.log"; }
fi
if (cd "$SRC" && dpkg-checkbuilddeps) 2>"$OUT/builddeps.log"; then
	ok "build dependencies of debian/control are installed"
else
	fail "build dependencies: $(cat "$OUT/builddeps.log")"
	finish
fi
if ! command -v lintian >/dev/null; then
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lintian >/dev/null
fi
command -v lintian >/dev/null || { fail "lintian is not installed"; finish; }

# ---------------------------------------------------------------- 4. build
echo "== 4. dpkg-buildpackage -b -us -uc (DEB_BUILD_OPTIONS=nocheck), log in ${OUT#"$REPO"/}/build.log"
t0=$(date +%s)
if (cd "$SRC" && DEB_BUILD_OPTIONS="nocheck parallel=$JOBS" dpkg-buildpackage -b -us -uc) \
		>"$OUT/build.log" 2>&1; then
	ok "dpkg-buildpackage -b: $(( $(date +%s) - t0 )) s"
else
	tail -40 "$OUT/build.log" | sed 's/^/    | /'
	fail "dpkg-buildpackage -b (see $OUT/build.log)"
	finish
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
changes=$OUT/libsvmbind_${version#*:}_$arch.changes

# ---------------------------------------------------------------- 5. contents
echo "== 5. what each package holds"
deb() { echo "$OUT/${1}_${version#*:}_$arch.deb"; }
for p in "${PKGS[@]}"; do
	if [ -f "$(deb "$p")" ]; then ok "built $(basename "$(deb "$p")")"; else fail "no $(basename "$(deb "$p")")"; fi
done
[ ${#failures[@]} -eq 0 ] || finish
X=$OUT/x
for p in "${PKGS[@]}"; do
	mkdir -p "$X/$p"
	dpkg-deb -x "$(deb "$p")" "$X/$p"
	dpkg-deb -e "$(deb "$p")" "$X/$p/DEBIAN"
done
has() {	# has PACKAGE PATH...: each PATH is in PACKAGE
	local p=$1 f miss=()
	shift
	for f in "$@"; do [ -e "$X/$p/$f" ] || [ -L "$X/$p/$f" ] || miss+=("$f"); done
	if [ ${#miss[@]} -eq 0 ]; then ok "$p holds $*"; else fail "$p lacks ${miss[*]}"; fi
}
only() {	# only PACKAGE REGEX: every file of PACKAGE matches REGEX
	local p=$1 re=$2 stray
	stray=$(cd "$X/$p" && find . -path ./DEBIAN -prune -o ! -type d -print | sed 's|^\./||' | grep -Ev "$re" | head -5)
	if [ -z "$stray" ]; then ok "$p holds nothing else"; else fail "$p also holds: $(echo $stray)"; fi
}
lib=usr/lib/$ma/libsvmbind.so.$pver
has libsvmbind1 "$lib" "usr/lib/$ma/libsvmbind.so.1"
only libsvmbind1 "^(usr/lib/$ma/libsvmbind\.so\.1(\.[0-9.]+)?|usr/share/doc/libsvmbind1/.*|usr/share/lintian/overrides/libsvmbind1)$"
soname=$(readelf -d "$X/libsvmbind1/$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libsvmbind.so.1 ] && ok "SONAME $soname" || fail "SONAME '$soname', want libsvmbind.so.1"
mapfile -t nodes < <(sed -n 's/^[[:space:]]*\(LIBSVMBIND_[0-9]\+\.[0-9]\+\)[[:space:]]*{.*/\1/p' "$REPO/lib/libsvmbind.map")
symfile=$X/libsvmbind1/DEBIAN/symbols
if [ -f "$symfile" ]; then
	# dpkg-gensymbols writes one line per symbol: "SYMBOL@NODE MINVER".
	miss=() wrong=()
	for n in "${nodes[@]}"; do grep -qx " $n@$n ${n#LIBSVMBIND_}.0" "$symfile" || miss+=("$n"); done
	wrong=$(awk '/^ [^ ]+@LIBSVMBIND_[0-9.]+ / {split($1, a, "@LIBSVMBIND_"); if ($2 != a[2] ".0") print $1, $2}' "$symfile")
	nsym=$(grep -c '^ [a-z_0-9]*@LIBSVMBIND_' "$symfile")
	nexp=$(nm -D --defined-only "$X/libsvmbind1/$lib" | awk '$2 == "T"' | wc -l)
	if [ ${#miss[@]} -eq 0 ] && [ -z "$wrong" ] && [ "$nsym" = "$nexp" ]; then
		ok "libsvmbind1's symbols file: $nsym functions, each at its node's version (${nodes[*]})"
	else
		fail "libsvmbind1's symbols file: nodes missing: ${miss[*]:-none}; wrong minimum: ${wrong:-none}; $nsym functions listed, $nexp exported"
	fi
	verdefs=$(readelf -V "$X/libsvmbind1/$lib")
	miss=()
	for n in "${nodes[@]}"; do grep -q "Name: $n\$" <<<"$verdefs" || miss+=("$n"); done
	[ ${#miss[@]} -eq 0 ] && ok "the packaged library defines ${nodes[*]}" ||
		fail "the packaged library does not define ${miss[*]}"
else
	fail "libsvmbind1 has no DEBIAN/symbols"
fi
depends=$(dpkg-deb -f "$(deb libsvmbind1)" Depends)
needed=$(readelf -d "$X/libsvmbind1/$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
for dep in "libnl-3-200 libnl-3.so.200" "libsystemd0 libsystemd.so.0"; do
	pkg=${dep% *} so=${dep#* }
	if grep -Eq "(^|, )$pkg( \(|,|$)" <<<"$depends" && [[ " $needed" == *" $so "* ]]; then
		ok "libsvmbind1 links $so and depends on $pkg"
	else
		fail "libsvmbind1: $so linked: $([[ " $needed" == *" $so "* ]] && echo yes || echo no); Depends: $depends"
	fi
done
if nm -D --defined-only "$X/libsvmbind1/$lib" | grep -Eqi ' T (nl_|sd_)'; then
	fail "libsvmbind1 exports libnl or libsystemd functions (vendored?)"
else
	ok "libsvmbind1 carries no copy of libnl or libsystemd"
fi

headers=()
for h in "$REPO"/include/svmbind/*.h "$REPO"/include/svmbind/*.h.in; do headers+=("usr/include/svmbind/$(basename "$h" .in)"); done
has libsvmbind-dev "${headers[@]}" "usr/lib/$ma/pkgconfig/libsvmbind.pc" \
	"usr/lib/$ma/cmake/svmbind/svmbindConfig.cmake" "usr/lib/$ma/cmake/svmbind/svmbindConfigVersion.cmake" \
	"usr/lib/$ma/cmake/svmbind/svmbindTargets.cmake"
link=$(readlink "$X/libsvmbind-dev/usr/lib/$ma/libsvmbind.so")
[ "$link" = libsvmbind.so.1 ] && ok "libsvmbind-dev: libsvmbind.so -> $link" ||
	fail "libsvmbind-dev: libsvmbind.so -> '$link', want libsvmbind.so.1"
dev_dep=$(dpkg-deb -f "$(deb libsvmbind-dev)" Depends)
[[ "$dev_dep" == *"libsvmbind1 (= $version)"* ]] && ok "libsvmbind-dev depends on libsvmbind1 (= $version)" ||
	fail "libsvmbind-dev Depends: $dev_dep"
miss=()
for s in $(nm -D --defined-only "$X/libsvmbind1/$lib" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u); do
	[ -e "$X/libsvmbind-dev/usr/share/man/man3/$s.3.gz" ] || miss+=("$s")
done
nexp=$(nm -D --defined-only "$X/libsvmbind1/$lib" | awk '$2 == "T"' | wc -l)
[ ${#miss[@]} -eq 0 ] && ok "libsvmbind-dev: a man page for each of the $nexp exported functions" ||
	fail "libsvmbind-dev: no man page for ${miss[*]}"
has svmbind-tools usr/bin/svmbind-probe usr/share/man/man1/svmbind-probe.1.gz
only svmbind-tools "^(usr/bin/svmbind-probe|usr/share/man/man1/svmbind-probe\.1\.gz|usr/share/doc/svmbind-tools/.*|usr/share/lintian/overrides/svmbind-tools)$"

# ---------------------------------------------------------------- 6. lintian
echo "== 6. lintian --fail-on error,warning $(basename "$changes")"
rc=0
lintian --fail-on error,warning --display-info "$changes" >"$OUT/lintian.txt" 2>&1 || rc=$?
sed 's/^/    | /' "$OUT/lintian.txt"
if [ $rc -eq 0 ]; then
	ok "lintian: no error, no warning ($(grep -c '^[IPX]: ' "$OUT/lintian.txt") info tags)"
else
	fail "lintian: exit $rc ($(grep -c '^E: ' "$OUT/lintian.txt") errors, $(grep -c '^W: ' "$OUT/lintian.txt") warnings)"
fi

# ---------------------------------------------------------------- 7. the VM
echo "== 7. in the VM: install, consumers against the -dev package alone, svmbind-probe, purge"
if [ "${SVMBIND_SKIP_VM:-}" = 1 ]; then
	echo "SVMBIND_SKIP_VM=1: the VM part is NOT run"
	finish 77
fi
# Device C, alone in its group, on stock vfio-pci (expanded in the guest).
C='${SVMBIND_LAB_DEVS##*,}'
rc=0
"$REPO/tests/vm/vm.sh" -v -k --timeout "${SVMBIND_PKG_VM_TIMEOUT:-900}" --out "$OUT/vm" --driver vfio-pci \
	-c "$HERE/guest.sh $OUT $C" || rc=$?
if [ $rc -eq 0 ]; then
	ok "in the VM: $(grep -a 'packages in the VM:' "$OUT/vm/console.log" 2>/dev/null | tail -1 | tr -d '\r')"
else
	fail "in the VM: exit $rc (console: $OUT/vm/console.log)"
fi
finish
