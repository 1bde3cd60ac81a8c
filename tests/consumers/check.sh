#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# libsvmbind as its users get it. Installs BUILD-DIR (already built) into a
# temporary prefix with `cmake --install --prefix`, then, outside the tree:
#   1. the install has what it should (headers, library and its links, tool,
#      pkg-config file, CMake package, man pages);
#   2. each installed public header compiles alone as C11
#      (-std=c11 -Wall -Wextra -Werror -pedantic, gcc, and clang if present)
#      and from C++ (-std=c++17, included in a .cpp, g++ and clang++);
#   3. a program built with `pkg-config --cflags --libs libsvmbind` links and runs;
#   4. a CMake project using find_package(svmbind) and svmbind::svmbind
#      builds a C and a C++ program that link and run;
#   5. the installed svmbind-probe runs (text and --json, exit status 0 or 1;
#      --help 0; a bad option 64);
#   6. every exported function has its section 3 man page, svmbind-probe has
#      its section 1 page, they render, and nothing else lands in man3 that
#      should not (struct members, guides).
# Programs run with LD_LIBRARY_PATH into the prefix.
#
# usage: tests/consumers/check.sh BUILD-DIR
# Environment: KEEP=1 keeps the temporary directory; CC, CXX pick compilers.
# Exit 0 when every check passed, 1 when one failed (the summary lists them),
# 2 on usage.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
	echo "usage: $0 BUILD-DIR   (a configured and built libsvmbind build directory)" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
CC=${CC:-cc}
CXX=${CXX:-c++}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/svmbind-consumers.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then
	echo "keeping $WORK"
else
	trap 'rm -rf "$WORK"' EXIT
fi
PREFIX=$WORK/prefix
LOGS=$WORK/logs
mkdir -p "$LOGS"

failures=()
npass=0
ok() { npass=$((npass + 1)); echo "ok:   $*"; }
fail() { failures+=("$*"); echo "FAIL: $*"; }
note() { echo "note: $*"; }

# run NAME CMD...: runs CMD with its output in a log; on failure prints the log.
run() {
	local name=$1 log rc=0
	shift
	log="$LOGS/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.-' '_').log"
	"$@" >"$log" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		echo "---- $name: exit $rc: $*"
		sed 's/^/    | /' "$log" | tail -40
		echo "----"
	fi
	return $rc
}

# ---------------------------------------------------------------- install
echo "== installing $BUILD into $PREFIX"
if ! run "cmake --install" cmake --install "$BUILD" --prefix "$PREFIX"; then
	fail "cmake --install $BUILD --prefix $PREFIX (is the build directory built?)"
	printf '\n%d passed, %d FAILED\n' "$npass" "${#failures[@]}"
	exit 1
fi

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
[ -n "$version" ] || version=$(awk -F= '/^svmbind_VERSION:/ {print $2}' "$BUILD/CMakeCache.txt")
major=${version%%.*}

lib=$(find "$PREFIX" -name "libsvmbind.so.$version" -type f | head -1)
libdir=${lib%/*}
pcfile=$(find "$PREFIX" -name libsvmbind.pc | head -1)
cmakecfg=$(find "$PREFIX" -name svmbindConfig.cmake | head -1)
probe=$PREFIX/bin/svmbind-probe
man1=$(find "$PREFIX" -path '*/man1/svmbind-probe.1' | head -1)
mandir=${man1%/man1/*}

# ---------------------------------------------------------------- 1. layout
echo "== 1. what the install holds (version $version)"
check_file() {	# check_file WHAT PATH
	if [ -n "$2" ] && [ -e "$2" ]; then ok "$1: ${2#"$PREFIX"/}"; else fail "$1 not installed"; fi
}
check_file "library libsvmbind.so.$version" "$lib"
if [ -n "$lib" ]; then
	check_file "SONAME link libsvmbind.so.$major" "$libdir/libsvmbind.so.$major"
	check_file "development link libsvmbind.so" "$libdir/libsvmbind.so"
	soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	if [ "$soname" = "libsvmbind.so.$major" ]; then ok "SONAME $soname"; else fail "SONAME is '$soname', want libsvmbind.so.$major"; fi
fi
check_file "pkg-config file" "$pcfile"
check_file "CMake package" "$cmakecfg"
check_file "svmbind-probe" "$probe"
check_file "svmbind-probe(1)" "$man1"
for h in "$REPO"/include/svmbind/*.h "$REPO"/include/svmbind/*.h.in; do
	h=$(basename "$h" .in)
	check_file "header svmbind/$h" "$PREFIX/include/svmbind/$h"
done

# ---------------------------------------------------------------- 2. headers
echo "== 2. each public header alone, as C11 and C++17"
mkdir -p "$WORK/headers"
have() { command -v "$1" >/dev/null 2>&1; }
compile_header() {	# compile_header COMPILER LANG STD HEADER FLAGS...
	local cc=$1 lang=$2 std=$3 h=$4 src
	shift 4
	src=$WORK/headers/$(basename "$h" .h)-$(basename "$cc").$([ "$lang" = c ] && echo c || echo cpp)
	# The header first and alone; a declaration after it keeps the unit non-empty.
	printf '#include <svmbind/%s>\ntypedef int svmbind_consumer_unit_t;\n' "$h" >"$src"
	if run "$cc $std $h" "$cc" "-std=$std" "$@" -fsyntax-only -I"$PREFIX/include" "$src"; then
		ok "$h: $cc -std=$std $*"
	else
		fail "$h does not compile alone: $cc -std=$std $*"
	fi
}
CFLAGS_BAR=(-Wall -Wextra -Werror -pedantic -Wstrict-prototypes)
CXXFLAGS_BAR=(-Wall -Wextra -Werror -pedantic)
for path in "$PREFIX"/include/svmbind/*.h; do
	h=$(basename "$path")
	compile_header "$CC" c c11 "$h" "${CFLAGS_BAR[@]}"
	compile_header "$CXX" cxx c++17 "$h" "${CXXFLAGS_BAR[@]}"
	if have clang && [ "$CC" != clang ]; then
		compile_header clang c c11 "$h" "${CFLAGS_BAR[@]}"
	fi
	if have clang++ && [ "$CXX" != clang++ ]; then
		compile_header clang++ cxx c++17 "$h" "${CXXFLAGS_BAR[@]}"
	fi
done

# ---------------------------------------------------------------- 3. pkg-config
echo "== 3. pkg-config consumer"
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# check_loads BIN: the program resolves libsvmbind from the prefix, not from elsewhere.
check_loads() {
	local where
	where=$(ldd "$1" 2>/dev/null | awk '/libsvmbind\.so/ {print $3}')
	if [ "$where" = "$libdir/libsvmbind.so.$major" ]; then
		ok "$(basename "$1") loads libsvmbind from the prefix"
	else
		fail "$(basename "$1") loads libsvmbind from '${where:-nowhere}', not $libdir"
	fi
}
if ! have pkg-config; then
	fail "pkg-config is not installed"
elif [ -n "$pcfile" ]; then
	export PKG_CONFIG_PATH=${pcfile%/*}
	pcflags=()
	if ! modv=$(pkg-config --modversion libsvmbind 2>"$LOGS/pkg-config.log"); then
		fail "pkg-config --modversion libsvmbind: $(cat "$LOGS/pkg-config.log")"
	elif [ "$modv" = "$version" ]; then
		ok "pkg-config --modversion libsvmbind: $modv"
	else
		fail "pkg-config --modversion libsvmbind says $modv, project is $version"
	fi
	flags=$(pkg-config --cflags --libs libsvmbind 2>/dev/null)
	echo "      pkg-config --cflags --libs libsvmbind: $flags"
	if [[ " $flags" == *" -I$PREFIX/"* && " $flags" == *" -L$PREFIX/"* ]]; then
		ok "libsvmbind.pc points into the install prefix (relocatable)"
	else
		fail "libsvmbind.pc is not relocatable: after 'cmake --install --prefix $PREFIX' it still says '$flags'" \
		     "(prefix/libdir/includedir are the configure-time absolute paths; derive them from \${pcfiledir})"
		# Go on with the paths overridden, so that the rest is still checked.
		pcflags=(--define-variable=prefix="$PREFIX" --define-variable=libdir="$libdir"
			 --define-variable=includedir="$PREFIX/include")
		flags=$(pkg-config "${pcflags[@]}" --cflags --libs libsvmbind)
		note "building the pkg-config consumer with: pkg-config ${pcflags[*]}"
	fi
	mkdir -p "$WORK/pkgconfig"
	cp "$HERE/consumer.c" "$WORK/pkgconfig/"
	# shellcheck disable=SC2086  # flags are words
	if run "pkg-config consumer build" "$CC" -std=c11 -Wall -Wextra -Werror -o "$WORK/pkgconfig/consumer" \
		"$WORK/pkgconfig/consumer.c" $flags; then
		ok "pkg-config consumer: $CC -std=c11 consumer.c \$(pkg-config --cflags --libs libsvmbind)"
		check_loads "$WORK/pkgconfig/consumer"
		if run "pkg-config consumer run" "$WORK/pkgconfig/consumer"; then
			ok "pkg-config consumer runs: $(head -1 "$LOGS/pkg-config_consumer_run.log")"
		else
			fail "pkg-config consumer does not run"
		fi
	else
		fail "pkg-config consumer does not build"
	fi
fi

# ---------------------------------------------------------------- 4. CMake
echo "== 4. CMake consumer: find_package(svmbind), svmbind::svmbind"
mkdir -p "$WORK/cmake-src"
cp "$HERE/cmake/CMakeLists.txt" "$HERE/consumer.c" "$HERE/consumer_cxx.cpp" "$WORK/cmake-src/"
if run "CMake consumer configure" cmake -S "$WORK/cmake-src" -B "$WORK/cmake-build" \
	-DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX"; then
	ok "find_package(svmbind 1.0) found $(sed -n 's/^svmbind_DIR:PATH=//p' "$WORK/cmake-build/CMakeCache.txt")"
	if run "CMake consumer build" cmake --build "$WORK/cmake-build"; then
		ok "CMake consumer builds (C and C++) against svmbind::svmbind"
		for prog in consumer consumer_cxx; do
			check_loads "$WORK/cmake-build/$prog"
			if run "CMake $prog run" "$WORK/cmake-build/$prog"; then
				ok "CMake $prog runs: $(head -1 "$LOGS/CMake_${prog}_run.log")"
			else
				fail "CMake $prog does not run"
			fi
		done
	else
		fail "CMake consumer does not build"
	fi
else
	fail "CMake consumer: find_package(svmbind) failed"
fi

# ---------------------------------------------------------------- 5. the tool
echo "== 5. installed svmbind-probe"
if [ -x "$probe" ]; then
	check_loads "$probe"
	rc=0
	"$probe" >"$LOGS/probe.txt" 2>&1 || rc=$?
	if [ $rc -le 1 ] && grep -q '^Result: ' "$LOGS/probe.txt"; then
		ok "svmbind-probe: exit $rc, $(grep '^Result: ' "$LOGS/probe.txt")"
	else
		fail "svmbind-probe: exit $rc"; sed 's/^/    | /' "$LOGS/probe.txt" | tail -20
	fi
	rc=0
	"$probe" --json >"$LOGS/probe.json" 2>"$LOGS/probe.json.err" || rc=$?
	if [ $rc -gt 1 ]; then
		fail "svmbind-probe --json: exit $rc"
	elif ! have python3; then
		note "python3 missing: svmbind-probe --json output not parsed"
	elif python3 - "$LOGS/probe.json" "$version" <<'EOF' >"$LOGS/probe.json.check" 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == 1, "schema is not 1"
assert d["version"] == sys.argv[2], "version %r" % d["version"]
s = d["system"]
for k in ("vfio", "type1", "type1v2", "noiommu_type", "iommu_groups", "noiommu_mode",
          "cap_sys_ptrace", "cap_ipc_lock", "vtd", "vtd_scalable", "vtd_pasid", "vtd_prs"):
    assert k in s, "system.%s missing" % k
    assert s[k] in (True, False, None), "system.%s is not a tri-state" % k
    if s[k] is None:
        assert isinstance(s.get(k + "_reason"), str), "system.%s is null without a reason" % k
for k in ("ptrace_scope", "memlock_cur", "memlock_max"):
    assert k in s and (s[k] is None or isinstance(s[k], int)), "system.%s" % k
EOF
	then
		ok "svmbind-probe --json: exit $rc, valid JSON, schema 1"
	else
		fail "svmbind-probe --json: output does not match schema 1"
		sed 's/^/    | /' "$LOGS/probe.json.check" | tail -5
	fi
	if run "svmbind-probe --help" "$probe" --help; then ok "svmbind-probe --help: exit 0"; else fail "svmbind-probe --help"; fi
	rc=0
	"$probe" --no-such-option >/dev/null 2>&1 || rc=$?
	if [ $rc -eq 64 ]; then ok "svmbind-probe --no-such-option: exit 64"; else fail "svmbind-probe --no-such-option: exit $rc, want 64"; fi
fi

# ---------------------------------------------------------------- 6. man pages
echo "== 6. man pages"
render() {	# render PAGE: groff resolves .so links relative to the man directory
	(cd "$mandir" && groff -man -Tutf8 -ww -z "$1") >"$LOGS/groff.log" 2>&1 && [ ! -s "$LOGS/groff.log" ]
}
if [ -z "$mandir" ]; then
	fail "no man directory in the prefix"
else
	can_render=1
	have groff || { can_render=0; note "groff not installed: man pages checked for presence only"; }
	if [ $can_render = 1 ]; then
		if render man1/svmbind-probe.1; then ok "svmbind-probe.1 renders without warnings"
		else fail "svmbind-probe.1 does not render cleanly: $(head -3 "$LOGS/groff.log")"; fi
	fi
	missing=() broken=()
	if [ -n "$lib" ]; then
		for sym in $(nm -D --defined-only "$lib" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u); do
			page=man3/$sym.3
			if [ ! -f "$mandir/$page" ]; then
				missing+=("$sym")
			elif [ $can_render = 1 ] && ! render "$page"; then
				broken+=("$sym")
			fi
		done
		nsyms=$(nm -D --defined-only "$lib" | awk '$2 == "T"' | wc -l)
		if [ ${#missing[@]} -eq 0 ]; then ok "a section 3 man page for each of the $nsyms exported functions"
		else fail "exported functions without a man page: ${missing[*]} (SVMBIND_DOCS=OFF, or doxygen missing?)"; fi
		[ ${#broken[@]} -eq 0 ] || fail "man pages that do not render cleanly: ${broken[*]}"
	fi
	stray=$(find "$mandir/man3" -maxdepth 1 -printf '%f\n' 2>/dev/null | grep -v '^man3$' |
		grep -Ev '^(svm_|svmbind_|SVMBIND_|VFIO_|vfio_device_svm|libsvmbind_)[A-Za-z0-9_]*\.3$|^svmbind\.h\.3$' | tr '\n' ' ')
	if [ -z "$stray" ]; then ok "man3 holds only libsvmbind's public names"; else fail "stray pages in man3: $stray"; fi
	if have man && MANPATH=$mandir man -w 3 svm_bind_pid >/dev/null 2>&1; then
		ok "man -M finds svm_bind_pid(3): $(MANPATH=$mandir man -w 3 svm_bind_pid)"
	fi
fi

echo
if [ ${#failures[@]} -eq 0 ]; then
	echo "consumers: all $npass checks passed"
	exit 0
fi
echo "consumers: $npass passed, ${#failures[@]} FAILED:"
printf '  - %s\n' "${failures[@]}"
exit 1
