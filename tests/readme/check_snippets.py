#!/usr/bin/env python3
"""Compiles the README's C++ blocks that carry a snippet directive (-fsyntax-only).

A directive is an HTML comment right above the fence (invisible when rendered):

    <!-- snippet
    include: <ivrapi/ivrapi.hpp> <cstdlib>
    wrap: void example(ivrapi::Session& call)
    -->

include: headers added before the block; wrap: the block's statements become the body of
this function (its #include lines stay at file scope). A block that uses <ivrapi/coro.hpp>
is compiled as C++20, the others as C++17. Every section named with --require must have
at least one such block.

usage: check_snippets.py --cxx C++ --include DIR [--require TITLE]... FILE.md
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```\s*(cpp|c\+\+|cxx)\s*$")


def blocks(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    section, directive, i = "", None, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        if line.strip() == "<!-- snippet":
            directive = {}
            i += 1
            while i < len(lines) and lines[i].strip() != "-->":
                key, sep, value = lines[i].partition(":")
                if not sep or key.strip() not in ("include", "wrap"):
                    sys.exit(f"{path}:{i + 1}: bad snippet directive line")
                directive[key.strip()] = value.strip()
                i += 1
        elif FENCE.match(line):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if directive is not None:
                yield section, start, directive, body
            directive = None
        elif line.strip() and directive is not None and line.strip() != "-->":
            directive = None  # a directive applies only to the block right below it
        i += 1


def unit(directive, body):
    head = [f"#include {h}" for h in directive.get("include", "").split()]
    own = [l for l in body if l.startswith("#include")]
    rest = [l for l in body if not l.startswith("#include")]
    if "wrap" in directive:
        rest = [directive["wrap"] + " {"] + rest + ["}"]
    return "\n".join(head + own + rest) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--include", action="append", default=[])
    ap.add_argument("--require", action="append", default=[])
    ap.add_argument("markdown")
    a = ap.parse_args()
    seen, failed = set(), 0
    with tempfile.TemporaryDirectory() as work:
        for n, (section, line, directive, body) in enumerate(blocks(a.markdown)):
            code = unit(directive, body)
            std = "c++20" if "ivrapi/coro.hpp" in code else "c++17"
            src = os.path.join(work, f"snippet{n}.cpp")
            open(src, "w").write(code)
            cmd = [a.cxx, f"-std={std}", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
            cmd += [f"-I{d}" for d in a.include] + [src]
            r = subprocess.run(cmd, capture_output=True, text=True)
            status = "ok" if r.returncode == 0 else "FAILED"
            print(f"{a.markdown}:{line} [{section}] {std}: {status}")
            if r.returncode != 0:
                failed += 1
                print(code + r.stderr)
            seen.add(section)
    missing = [s for s in a.require if s not in seen]
    for s in missing:
        print(f"section '{s}' has no compiled snippet")
    sys.exit(1 if failed or missing else 0)


main()
