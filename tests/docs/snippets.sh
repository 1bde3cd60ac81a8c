#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#
# Every C snippet of the README and the docs is a whole program: compile each
# one against a build, then run each one on a device.
#
#   tests/docs/snippets.sh build BUILD-DIR OUT-DIR [CC-FLAGS...]   (on the host)
#   tests/docs/snippets.sh run OUT-DIR PCI-ADDRESS                  (in the VM)
#
# Snippets are the ```c blocks of README.md and the ~~~{.c} blocks of
# docs/*.md. Each takes the device's PCI address as its first argument and
# must exit 0 on the reference provider. A block whose first line is a
# comment starting "/* fragment" is an outline, not a program: it is counted
# and named, not compiled.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

extract() {	# extract OUT-DIR: one .c file per snippet, named after its document
	local out=$1 doc
	for doc in "$ROOT/README.md" "$ROOT"/docs/*.md; do
		awk -v out="$out" -v base="$(basename "$doc" .md)" '
			/^(```c|~~~\{\.c\})[[:space:]]*$/ { n++; file = sprintf("%s/%s-%d.c", out, base, n); on = 1; first = 1; next }
			on && /^(```|~~~)[[:space:]]*$/ { on = 0; close(file); next }
			on && first && /^\/\* fragment/ { on = 0; first = 0; print base "-" n > (out "/fragments"); next }
			on { print > file; first = 0 }' "$doc"
	done
}

case ${1:-} in
build)
	[ $# -ge 3 ] || { echo "usage: $0 build BUILD-DIR OUT-DIR [CC-FLAGS...]" >&2; exit 2; }
	build=$(cd "$2" && pwd) out=$3
	shift 3
	rm -rf "$out" && mkdir -p "$out"
	extract "$out"
	n=0
	for src in "$out"/*.c; do
		[ -e "$src" ] || { echo "snippets: none found" >&2; exit 1; }
		cc -std=gnu11 -Wall -Wextra -Werror "$@" -I"$ROOT/include" -I"$build/include" \
			-o "${src%.c}" "$src" -L"$build/lib" -Wl,-rpath,"$build/lib" -lsvmbind
		n=$((n + 1))
	done
	echo "snippets: $n compiled into $out"
	[ -f "$out/fragments" ] && echo "snippets: fragments, not compiled: $(tr '\n' ' ' < "$out/fragments")"
	true
	;;
run)
	[ $# -eq 3 ] || { echo "usage: $0 run OUT-DIR PCI-ADDRESS" >&2; exit 2; }
	out=$2 dev=$3 bad=0 n=0
	for prog in "$out"/*.c; do
		prog=${prog%.c}
		n=$((n + 1))
		rc=0
		[ -x "$prog" ] && "$prog" "$dev" || rc=$?
		[ -x "$prog" ] || rc=127
		if [ "$rc" = 0 ]; then echo "snippet $(basename "$prog"): ok"
		else echo "snippet $(basename "$prog"): FAILED (exit $rc)"; bad=$((bad + 1)); fi
	done
	echo "snippets: $((n - bad)) passed, $bad failed"
	[ "$bad" -eq 0 ]
	;;
*)
	echo "usage: $0 build BUILD-DIR OUT-DIR [CC-FLAGS...] | run OUT-DIR PCI-ADDRESS" >&2
	exit 2
	;;
esac
