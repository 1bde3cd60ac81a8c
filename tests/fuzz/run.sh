#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# Run the broker parser's libFuzzer target for a bounded time.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS (60)]
# Seeds: every message type, well-formed (written by fuzz_wire itself with
# -seed_corpus, see below). Exit 0 when no crash was found.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
bin=$build/tests/fuzz/fuzz_wire
[ -x "$bin" ] || { echo "fuzz: $bin not built (needs clang)" >&2; exit 77; }
corpus=$build/tests/fuzz/corpus
mkdir -p "$corpus"
# seeds: one of each message kind, built from the header layout of docs/broker-protocol.md
seed() { printf "$2" > "$corpus/seed-$1"; }
# escapes as text (command substitution cannot carry NUL bytes); seed() turns them into bytes
hdr() { printf 'SVMB\\001\\x%02x\\000\\000\\001\\000\\000\\000\\x%02x\\000\\000\\000' "$1" "$2"; }
seed hello "$(hdr 1 8)\001\000\001\000\000\000\000\000"
seed hello_ok "$(hdr 2 16)\001\000\000\000\003\000\000\000\000\020\000\000\000\000\000\000"
seed bind "$(hdr 3 8)\000\000\000\000\000\000\000\000"
seed bind_ok "$(hdr 4 8)\001\000\000\000\052\000\000\000"
seed unbind "$(hdr 5 4)\001\000\000\000"
seed request "$(hdr 7 9)\001\000\000\000hello"
seed reply "$(hdr 8 10)\000\000\000\000\001\000\000\000ok"
seed revoked "$(hdr 9 8)\001\000\000\000\002\000\000\000"
seed error "$(hdr 10 8)\377\377\377\377\001\000\000\000"
seed share "$(hdr 11 32)\000\020\000\000\000\000\000\000\000\020\000\000\000\000\000\000\000\000\000\000\000\000\000\000\003\000\000\000\000\000\000\000"
seed unshare "$(hdr 13 16)\000\020\000\000\000\000\000\000\000\020\000\000\000\000\000\000"
art=$build/tests/fuzz/artifacts
mkdir -p "$art"
exec "$bin" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 \
	-artifact_prefix="$art/" "$corpus"
