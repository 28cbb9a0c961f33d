#!/usr/bin/env bash
# clang-format over every C/C++ source: `--check` fails on any difference (CI),
# no argument rewrites the files in place.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# Tracked files and new ones not yet added (but not what .gitignore excludes).
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.h' '*.c')
if [[ "${1:-}" == "--check" ]]; then
  clang-format --dry-run -Werror "${files[@]}"
else
  clang-format -i "${files[@]}"
fi
