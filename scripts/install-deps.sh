#!/usr/bin/env bash
# Installs every Debian package ferry needs to build, test and benchmark.
# Idempotent: only calls apt-get when a package is missing, so repeated runs are fast.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config clang-format
  librdkafka-dev libboost-dev libboost-filesystem-dev libtomlplusplus-dev
  libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev nlohmann-json3-dev
  rapidjson-dev libsystemd-dev prometheus-cpp-dev libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev unixodbc-dev
)
TEST_PKGS=(kcat mosquitto mosquitto-clients openssl default-jdk-headless maven python3
           python3-prometheus-client systemd procps util-linux time
           unixodbc odbc-postgresql libsqliteodbc odbc-mariadb sqlite3
           postgresql-15 postgresql-client-15 mariadb-server mariadb-client)

# Only scripts/fuzz.sh needs clang's libFuzzer and sanitizer runtimes.
FUZZ_PKGS=(clang libfuzzer-14-dev libclang-rt-14-dev)

want=("${BUILD_PKGS[@]}")
case "${1:-}" in
  --build-only) ;;
  --fuzz) want+=("${FUZZ_PKGS[@]}") ;;
  *) want+=("${TEST_PKGS[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# A JDK from elsewhere (e.g. a preinstalled Temurin) is fine for the broker.
if command -v java >/dev/null && command -v mvn >/dev/null; then
  missing=("${missing[@]/default-jdk-headless/}"); missing=("${missing[@]/maven/}")
fi
read -r -a missing <<<"${missing[*]:-}"

if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi
