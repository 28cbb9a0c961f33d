#!/usr/bin/env bash
# Builds the release preset and packs it: prints the path of ferry_<version>_<arch>.deb.
# Install it with `apt install ./ferry_*.deb`; it creates the ferry user and the unit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only >&2
cmake --preset release >&2
cmake --build --preset release >&2
(cd build/release && cpack -G DEB -B "$PWD/package" >&2)
ls "$PWD"/build/release/package/ferry_*.deb
