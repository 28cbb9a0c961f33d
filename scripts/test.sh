#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing,
# checks formatting, builds with address and undefined-behaviour sanitizers (preset
# `dev`), and runs every unit, integration and end-to-end test with ctest. ctest's
# `services` fixture starts a real Apache Kafka broker (scripts/kafka.sh), mosquitto,
# PostgreSQL 15 and MariaDB, and stops them afterwards, also when tests fail.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PRESET=${FERRY_TEST_PRESET:-dev}
cd "$ROOT"

echo "==> dependencies"
scripts/install-deps.sh
scripts/kafka.sh fetch

echo "==> format check (clang-format)"
scripts/format.sh --check

echo "==> build (preset $PRESET)"
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET"

echo "==> tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --preset "$PRESET" --timeout 900 "$@"
