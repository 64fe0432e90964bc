#!/usr/bin/env python3
"""check_layers: src/ is built in floors, bottom to top

    util < core < policy < proto < commands < net < bindings < cli

and a floor may use itself and the floors below it, never one above. This
checks, and prints one line per violation:

  1. every #include "..." of a file under src/FLOOR/ names a floor's file
     ("core/engine.h") of that floor or a lower one;
  2. every symbol a floor's library leaves undefined (nm) is defined in that
     library, a lower floor's, or none of ours (the C library, Lua, libuv,
     jemalloc...), given the libraries with --lib FLOOR=PATH;
  3. no file includes an external header its floor keeps out (the engine
     core knows neither Lua nor libuv; only core/arena.c sees jemalloc),
     whatever path names it;
  and that no include climbs the tree ("..") or names our own header in
  angle brackets, which would hide it from the first check.

Usage: check_layers.py SRC_DIR [--lib FLOOR=LIBRARY.a ...]
Exit status: 0 clean, 1 violations, 2 bad usage.
"""
import os
import re
import subprocess
import sys

FLOORS = ["util", "core", "policy", "proto", "commands", "net", "bindings", "cli"]
RANK = {f: i for i, f in enumerate(FLOORS)}

# External libraries a floor may keep out, by their headers: any path
# naming one (<lua5.4/lua.h>, <uv/unix.h>, <jemalloc/jemalloc.h>).
LIBRARIES = {
    "lua": re.compile(r"(^|/)(lua[0-9.]*|lauxlib|lualib|luaconf)\.h$|^lua[0-9.]*/"),
    "libuv": re.compile(r"(^|/)uv\.h$|^uv/"),
    "jemalloc": re.compile(r"(^|/)jemalloc[^/]*\.h$|^jemalloc/"),
}

# The libraries each floor keeps out.
FORBIDDEN = {
    "util": {"lua", "libuv", "jemalloc"},
    "core": {"lua", "libuv"},
    "policy": {"libuv", "jemalloc"},
    "proto": {"lua", "libuv", "jemalloc"},
    "commands": {"lua", "libuv", "jemalloc"},
    "net": {"lua", "jemalloc"},
    "bindings": {"libuv", "jemalloc"},
    "cli": {"jemalloc"},
}


def external(target):
    """The library an external header belongs to, or None."""
    for name, pattern in LIBRARIES.items():
        if pattern.search(target):
            return name
    return None
# The one file that may talk to jemalloc (DESIGN.md §3).
JEMALLOC_FILES = {"core/arena.c"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def check_sources(src):
    problems = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            floor = rel.split("/")[0]
            if floor not in RANK or "/" not in rel:
                problems.append(f"{rel}: not inside a floor's folder ({', '.join(FLOORS)})")
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for no, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    kind, target = m.groups()
                    where = f"{rel}:{no}"
                    parts = target.split("/")
                    if ".." in parts or "." in parts:
                        problems.append(f"{where}: #include {target!r} climbs the tree "
                                        f"(name a floor's file directly)")
                        continue
                    to = parts[0]
                    if to in RANK and len(parts) > 1:
                        # Ours, in quotes or not: the floor order holds.
                        if RANK[to] > RANK[floor]:
                            problems.append(f'{where}: {floor} includes "{target}" '
                                            f'from {to}, a higher floor')
                        elif kind == "<":
                            problems.append(f'{where}: #include <{target}> is ours: '
                                            f'write "{target}"')
                        elif not os.path.exists(os.path.join(src, target)):
                            problems.append(f'{where}: #include "{target}": no such file')
                    elif kind == '"':
                        problems.append(f'{where}: #include "{target}" names no floor '
                                        f'(write "floor/file.h")')
                    elif external(target) == "jemalloc" and rel not in JEMALLOC_FILES:
                        problems.append(f"{where}: includes <{target}>: only "
                                        f"{', '.join(sorted(JEMALLOC_FILES))} may")
                    elif external(target) in FORBIDDEN[floor]:
                        problems.append(f"{where}: {floor} includes <{target}>, which "
                                        f"it keeps out")
    return problems


def nm(library, *flags):
    out = subprocess.run(["nm", "-g", *flags, library], check=True,
                         capture_output=True, text=True).stdout
    symbols = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.endswith(":"):
            symbols.add(parts[-1])
    return symbols


def check_symbols(libs):
    problems = []
    defined = {floor: nm(path, "--defined-only") for floor, path in libs.items()}
    for floor, path in libs.items():
        for symbol in sorted(nm(path, "--undefined-only") - defined[floor]):
            owners = [f for f in libs if symbol in defined[f]]
            higher = [f for f in owners if RANK[f] > RANK[floor]]
            if higher and not any(RANK[f] <= RANK[floor] for f in owners):
                problems.append(f"{os.path.basename(path)}: {floor} uses {symbol}, "
                                f"defined in {', '.join(higher)}, a higher floor")
    return problems


def main(argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    src = argv[1]
    libs = {}
    args = argv[2:]
    while args:
        if args[0] != "--lib" or len(args) < 2 or "=" not in args[1]:
            print(__doc__, file=sys.stderr)
            return 2
        floor, path = args[1].split("=", 1)
        if floor not in RANK:
            print(f"check_layers: unknown floor {floor}", file=sys.stderr)
            return 2
        libs[floor] = path
        args = args[2:]
    if not os.path.isdir(src):
        print(f"check_layers: {src} is not a directory", file=sys.stderr)
        return 2
    problems = check_sources(src) + check_symbols(libs)
    for p in problems:
        print(p)
    checked = f"{src}" + (f" and {len(libs)} libraries" if libs else "")
    print(f"check_layers: {checked}: {len(problems)} violation(s)",
          file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
