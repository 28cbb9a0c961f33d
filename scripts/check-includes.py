#!/usr/bin/env python3
"""Fails when an #include crosses the allowed direction (docs/architecture.md).

- host/: each folder sits on a layer and includes only folders on lower layers (and
  the SDK's "ferry/..." headers), so no two folders include each other.
- sdk/: its own headers and the C++ standard library (plus the few C/POSIX headers the
  C ABI and UniqueFd need), nothing else: plugins build against it alone.
- plugins/<name>/: the SDK and files of its own folder, never host/ or another plugin.

  scripts/check-includes.py [SOURCE_DIR]
"""
import os
import re
import sys

# Lowest first. A folder may include folders on lower layers only.
HOST_LAYERS = [
    ["common"],
    ["loader"],
    ["config"],
    ["kafka", "state", "metrics", "transforms"],
    ["spans"],
    ["runtime"],
    ["rest"],
    ["service"],
    ["cli"],
]
LAYER = {f: i for i, layer in enumerate(HOST_LAYERS) for f in layer}

CXX_STD = set("""algorithm any array atomic barrier bit bitset cassert cctype cerrno cfloat
charconv chrono cinttypes climits clocale cmath compare concepts condition_variable
csignal cstdarg cstddef cstdint cstdio cstdlib cstring ctime cwchar deque exception
execution expected filesystem format forward_list fstream functional future
initializer_list iomanip ios iosfwd iostream istream iterator latch limits list locale
map memory memory_resource mutex new numbers numeric optional ostream queue random
ranges ratio regex scoped_allocator semaphore set shared_mutex source_location span
sstream stack stdexcept stop_token streambuf string string_view syncstream system_error
thread tuple type_traits typeindex typeinfo unordered_map unordered_set utility
valarray variant vector version""".split())
SDK_C_HEADERS = {"stdint.h", "stddef.h", "stdbool.h", "unistd.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def sources(root):
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith((".cpp", ".hpp", ".h", ".c")):
                yield os.path.join(dirpath, f)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            m = INCLUDE.match(line)
            if m:
                yield n, m.group(1), m.group(2)


def main():
    src = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), ".."))
    problems = []
    host = os.path.join(src, "host")
    folders = {d for d in os.listdir(host) if os.path.isdir(os.path.join(host, d))}
    for f in sorted(folders - set(LAYER)):
        problems.append(f"host/{f}/: not on any layer; add it to HOST_LAYERS in "
                        "scripts/check-includes.py and to docs/architecture.md")
    for path in sources(host):
        rel = os.path.relpath(path, src)
        parts = rel.split(os.sep)
        if len(parts) < 3:
            continue
        me = parts[1]
        for n, kind, name in includes(path):
            target = name.split("/")[0]
            if kind != '"' or "/" not in name or target not in folders or target == me:
                continue
            if me in LAYER and target in LAYER and LAYER[target] >= LAYER[me]:
                problems.append(f"{rel}:{n}: host/{me} may not include {name} "
                                f"(host/{target} is not on a lower layer)")
    for path in sources(os.path.join(src, "sdk")):
        rel = os.path.relpath(path, src)
        for n, kind, name in includes(path):
            ok = (name.startswith("ferry/") if kind == '"' else
                  name in CXX_STD or name in SDK_C_HEADERS)
            if not ok:
                problems.append(f"{rel}:{n}: the SDK may include only itself and the standard "
                                f"library, not {name}")
    plugins = os.path.join(src, "plugins")
    for plugin in sorted(os.listdir(plugins)):
        pdir = os.path.join(plugins, plugin)
        if not os.path.isdir(pdir):
            continue
        for path in sources(pdir):
            rel = os.path.relpath(path, src)
            for n, kind, name in includes(path):
                if kind != '"' or name.startswith("ferry/"):
                    continue
                here = os.path.join(os.path.dirname(path), name)
                own = os.path.join(pdir, name)
                if not (os.path.exists(here) or os.path.exists(own)):
                    problems.append(f"{rel}:{n}: plugins/{plugin} may include the SDK and its "
                                    f"own files only, not {name}")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} include(s) against docs/architecture.md")
        return 1
    print("includes follow the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
