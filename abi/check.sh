#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# ABI check of libsvmbind against the committed baseline (see abi/README.md).
#
#   abi/check.sh BUILD-DIR            check; exit 0 pass, 1 fail, 2 usage
#   abi/check.sh --update BUILD-DIR   rewrite the baselines from this build
#
# BUILD-DIR must hold a build with debug info (-g: the default RelWithDebInfo,
# or Debug). Two baselines, both written by abidw:
#   abi/libsvmbind.abi    the library: its symbols, their versions, and the
#                         types its functions take (private types suppressed
#                         by abi/private.suppr);
#   abi/public-types.abi  abi/surface.c: one object of every public struct,
#                         enum and typedef, so that layouts and enumerator
#                         values are checked even where no function signature
#                         reaches them (error codes, dialects, flags).
#
# Fails when
#   - the newest version node in lib/libsvmbind.map is not
#     LIBSVMBIND_<major>.<minor> of project(VERSION) in CMakeLists.txt, the
#     nodes are out of order, or the library does not define that node;
#   - the SONAME is not libsvmbind.so.<project major>;
#   - the SONAME major differs from the baseline's and the map has no node
#     of the new major (a break without a map bump);
#   - abidiff finds an incompatible change (exit bit 8: a symbol removed or
#     its version changed) or a layout change that breaks callers (a member
#     moved, removed or retyped, an enumerator's value changed, a parameter
#     or return type changed), unless the major was bumped;
#   - the ABI grew (exit bit 4: functions added, a struct grew at its end)
#     but the newest version node is one the baseline already has, or a new
#     function went into an older node (never edit a released node);
#   - abidiff itself fails (exit bits 1 and 2), or the build has no debug info.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
MAP=$REPO/lib/libsvmbind.map
BASE_LIB=$HERE/libsvmbind.abi
BASE_TYPES=$HERE/public-types.abi
SUPPR=$HERE/private.suppr
ABIDW_OPTS=(--short-locs --no-corpus-path --no-comp-dir-path --type-id-style hash)

update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
	echo "usage: $0 [--update] BUILD-DIR   (a built libsvmbind build directory, with -g)" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)

failures=()
ok() { echo "ok:   $*"; }
fail() { failures+=("$*"); echo "FAIL: $*"; }
finish() {
	echo
	if [ ${#failures[@]} -eq 0 ]; then echo "abi: pass"; exit 0; fi
	echo "abi: ${#failures[@]} FAILED:"
	printf '  - %s\n' "${failures[@]}"
	echo "(abi/README.md says how to bump the version on purpose)"
	exit 1
}
for tool in abidw abidiff readelf; do
	command -v $tool >/dev/null || { echo "abi: $tool not found (apt-get install abigail-tools binutils)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/svmbind-abi.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ------------------------------------------------------------ versions
pver=$(sed -n 's/^project(svmbind[[:space:]]\+VERSION[[:space:]]\+\([0-9][0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt" | head -1)
if [ -z "$pver" ]; then
	fail "cannot read project(svmbind VERSION x.y.z) in CMakeLists.txt"; finish
fi
pmajor=${pver%%.*}
rest=${pver#*.}
pminor=${rest%%.*}
want_node=LIBSVMBIND_$pmajor.$pminor

mapfile -t nodes < <(sed -n 's/^[[:space:]]*\(LIBSVMBIND_[0-9]\+\.[0-9]\+\)[[:space:]]*{.*/\1/p' "$MAP")
if [ ${#nodes[@]} -eq 0 ]; then
	fail "no LIBSVMBIND_<major>.<minor> node in lib/libsvmbind.map"; finish
fi
newest=${nodes[${#nodes[@]}-1]}
sorted=$(printf '%s\n' "${nodes[@]}" | sort -t_ -k2,2V | tr '\n' ' ')
if [ "$sorted" != "$(printf '%s\n' "${nodes[@]}" | tr '\n' ' ')" ] ||
   [ "$(printf '%s\n' "${nodes[@]}" | sort -u | wc -l)" -ne ${#nodes[@]} ]; then
	fail "version nodes in lib/libsvmbind.map are not in increasing order, or repeat: ${nodes[*]}"
fi
if [ "$newest" = "$want_node" ]; then
	ok "newest version node $newest matches project version $pver"
else
	fail "newest version node in lib/libsvmbind.map is $newest, project(VERSION) is $pver: want $want_node"
fi
# Each node after the first inherits the one before it.
for ((i = 1; i < ${#nodes[@]}; i++)); do
	if ! grep -Eq "^\}[[:space:]]*${nodes[i-1]//./\\.}[[:space:]]*;" "$MAP"; then
		fail "lib/libsvmbind.map: node ${nodes[i]} must end with '} ${nodes[i-1]};'"
	fi
done

lib=$(find "$BUILD/lib" -maxdepth 1 -name 'libsvmbind.so.*.*' -type f | sort | tail -1)
if [ -z "$lib" ]; then
	fail "no built libsvmbind.so.* in $BUILD/lib"; finish
fi
# (grep on captured output: with pipefail, grep -q closing the pipe early would fail it)
sections=$(readelf -S "$lib")
if ! grep -q '\.debug_info' <<<"$sections"; then
	fail "$lib has no debug info: build with -g (CMAKE_BUILD_TYPE RelWithDebInfo or Debug)"; finish
fi
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
somajor=${soname##*.so.}
if [ "$soname" = "libsvmbind.so.$pmajor" ]; then
	ok "SONAME $soname"
else
	fail "SONAME is '$soname', want libsvmbind.so.$pmajor (project major)"
fi
verdefs=$(readelf -V "$lib")
if grep -q "Name: $newest\b" <<<"$verdefs"; then
	ok "the library defines $newest"
else
	fail "the library does not define version node $newest (stale build?)"
fi

# ------------------------------------------------------------ public types surface
# Every struct and enum svmbind.h or vfio_svm.h defines must be in surface.c.
for t in $(sed -n 's/^\(struct\|enum\) \([a-z_0-9]\+\) {.*/\1:\2/p' \
		"$REPO/include/svmbind/svmbind.h" "$REPO/include/svmbind/vfio_svm.h"); do
	if ! grep -q "^SURFACE ${t%%:*} ${t#*:} " "$HERE/surface.c"; then
		fail "abi/surface.c lacks '${t%%:*} ${t#*:}': add 'SURFACE ${t%%:*} ${t#*:} svmbind_abi_${t#*:};'"
	fi
done
surface=$WORK/libsvmbind-surface.so
if ! ${CC:-cc} -std=gnu11 -g -O0 -shared -fPIC -fvisibility=hidden -I"$REPO/include" -I"$BUILD/include" \
		-o "$surface" "$HERE/surface.c" 2>"$WORK/surface.log"; then
	fail "abi/surface.c does not compile: $(head -3 "$WORK/surface.log")"; finish
fi

# ------------------------------------------------------------ update mode
if [ $update = 1 ]; then
	abidw "${ABIDW_OPTS[@]}" --out-file "$BASE_LIB" "$lib" || { fail "abidw $lib"; finish; }
	abidw "${ABIDW_OPTS[@]}" --out-file "$BASE_TYPES" "$surface" || { fail "abidw surface"; finish; }
	# abidiff recognises the file by its first element: the SPDX line goes second.
	sed -i '1a \  <!-- SPDX-License-Identifier: LGPL-2.1-or-later OR MIT -->' "$BASE_LIB" "$BASE_TYPES"
	ok "wrote ${BASE_LIB#"$REPO"/} ($soname, $newest) and ${BASE_TYPES#"$REPO"/}"
	finish
fi

# ------------------------------------------------------------ SONAME against the baseline
base_soname=$(sed -n "s/.*<abi-corpus [^>]*soname='\([^']*\)'.*/\1/p" "$BASE_LIB" | head -1)
base_major=${base_soname##*.so.}
major_bump=0
if [ "$base_major" != "$somajor" ]; then
	if [[ $newest == "LIBSVMBIND_$somajor."* ]]; then
		major_bump=1
		echo "note: SONAME major $base_major -> $somajor with map node $newest: a deliberate break;"
		echo "      incompatible changes are reported, not failed. Run '$0 --update $1' to move the baseline."
	else
		fail "SONAME major changed from $base_major ($base_soname) to $somajor without a map bump: newest node is $newest"
	fi
else
	ok "SONAME major $somajor as in the baseline"
fi

# ------------------------------------------------------------ abidiff
# Versions of the symbols the baseline already has: a node listed here is released.
mapfile -t released < <(grep -o "version='LIBSVMBIND_[0-9.]*'" "$BASE_LIB" | sed "s/version='\(.*\)'/\1/" | sort -u)
node_released=0
for n in "${released[@]}"; do [ "$n" = "$newest" ] && node_released=1; done

# Changes that break a caller even though abidiff does not set bit 8.
BREAKS="offset changed|data members? deletion|type of '[^']*' changed|from value '|enumerators? deletion|return type changed|parameter [0-9]+ of type '[^']*' changed:|parameters? (deletion|insertion)|type name changed|name of '[^']*' changed"
# ... except the sentinels that move by design when codes are added.
SENTINELS="::[A-Z_]*_END' from value"

diff_one() {	# diff_one WHAT BASELINE NEW [abidiff options...]
	local what=$1 base=$2 new=$3 rc=0 report=$WORK/$1.diff
	shift 3
	abidiff "$@" "$base" "$new" >"$report" 2>&1 || rc=$?
	if [ $((rc & 3)) -ne 0 ]; then
		fail "$what: abidiff failed (exit $rc): $(head -3 "$report")"
		return
	fi
	if [ $rc -eq 0 ]; then
		ok "$what: no ABI change"
		return
	fi
	echo "---- $what: abidiff exit $rc"
	sed 's/^/    | /' "$report" | head -80
	echo "----"
	local breaks
	breaks=$(grep -v -E "$SENTINELS" "$report" | grep -E "$BREAKS" | head -5)
	if [ $((rc & 8)) -ne 0 ] || [ -n "$breaks" ]; then
		if [ $major_bump = 1 ]; then
			echo "note: $what: incompatible change, allowed by the major bump"
		else
			fail "$what: incompatible ABI change${breaks:+: $(echo "$breaks" | head -1 | sed 's/^ *//')} (a break needs a new major: abi/README.md)"
		fi
		return
	fi
	# Compatible growth: it must come with a new version node.
	if [ $node_released = 1 ] && [ $major_bump = 0 ]; then
		fail "$what: the ABI grew but $newest is already released (in the baseline): add LIBSVMBIND_$pmajor.$((pminor + 1)) to lib/libsvmbind.map and bump project(VERSION) to $pmajor.$((pminor + 1)).0"
		return
	fi
	local old
	old=$(grep -E '^[[:space:]]*\[A\]' "$report" | grep -oE '[A-Za-z_0-9]+@@LIBSVMBIND_[0-9.]+' |
		grep -v "@@$newest\$" | tr '\n' ' ')
	if [ -n "$old" ]; then
		fail "$what: new symbols in an older node (never edit a released node): $old"
		return
	fi
	ok "$what: compatible growth, in the new node $newest"
}
diff_one library "$BASE_LIB" "$lib" --suppressions "$SUPPR"
diff_one public-types "$BASE_TYPES" "$surface"

finish
