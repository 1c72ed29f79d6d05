#!/usr/bin/env python3
"""Doxygen input filter: reads the headers' plain `//` comments as documentation.

The public headers keep the code base's comment style (short `//` comments that say
why); Doxygen sees them as if they were doc comments:
  - a `//` block directly above a declaration documents it (as `///`);
  - a trailing `//` comment on a member, enumerator or declaration documents it
    (as `///<`);
  - the comment before `#pragma once` (the file's summary), `// NOLINT ...` and
    `}  // namespace` closers are left alone; `///` comments pass unchanged.
Line numbers are kept, so warnings point at the real line. Used through
FILTER_PATTERNS in docs/Doxyfile; prints the filtered file on stdout.
"""
import re
import sys

COMMENT_LINE = re.compile(r"^\s*//( |$)")
TRAILING = re.compile(r"^(\s*[^\s/].*?)(\s+)// (.*)$")
NOT_DOCUMENTABLE = ("#", "}", "namespace", "public:", "private:", "protected:")


def trailing_to_doc(line):
    m = TRAILING.match(line)
    if not m:
        return line
    code, gap, text = m.groups()
    if text.startswith(("NOLINT", "namespace")) or code.lstrip().startswith("#"):
        return line
    if code.count('"') % 2 or code.rstrip().endswith("{"):  # inside a string, or a block opener
        return line
    return code + gap + "///< " + text


def declaration_end(lines, i):
    """Index of the last line of the declaration starting at line i (up to its ';')."""
    depth = 0
    for k in range(i, len(lines)):
        code = lines[k].split("//", 1)[0]
        depth += code.count("(") + code.count("{") - code.count(")") - code.count("}")
        if depth <= 0 and (code.rstrip().endswith(";") or code.rstrip().endswith("}")):
            return k
    return i


def group_declarations(lines, i):
    """When one comment documents several declarations in a row (overloads, the Future
    and callback forms of a call, `std::string a, b;`), makes them a member group
    sharing it (Doxyfile: DISTRIBUTE_GROUP_DOC). Markers go on existing lines, keeping
    line numbers."""
    last = declaration_end(lines, i)
    k = last + 1
    while k < len(lines):
        nxt = lines[k].strip()
        own_doc = "//" in lines[k] and "// NOLINT" not in lines[k]
        if not nxt or nxt.startswith("//") or nxt.startswith(NOT_DOCUMENTABLE) or own_doc:
            break
        last = declaration_end(lines, k)
        k = last + 1
    first = lines[i].split("//", 1)[0]
    several = "," in first and "(" not in first and "{" not in first and "<" not in first  # `T a, b;`
    if last > declaration_end(lines, i) or several:
        indent = len(lines[i]) - len(lines[i].lstrip())
        lines[i] = lines[i][:indent] + "/**@{*/ " + lines[i][indent:]
        lines[last] = lines[last] + " /**@}*/"


def document_main_class(lines, start):
    """A file summary of the form "// Name: what it is ..." above `#pragma once` also
    documents class or struct Name, when nothing else above that class does."""
    summary = [l[2:].strip() for l in lines[:start] if l.startswith("//")]
    m = re.match(r"^(?:ivrapi::)?(\w+)(?:<\w+>)?: ", summary[0]) if summary else None
    if not m:
        return
    decl = re.compile(r"^(class|struct) (\[\[\w+\]\] )?" + m.group(1) + r"\b[^;]*$")
    for i in range(start, len(lines)):
        if decl.match(lines[i]) and not COMMENT_LINE.match(lines[i - 1]) and \
                not lines[i - 1].lstrip().startswith("///") and "template" not in lines[i - 1] or \
                decl.match(lines[i]) and lines[i - 1].startswith("template") and not COMMENT_LINE.match(lines[i - 2]):
            text = " ".join(t for t in summary if t).replace("*/", "* /")
            lines[i] = "/** " + text + " */ " + lines[i]
            return


def main(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("#pragma once")) + 1
    except StopIteration:
        start = 0
    document_main_class(lines, start)
    i = start
    while i < len(lines):
        if COMMENT_LINE.match(lines[i]):
            j = i
            while j < len(lines) and COMMENT_LINE.match(lines[j]):
                j += 1
            following = lines[j].strip() if j < len(lines) else ""
            if following and (following.startswith("#define") or not following.startswith(NOT_DOCUMENTABLE)):
                for k in range(i, j):
                    lines[k] = lines[k].replace("//", "///", 1)
                group_declarations(lines, j)
            i = j
            continue
        lines[i] = trailing_to_doc(lines[i])
        i += 1
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
