#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# The Debian packaging agrees with the project's own versions:
#   - the newest debian/changelog entry is project(VERSION) of CMakeLists.txt
#     (upstream part; the Debian revision after the last '-' is free);
#   - debian/libsvmbind<major>.symbols names libsvmbind.so.<major>, package
#     libsvmbind<major> (the SONAME major), and debian/control builds that
#     package;
#   - the symbols file has one "(symver)LIBSVMBIND_X.Y X.Y.0" line per node of
#     lib/libsvmbind.map, in the map's order, none more, none less: a symbol
#     of node X.Y makes a program depend on libsvmbind<major> (>= X.Y.0).
# Reads files only (no build); prints what to change when they disagree.
#
# usage: tests/packaging/versions.sh [SOURCE-DIR]   (default: this checkout)
# Exit 0 when they agree, 1 when not, 2 on usage.
set -uo pipefail

REPO=$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}" 2>/dev/null && pwd) ||
	{ echo "usage: $0 [SOURCE-DIR]" >&2; exit 2; }
[ -f "$REPO/CMakeLists.txt" ] && [ -d "$REPO/debian" ] ||
	{ echo "usage: $0 [SOURCE-DIR]   ($REPO has no CMakeLists.txt or debian/)" >&2; exit 2; }

failures=()
ok() { echo "ok:   $*"; }
fail() { failures+=("$*"); echo "FAIL: $*"; }

pver=$(sed -n 's/^project(svmbind[[:space:]]\+VERSION[[:space:]]\+\([0-9][0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt" | head -1)
[ -n "$pver" ] || { fail "cannot read project(svmbind VERSION x.y.z) in CMakeLists.txt"; pver=0.0.0; }
pmajor=${pver%%.*}

# ---- debian/changelog: "libsvmbind (EPOCH:UPSTREAM-REVISION) DIST; urgency=..."
top=$(head -1 "$REPO/debian/changelog")
src=$(sed -n '1s/^\([a-z0-9][a-z0-9.+-]*\) (.*/\1/p' "$REPO/debian/changelog")
dver=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$REPO/debian/changelog")
up=${dver#*:}
up=${up%-*}
if [ "$src" != libsvmbind ] || [ -z "$dver" ]; then
	fail "debian/changelog: first line is not 'libsvmbind (VERSION) ...': $top"
elif [ "$up" = "$pver" ]; then
	ok "debian/changelog $dver is project version $pver"
else
	fail "debian/changelog's newest entry is $dver, project(VERSION) is $pver:" \
	     "add an entry for $pver-1 at the top of debian/changelog (dch -v $pver-1, or by hand)"
fi

# ---- the package named for the SONAME major
pkg=libsvmbind$pmajor
sym=$REPO/debian/$pkg.symbols
if grep -qx "Package: $pkg" "$REPO/debian/control"; then
	ok "debian/control builds $pkg (SONAME major $pmajor)"
else
	fail "debian/control has no 'Package: $pkg': the library package is named for the SONAME libsvmbind.so.$pmajor"
fi
if [ ! -f "$sym" ]; then
	fail "no debian/$pkg.symbols (the symbols file of $pkg)"
else
	head=$(grep -v '^#' "$sym" | head -1)
	if [ "$head" = "libsvmbind.so.$pmajor $pkg #MINVER#" ]; then
		ok "debian/$pkg.symbols is for libsvmbind.so.$pmajor in $pkg"
	else
		fail "debian/$pkg.symbols starts with '$head', want 'libsvmbind.so.$pmajor $pkg #MINVER#'"
	fi
	if grep -qx "\* Build-Depends-Package: libsvmbind-dev" "$sym"; then
		ok "debian/$pkg.symbols names its -dev package (Build-Depends-Package)"
	else
		fail "debian/$pkg.symbols lacks '* Build-Depends-Package: libsvmbind-dev'"
	fi

	# ---- one (symver) line per version node, in order
	mapfile -t nodes < <(sed -n 's/^[[:space:]]*\(LIBSVMBIND_[0-9]\+\.[0-9]\+\)[[:space:]]*{.*/\1/p' \
		"$REPO/lib/libsvmbind.map")
	mapfile -t lines < <(sed -n 's/^ (symver)\(.*\)$/\1/p' "$sym")
	want=()
	for n in "${nodes[@]}"; do want+=("$n ${n#LIBSVMBIND_}.0"); done
	if [ ${#nodes[@]} -eq 0 ]; then
		fail "no LIBSVMBIND_X.Y node in lib/libsvmbind.map"
	elif [ "$(printf '%s\n' "${lines[@]}")" = "$(printf '%s\n' "${want[@]}")" ]; then
		ok "debian/$pkg.symbols has one (symver) line per node of lib/libsvmbind.map: ${nodes[*]}"
	else
		fail "debian/$pkg.symbols does not follow lib/libsvmbind.map's nodes (${nodes[*]})"
		for w in "${want[@]}"; do
			printf '%s\n' "${lines[@]}" | grep -qxF "$w" || echo "      missing: ' (symver)$w'"
		done
		for l in "${lines[@]}"; do
			printf '%s\n' "${want[@]}" | grep -qxF "$l" || echo "      not a map node (or wrong minimum version): ' (symver)$l'"
		done
	fi
	other=$(grep -v -e '^#' -e '^ (symver)' -e '^\* ' -e '^libsvmbind\.so\.' "$sym")
	if [ -n "$other" ]; then
		fail "debian/$pkg.symbols has lines that are not (symver) node lines: $(head -1 <<<"$other")"
	fi
fi

if [ ${#failures[@]} -eq 0 ]; then
	echo "packaging versions: pass"
	exit 0
fi
echo "packaging versions: ${#failures[@]} FAILED"
exit 1
