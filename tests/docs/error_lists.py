#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""
Every code a public function of include/svmbind/svmbind.h can return is in
its documented list.

The library reports every failure through FAIL(code), KFAIL(code, errno) or
NULL_ARG() (lib/internal.h). This check reads the library's sources (lib/*.c,
lib/iommu/*.c; the broker has its own header), finds each public function's
definition, follows the calls it makes to other functions of the library (and
through the backend ops tables to every backend), and collects the literal
codes those helpers can fail with (E* and SVMBIND_ERR_*, both branches of a
`?:`). Each must appear, negated, in the function's doc comment. Codes the
kernel passes through unchanged (KFAIL(err, err)) are not literal: the doc's
"any errno of X" covers them. Over-approximation is deliberate: a code a
helper produces that the function turns into something else is listed in
ABSORBED below, with the reason.

usage: error_lists.py [REPO]   exit 0: every list matches; 1: a code is
undocumented (printed as function: code, reached through which helper).
"""
import pathlib
import re
import sys

REPO = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2])
HEADER = REPO / "include/svmbind/svmbind.h"
SOURCES = sorted((REPO / "lib").glob("*.c")) + sorted((REPO / "lib/iommu").glob("*.c"))

# (public function, code): produced by a helper it calls, never returned by it.
ABSORBED = {
    # the dialect probe's answers go into the probe's fields, not its return value
    ("svmbind_probe_device", "EPROTO"),
    ("svmbind_probe_device", "SVMBIND_ERR_FORKED"),
    # bind_error() asks the dialect probe only to pick a message and code
    ("svm_bind_self", "EPROTO"), ("svm_bind_pid", "EPROTO"), ("svmbind_bind_pidfd", "EPROTO"),
    # do_bind() serves all three binds: the pid checks belong to the other two
    ("svm_bind_self", "EAGAIN"), ("svm_bind_self", "EBADF"), ("svm_bind_self", "SVMBIND_ERR_NO_PROCESS"),
    ("svm_bind_pid", "EBADF"),
    # bind_error() gives these for a bind of another process only
    ("svm_bind_self", "SVMBIND_ERR_NO_PID_BIND"), ("svm_bind_self", "SVMBIND_ERR_PTRACE_DENIED"),
    # the AUTO fallback opens the container only to move to it: its failure keeps iommufd's
    ("svmbind_device_open", "SVMBIND_ERR_NO_VFIO"), ("svmbind_device_open_fd", "SVMBIND_ERR_NO_VFIO"),
    ("svmbind_device_open", "SVMBIND_ERR_NO_IOMMUFD"), ("svmbind_device_open_fd", "SVMBIND_ERR_NO_IOMMUFD"),
    # a group fd that is no group node: only svmbind_device_open_fd() passes one
    ("svmbind_device_open", "EBADF"),
    # close logs and forgets what unbinding leftovers says but the kernel's own errno
    ("svmbind_device_close", "SVMBIND_ERR_BOND_GONE"),
    ("svmbind_ctx_free", "SVMBIND_ERR_BOND_GONE"),
}

CODE = r"(E[A-Z0-9]+|SVMBIND_ERR_[A-Z_]+)"


def doc_lists():
    text = HEADER.read_text()
    out = {}
    for m in re.finditer(r"/\*\*((?:(?!\*/).)*)\*/\s*SVMBIND_API[^;(]*?\b(\w+)\(", text, re.S):
        doc, name = m.group(1), m.group(2)
        inherits = re.findall(r"what (\w+)\(\) returns", doc)
        out[name] = (set(re.findall(r"-" + CODE + r"\b", doc)), "Cannot fail" in doc, inherits)
    for name, (codes, cannot_fail, inherits) in out.items():
        for other in inherits:	# "0, or what svm_bind_pid() returns, and ..."
            codes |= out.get(other, (set(),))[0]
    return {n: (c, cf) for n, (c, cf, _) in out.items()}


def functions():
    """name -> body, for every function defined in the library's sources."""
    funcs, ops = {}, {}
    for path in SOURCES:
        lines = path.read_text().split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            m = re.match(r"^[A-Za-z_][\w \*]*?\b(\w+)\((.*)$", line)
            if m and not line.rstrip().endswith(";") and not line.startswith(("#", "typedef", "}")):
                j = i
                while j < len(lines) and lines[j] != "{" and not lines[j].endswith("{"):
                    if lines[j].rstrip().endswith(";"):
                        break
                    j += 1
                if j < len(lines) and (lines[j] == "{" or lines[j].endswith("{")):
                    k = j
                    while k < len(lines) and lines[k] != "}":
                        k += 1
                    key = f"{path.name}:{m.group(1)}" if line.startswith("static") else m.group(1)
                    funcs[key] = "\n".join(lines[j:k])
                    i = k
            for om in re.finditer(r"\.(\w+)\s*=\s*(\w+),", line):
                ops.setdefault(om.group(1), set()).add(om.group(2))
            i += 1
    return funcs, ops


def fail_codes(body):
    codes = set()
    for m in re.finditer(r"\b(K?FAIL|NULL_ARG)\(", body):
        if m.group(1) == "NULL_ARG":
            codes.add("EINVAL")
            continue
        depth, start, arg = 1, m.end(), None
        for pos in range(start, len(body)):
            c = body[pos]
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            if (c == "," and depth == 1) or depth == 0:
                arg = body[start:pos]
                break
        if arg is None:
            continue
        # a ?: chain: the segments before a '?' are conditions, the others values
        parts = re.split(r"([?:])", arg)
        for idx in range(0, len(parts), 2):
            follows = parts[idx + 1] if idx + 1 < len(parts) else ""
            if follows == "?":
                continue
            for c in re.findall(r"(?<![\w-])" + CODE + r"\b", parts[idx]):
                codes.add(c)
    return codes


def main():
    docs = doc_lists()
    funcs, ops = functions()
    calls = {}

    def resolve(key, callee):	# a static of the same file first, then a global
        local = key.split(":")[0] + ":" + callee if ":" in key else None
        if local in funcs:
            return local
        if callee in funcs:
            return callee
        # a global function calling a static of its own file
        hits = [k for k in funcs if k.endswith(":" + callee)]
        return hits[0] if len(hits) == 1 else None

    file_of = {}
    for path in SOURCES:
        for k in funcs:
            if k.startswith(path.name + ":"):
                continue
        text = path.read_text()
        for k in funcs:
            if ":" not in k and re.search(r"^\w[\w \*]*\b" + k + r"\(", text, re.M):
                file_of.setdefault(k, path.name)
    for name, body in funcs.items():
        scope = name if ":" in name else f"{file_of.get(name, '')}:{name}"
        callees = set()
        for c in re.findall(r"\b(\w+)\s*\(", body):
            r = resolve(scope, c)
            if r and r != name:
                callees.add(r)
        for member in re.findall(r"(?:->|\.)(\w+)\(", body):
            for f in ops.get(member, ()):
                r = resolve("x:" + f, f) or next((k for k in funcs if k.endswith(":" + f)), None)
                if r:
                    callees.add(r)
        calls[name] = callees
    bad = 0
    checked = 0
    for path in SOURCES:	# a versioned function: its default version is the one documented
        for m in re.finditer(r'\.symver (\w+), (\w+)@@', path.read_text()):
            if m.group(2) not in funcs and m.group(1) in funcs:
                funcs[m.group(2)] = funcs[m.group(1)]
                calls[m.group(2)] = calls[m.group(1)]
    for name, (documented, cannot_fail) in sorted(docs.items()):
        if name not in funcs or cannot_fail:
            continue
        checked += 1
        seen, stack, via = {name}, [name], {}
        while stack:
            f = stack.pop()
            for c in fail_codes(funcs[f]):
                via.setdefault(c, f)
            for g in calls[f]:
                if g not in seen:
                    seen.add(g)
                    stack.append(g)
        for code, where in sorted(via.items()):
            if code not in documented and (name, code) not in ABSORBED:
                print(f"{name}: -{code} is not in its documented list (from {where.split(':')[-1]}())")
                bad += 1
    print(f"error_lists: {checked} functions checked, {bad} undocumented code(s)")
    return 1 if bad or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
