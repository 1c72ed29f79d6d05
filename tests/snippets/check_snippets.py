#!/usr/bin/env python3
"""Compiles every fenced C++ block (```cpp, ```c++, ```cxx) of the given Markdown files.

A block is compiled as one translation unit. What a fragment needs around it is declared
in an HTML comment right above its fence (invisible when the Markdown is rendered):

    <!-- snippet
    include: <ivrapi/ivrapi.hpp> <iostream>
    wrap: void example(ivrapi::Session& call)
    run-expect: set ERA_TOKEN
    -->

  include     headers added before the block (nothing is included implicitly)
  wrap        the block's statements become the body of this function (its own #include
              lines stay at file scope)
  run-expect  also link the block against the SDK, run it with an empty environment and
              expect a failure exit (1-125, not a crash) whose output contains this text

A block that uses <ivrapi/coro.hpp> is compiled as C++20, the others as C++17. Every
section named with --require ("## Title" in a file) must hold at least one block.

usage: check_snippets.py --cxx C++ --include DIR [--link "ARGS"] --work DIR [--require TITLE]... FILE.md...
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

FENCE = re.compile(r"^```\s*(cpp|c\+\+|cxx)\s*$")
DIRECTIVE_START = re.compile(r"^<!--\s*snippet\s*$")


def extract(path):
    """Yields (line number, directive dict, code) for every C++ block of a Markdown file."""
    lines = open(path, encoding="utf-8").read().splitlines()
    directive = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if DIRECTIVE_START.match(line.strip()):
            directive = {}
            i += 1
            while i < len(lines) and lines[i].strip() != "-->":
                key, _, value = lines[i].partition(":")
                if not _:
                    sys.exit(f"{path}:{i + 1}: snippet directive line without 'key: value'")
                key = key.strip()
                if key not in ("include", "wrap", "run-expect"):
                    sys.exit(f"{path}:{i + 1}: unknown snippet directive '{key}'")
                directive[key] = value.strip()
                i += 1
            i += 1
            continue
        if FENCE.match(line):
            start = i + 1
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                sys.exit(f"{path}:{start}: unterminated code block")
            yield start, directive, "\n".join(body) + "\n"
            directive = {}
        elif line.strip():
            directive = {}  # a directive applies only to the block right below it
        i += 1


def translation_unit(directive, code):
    head = [f"#include {h}" for h in directive.get("include", "").split()]
    if "wrap" not in directive:
        return "\n".join(head) + "\n" + code
    own_includes = [l for l in code.splitlines() if l.startswith("#include")]
    statements = [l for l in code.splitlines() if not l.startswith("#include")]
    return "\n".join(head + own_includes) + "\n" + directive["wrap"] + " {\n" + \
        "\n".join(statements) + "\n}\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("--link", default="")
    ap.add_argument("--work", required=True)
    ap.add_argument("--require", action="append", default=[])
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    common = ["-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I" + args.include]
    failures = count = 0
    sections_with_blocks = set()
    for md in args.files:
        lines = open(md, encoding="utf-8").read().splitlines()
        for line, directive, code in extract(md):
            count += 1
            heading = next((l[3:].strip() for l in reversed(lines[:line]) if l.startswith("## ")), "")
            sections_with_blocks.add(heading)
            tu = translation_unit(directive, code)
            flags = ["-std=c++20" if "<ivrapi/coro.hpp>" in tu else "-std=c++17", *common]
            name = re.sub(r"[^A-Za-z0-9]+", "_", os.path.relpath(md)) + f"_{line}"
            src = os.path.join(args.work, name + ".cpp")
            with open(src, "w", encoding="utf-8") as f:
                f.write(tu)
            where = f"{md}:{line}"
            if "run-expect" in directive:
                exe = os.path.join(args.work, name)
                cmd = [args.cxx, *flags, src, "-o", exe, *shlex.split(args.link)]
            else:
                cmd = [args.cxx, *flags, "-fsyntax-only", src]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                failures += 1
                print(f"FAIL {where}: does not compile ({src})\n{r.stderr}")
                continue
            if "run-expect" in directive:
                run = subprocess.run(["env", "-i", exe], capture_output=True, text=True, timeout=30)
                out = run.stdout + run.stderr
                if not 1 <= run.returncode <= 125 or directive["run-expect"] not in out:
                    failures += 1
                    print(f"FAIL {where}: run with an empty environment exited {run.returncode}, "
                          f"expected a failure exit mentioning '{directive['run-expect']}'; output:\n{out}")
                    continue
            print(f"ok   {where}")
    if count == 0:
        sys.exit("no C++ blocks found: is the extractor still reading the right fences?")
    for title in args.require:
        if title not in sections_with_blocks:
            failures += 1
            print(f"FAIL section '{title}' has no C++ block")
    print(f"{count - failures}/{count} snippets pass")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
