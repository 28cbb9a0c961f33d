#!/usr/bin/env bash
# A real mosquitto MQTT broker for tests and benchmarks, on a free loopback port.
#
#   scripts/mosquitto.sh start DIR   start it with its files in DIR; prints
#                                    FERRY_TEST_MQTT=mqtt://127.0.0.1:PORT and writes
#                                    that URL to DIR/url and the port to DIR/port
#   scripts/mosquitto.sh stop DIR    stop it and remove DIR
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
MOSQUITTO=/usr/sbin/mosquitto

start() {
  local dir=$1 port deadline
  [[ -x $MOSQUITTO ]] && command -v mosquitto_pub >/dev/null || "$HERE/install-deps.sh"
  stop "$dir"
  mkdir -p "$dir"
  port=$("$HERE/free-port.py" 1)
  # Persistent sessions must survive a subscriber's crash with everything published
  # meanwhile (the tests kill ferry mid-stream), so the per-client queue is generous.
  cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
max_inflight_messages 1000
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
CONF
  setsid "$MOSQUITTO" -c "$dir/mosquitto.conf" </dev/null >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/mosquitto.pid"
  deadline=$((SECONDS + 30))
  until mosquitto_pub -h 127.0.0.1 -p "$port" -t ferry/ready -m 1 -q 1 2>/dev/null; do
    if ! kill -0 "$(cat "$dir/mosquitto.pid")" 2>/dev/null || ((SECONDS > deadline)); then
      echo "mosquitto did not start; log:" >&2
      cat "$dir/stdout.log" "$dir/mosquitto.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
  echo "$port" >"$dir/port"
  echo "mqtt://127.0.0.1:$port" >"$dir/url"
  echo "FERRY_TEST_MQTT=mqtt://127.0.0.1:$port"
}

stop() {
  local dir=$1 pid
  [[ -f $dir/mosquitto.pid ]] || { rm -rf "$dir"; return 0; }
  pid=$(cat "$dir/mosquitto.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:?dir}" ;;
  stop) stop "${2:?dir}" ;;
  *) echo "usage: $0 start DIR|stop DIR" >&2; exit 1 ;;
esac
