# Shared by the long-run scripts (torture, kafka-faults, sigkill-matrix, soak): the build
# under test and the real services they start for themselves. Source it; needs ROOT.

# The build in $1 (or the dev preset's) with its test binary, built when missing.
ensure_test_build() {
  local build=$1
  if [[ ! -x $build/bin/ferry_e2e_tests ]]; then
    cmake --preset dev >/dev/null
    cmake --build --preset dev --target ferry_e2e_tests
  fi
}

# Starts Kafka, mosquitto and PostgreSQL under DIR (the layout the tests' services
# fixture uses, so FERRY_TEST_SERVICES_DIR=DIR points the tests at them).
start_services() {
  local dir=$1
  "$ROOT/scripts/kafka.sh" start "$dir/kafka" >/dev/null
  "$ROOT/scripts/mosquitto.sh" start "$dir/mqtt" >/dev/null
  "$ROOT/scripts/postgres.sh" start "$dir/pg" >/dev/null
}

stop_services() {
  local dir=$1
  "$ROOT/scripts/kafka.sh" stop "$dir/kafka" >/dev/null 2>&1 || true
  "$ROOT/scripts/mosquitto.sh" stop "$dir/mqtt" >/dev/null 2>&1 || true
  "$ROOT/scripts/postgres.sh" stop "$dir/pg" >/dev/null 2>&1 || true
}

# Runs the e2e tests of $BUILD matching FILTER (with the caller's FERRY_* settings in the
# environment), output in OUT; prints the summary line starting with PREFIX (or the
# output's tail) and, on failure, the failed assertions. Returns the tests' status.
run_long_test() {
  local filter=$1 prefix=$2 out=$3 status=0
  "$BUILD/bin/ferry_e2e_tests" --gtest_filter="$filter" >"$out" 2>&1 || status=$?
  grep -h "^$prefix" "$out" || tail -40 "$out"
  ((status == 0)) || { grep -E "Failure|Expected|Which is|differs" -A3 "$out" | head -40; }
  return $status
}
