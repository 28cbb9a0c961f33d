#!/usr/bin/env bash
# Kafka faults at full length: the broker SIGKILLed and restarted on its data 10 times,
# then paused (SIGSTOP) for 60 s, while a file flows into Kafka and back into a file
# (tests/e2e/kafka_faults_test.cpp, which the test command runs with 2 kills and a 10 s pause).
#
#   scripts/kafka-faults.sh [KILLS] [PAUSE_SECONDS] [LINES_PER_SECOND]   default: 10 60 5000
#
# Prints one "kafka faults:" line (lines, lost and duplicated in Kafka and in the sink's
# file, RSS before and during the pause). Uses the dev build unless FERRY_BUILD_DIR
# names another.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FERRY_BUILD_DIR:-$ROOT/build/dev}
cd "$ROOT"
source scripts/chaos-lib.sh
ensure_test_build "$BUILD"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
FERRY_CHAOS_KILLS=${1:-10} FERRY_CHAOS_PAUSE_S=${2:-60} FERRY_CHAOS_RATE=${3:-5000} \
  run_long_test 'KafkaFaults.*' "kafka faults:" "$out"
