#!/usr/bin/env bash
# The SIGKILL matrix at full length: every bundled connector under load in one ferry,
# killed KILLS times at random moments, then run cleanly to the end
# (tests/e2e/sigkill_matrix_test.cpp, which the test command runs with 5 kills).
#
#   scripts/sigkill-matrix.sh [KILLS]      default: 20
#
# Starts its own Kafka, mosquitto and PostgreSQL; prints one "sigkill matrix:" line
# (lost and duplicated per connector, replica equality, spans completed). Uses the dev
# build unless FERRY_BUILD_DIR names another.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FERRY_BUILD_DIR:-$ROOT/build/dev}
cd "$ROOT"
source scripts/chaos-lib.sh
ensure_test_build "$BUILD"
SERVICES=$(mktemp -d /tmp/ferry-matrix-XXXXXX)
out=$SERVICES/test.out
trap 'stop_services "$SERVICES"; rm -rf "$SERVICES"' EXIT
start_services "$SERVICES"
FERRY_TEST_SERVICES_DIR=$SERVICES FERRY_CHAOS_KILLS=${1:-20} \
  run_long_test 'SigkillMatrix.*' "sigkill matrix:" "$out"
