#!/usr/bin/env bash
# A real mosquitto MQTT broker for tests and benchmarks, on a free loopback port.
#
#   scripts/mosquitto.sh start DIR   start it with its files in DIR; prints
#                                    FERRY_TEST_MQTT=mqtt://127.0.0.1:PORT and writes
#                                    that URL to DIR/url and the port to DIR/port
#   scripts/mosquitto.sh pause DIR   stop the broker but keep DIR (outage tests)
#   scripts/mosquitto.sh resume DIR  start it again on the same ports; sessions are gone
#   scripts/mosquitto.sh stop DIR    stop it and remove DIR
#
# MQTT_MAX_INFLIGHT sets the broker's per-client window of unacknowledged QoS 1/2
# messages (default here 1000; mosquitto's own default is 20).
#
# Three listeners: DIR/url (anonymous), DIR/tls_url (mqtts, a client certificate
# signed by DIR/ca.crt is required: DIR/client.crt, DIR/client.key) and DIR/auth_url
# (user "ferry", password in DIR/password).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
MOSQUITTO=/usr/sbin/mosquitto

start() {
  local dir=$1 ports
  [[ -x $MOSQUITTO ]] && command -v mosquitto_pub >/dev/null && command -v openssl >/dev/null ||
    "$HERE/install-deps.sh"
  stop "$dir"
  mkdir -p "$dir"
  ports=$("$HERE/free-port.py" 3)
  read -r port tls_port auth_port <<<"$(echo $ports)"
  make_certs "$dir"
  echo "ferry-test-$RANDOM$RANDOM" >"$dir/password"
  mosquitto_passwd -c -b "$dir/passwd" ferry "$(cat "$dir/password")" >/dev/null
  # Persistent sessions must survive a subscriber's crash with everything published
  # meanwhile (the tests kill ferry mid-stream), so the per-client queue is generous.
  # `user root`: started as root, mosquitto would switch to the mosquitto user, which
  # cannot read the password file or write the log in DIR.
  cat >"$dir/mosquitto.conf" <<CONF
user root
per_listener_settings true
persistence false
max_queued_messages 1000000
max_inflight_messages ${MQTT_MAX_INFLIGHT:-1000}
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
listener $port 127.0.0.1
allow_anonymous true
listener $tls_port 127.0.0.1
allow_anonymous true
cafile $dir/ca.crt
certfile $dir/server.crt
keyfile $dir/server.key
require_certificate true
listener $auth_port 127.0.0.1
allow_anonymous false
password_file $dir/passwd
CONF
  echo "$port" >"$dir/port"
  launch "$dir"
  echo "mqtt://127.0.0.1:$port" >"$dir/url"
  echo "mqtts://127.0.0.1:$tls_port" >"$dir/tls_url"
  echo "mqtt://127.0.0.1:$auth_port" >"$dir/auth_url"
  echo "FERRY_TEST_MQTT=mqtt://127.0.0.1:$port"
}

# A CA, a server certificate for 127.0.0.1 and a client certificate, all throwaway.
make_certs() {
  local dir=$1
  (
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=ferry test CA" -keyout ca.key -out ca.crt 2>/dev/null
    for who in server client; do
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=ferry test $who" -keyout "$who.key" -out "$who.csr" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$who.ext"
      openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile "$who.ext" -out "$who.crt" 2>/dev/null
    done
  )
}

launch() {
  local dir=$1 port deadline
  port=$(cat "$dir/port")
  setsid "$MOSQUITTO" -c "$dir/mosquitto.conf" </dev/null >>"$dir/stdout.log" 2>&1 &
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
}

terminate() {
  local pid
  [[ -f $1/mosquitto.pid ]] || return 0
  pid=$(cat "$1/mosquitto.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  terminate "$1"
  rm -rf "$1"
}

case "${1:-}" in
  start) start "${2:?dir}" ;;
  pause) terminate "${2:?dir}" ;;
  resume) launch "${2:?dir}" ;;
  stop) stop "${2:?dir}" ;;
  *) echo "usage: $0 start|pause|resume|stop DIR" >&2; exit 1 ;;
esac
