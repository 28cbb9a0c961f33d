#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside input (docs/security.md), with
# libFuzzer from Debian's clang.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default: 60 s each, every target
#
# Builds build/fuzz (clang, -fsanitize=fuzzer,address,undefined), then runs each target
# for SECONDS from its checked-in seed corpus (tests/fuzz/corpus/<target>) plus what
# earlier runs found (build/fuzz/corpus/<target>, not checked in). A crash, leak, hang
# or sanitizer report stops that target; its input is kept in build/fuzz/crashes/ and
# the script exits 1 after printing a line per target.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-60}
shift || true
BUILD=$ROOT/build/fuzz
cd "$ROOT"

if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null |
  grep -q "install ok installed"; then
  scripts/install-deps.sh --fuzz
fi

TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  for f in tests/fuzz/*_fuzz.cpp; do TARGETS+=("$(basename "$f" _fuzz.cpp)"); done
fi

# FERRY_FUZZ_NO_BUILD=1: use the targets already built (several runs side by side).
if [[ -z "${FERRY_FUZZ_NO_BUILD:-}" ]]; then
  echo "==> building fuzz targets (clang, libFuzzer) in $BUILD" >&2
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFERRY_FUZZ=ON -DFERRY_WERROR=OFF >/dev/null
  cmake --build "$BUILD" --target "${TARGETS[@]/%/_fuzz}" >&2
fi

failed=0
printf '%-16s %10s %10s %8s %8s  %s\n' target runs exec/s cov corpus result
for t in "${TARGETS[@]}"; do
  work=$BUILD/corpus/$t crashes=$BUILD/crashes/$t
  mkdir -p "$work" "$crashes"
  log=$BUILD/$t.log
  set +e
  # Seeds are read, never written: new inputs go to the work corpus (the first dir).
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    "$BUILD/bin/${t}_fuzz" "$work" "tests/fuzz/corpus/$t" -max_total_time="$SECONDS_EACH" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
  corp=$(find "$work" -type f | wc -l)
  result=ok
  if ((rc != 0)); then result="FAILED (see $log, input in $crashes)"; failed=1; fi
  printf '%-16s %10s %10s %8s %8s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "$corp" "$result"
done
exit $failed
