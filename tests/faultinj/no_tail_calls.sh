#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# faultinj counts a call by its return address. When LIB reaches a wrapped
# call as a tail call (jmp to its PLT entry), the return address is that of
# whoever called the function holding the jmp: still LIB if the function is
# internal (called from LIB), but the application's if it is exported. Fails
# on a tail call from an exported function; lists the internal ones.
# Usage: no_tail_calls.sh path/to/libsvmbind.so
set -euo pipefail
lib=${1:?usage: $0 LIB}
wrapped='open|open64|openat|openat64|__open_2|__open64_2|__openat_2|__openat64_2|close|read|__read_chk|pread|pread64|__pread_chk|__pread64_chk|write|pwrite|pwrite64|ioctl|fcntl|fcntl64|stat|stat64|lstat|lstat64|fstat|fstat64|fopen|fopen64|prctl|kill|mmap|mmap64|munmap|madvise|readlink|readlinkat|__readlink_chk|opendir|fdopendir|closedir|getrlimit|getrlimit64|getrandom|syscall'
exported=" $(nm -D --defined-only "$lib" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | tr '\n' ' ') "
dis=$(objdump -d --no-show-raw-insn "$lib")
calls=$(grep -cE "call +[0-9a-f]+ <($wrapped)@plt>" <<<"$dis" || true)
[ "$calls" -gt 0 ] || { echo "no calls to wrapped functions found in $lib: is objdump reading it?"; exit 1; }
bad=0
while read -r fn target; do
	[ -n "$fn" ] || continue
	if [[ $exported == *" $fn "* ]]; then
		echo "FAIL: exported $fn tail-calls $target: faultinj would not see it"
		bad=1
	else
		echo "ok: internal $fn tail-calls $target (its caller is in the library)"
	fi
done < <(awk -v re="jmp +[0-9a-f]+ <(${wrapped})@plt>" '
	/^[0-9a-f]+ <.*>:$/ { fn = substr($2, 2, length($2) - 3) }
	$0 ~ re { t = $NF; gsub(/[<>]|@plt/, "", t); print fn, t }' <<<"$dis")
echo "$calls calls to wrapped functions"
exit $bad
