#!/usr/bin/env bash
# Log rotation torture: the model-based rotation test (tests/e2e/file_rotation_model_test.cpp)
# with many more steps than the test command runs, against a real Kafka broker.
#
#   scripts/torture.sh [STEPS] [SEED] [CASE...]    default: 10000 steps, a random seed,
#                                                   all three cases
#
# Cases: RotatedNames (glob matches app.log.N), OnlyTheLiveName (glob is app.log only),
# Sigkills (rotated names watched, ferry SIGKILLed at random steps). Each prints one
# "rotation model:" line with its figures (lines, operations, lost, duplicated); a failed
# case keeps its step log and ferry's log in build/torture/<case>-<seed>/. Uses the dev
# build (cmake --preset dev) unless FERRY_BUILD_DIR names another.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STEPS=${1:-10000}
SEED=${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
shift 2 || shift $# || true
CASES=("$@")
((${#CASES[@]})) || CASES=(RotatedNames OnlyTheLiveName Sigkills)
BUILD=${FERRY_BUILD_DIR:-$ROOT/build/dev}
OUT=$ROOT/build/torture
cd "$ROOT"
mkdir -p "$OUT"

source scripts/chaos-lib.sh
ensure_test_build "$BUILD"

SERVICES=$(mktemp -d /tmp/ferry-torture-XXXXXX)
trap 'scripts/kafka.sh stop "$SERVICES/kafka" >/dev/null 2>&1 || true; rm -rf "$SERVICES"' EXIT
scripts/kafka.sh start "$SERVICES/kafka" >/dev/null

# A copy of the build under test: rebuilding during an hour's run changes nothing in it.
SNAP=$SERVICES/build
mkdir -p "$SNAP/bin" "$SNAP/lib/ferry"
cp "$BUILD/bin/ferry" "$BUILD/bin/ferry_e2e_tests" "$SNAP/bin/"
cp -r "$BUILD/lib/ferry/plugins" "$SNAP/lib/ferry/"
cp -r "$BUILD/test-plugins" "$SNAP/"
export FERRY_TEST_OTHER_BINARY=$SNAP/bin/ferry FERRY_TEST_OTHER_PLUGIN_DIR=$SNAP/test-plugins

echo "torture: $STEPS steps, seed $SEED" >&2
failed=0
for c in "${CASES[@]}"; do
  keep=$OUT/$c-$SEED
  rm -rf "$keep"
  if ! FERRY_TEST_SERVICES_DIR=$SERVICES FERRY_TORTURE_STEPS=$STEPS FERRY_TORTURE_SEED=$SEED \
    FERRY_TORTURE_KEEP=$keep "$SNAP/bin/ferry_e2e_tests" --gtest_filter="FileRotationModel.$c*" \
    >"$OUT/$c.out" 2>&1; then
    failed=1
    echo "$c: FAILED (step log and ferry log in $keep)" >&2
  fi
  grep -h "^rotation model:" "$OUT/$c.out" || tail -20 "$OUT/$c.out"
done
exit $failed
