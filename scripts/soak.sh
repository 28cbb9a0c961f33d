#!/usr/bin/env bash
# Soak: every bundled connector at a steady, moderate rate for MINUTES (default 60),
# against a real Kafka, PostgreSQL and mosquitto started here, with a reload (SIGHUP)
# every RELOAD_EVERY seconds (default 300) and logrotate-style rotation of the tailed
# files every minute. Every 10 s it samples ferry's RSS, open descriptors, threads, CPU
# time and the size of its state files into build/soak/samples.csv, and at the end
# compares the first samples after warm-up (minutes 5-10) with the last ten minutes:
# flat means RSS within 10 % (+8 MiB), the same descriptors (+8) and threads, state files
# within 64 KiB. Exits 1 when something grew, or when ferry died.
#
#   scripts/soak.sh [MINUTES] [RELOAD_EVERY_SECONDS]
#
# SOAK_RETENTION (e.g. 5m) shortens what ferry remembers on purpose: the span tracker's
# retention, file-source's forget_after and the per-span sink's span_done_retention
# (defaults: 7 days, 1 h, 7 days). Until their retention passes, spans and rotated files
# are remembered, so memory and state grow with them by design; with a short one an
# hour shows whether anything grows beyond it.
#
# Uses the release build (cmake --preset release) unless FERRY_BUILD_DIR names another:
# a sanitizer build's allocator quarantine would dominate the memory figures.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${1:-60}
RELOAD_EVERY=${2:-300}
BUILD=${FERRY_BUILD_DIR:-$ROOT/build/release}
OUT=$ROOT/build/soak
cd "$ROOT"

if [[ ! -x $BUILD/bin/ferry ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target ferry ferry_file ferry_sensors ferry_odbc
fi
command -v mosquitto_pub >/dev/null || scripts/install-deps.sh

rm -rf "$OUT"
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/ferry-soak-XXXXXX)
PIDS=()
source scripts/chaos-lib.sh
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n ${FERRY_PID:-} ]] && { kill -TERM "$FERRY_PID" 2>/dev/null || true; wait "$FERRY_PID" 2>/dev/null || true; }
  stop_services "$WORK"
  rm -rf "$WORK"
}
trap cleanup EXIT
start_services "$WORK"
BOOTSTRAP=$(cat "$WORK/kafka/bootstrap")
MQTT=$(cat "$WORK/mqtt/url")
PG_PORT=$(cat "$WORK/pg/port")
PG_CONN="Driver=PostgreSQL Unicode;Servername=127.0.0.1;Port=$PG_PORT;Database=ferry;UID=ferry;PWD=$(cat "$WORK/pg/password")"
psql_() { scripts/postgres.sh psql "$WORK/pg" -qAt "$@"; }
psql_ -c "CREATE TABLE readings (id bigserial PRIMARY KEY, device int, v double precision, note text)"
psql_ -c "CREATE TABLE readings_replica (id bigint PRIMARY KEY, device int, v double precision, note text)"

mkdir -p "$WORK"/{logs,inbox,out,spans-out,state,connectors.d}
cat >"$WORK/ferry.toml" <<EOF
[host]
state_dir = "state"
connectors_dir = "connectors.d"
[rest]
listen = "127.0.0.1:0"
[kafka]
"bootstrap.servers" = "$BOOTSTRAP"
EOF
RETENTION=${SOAK_RETENTION:-}
[[ -z $RETENTION ]] || printf '[spans]\nretention = "%s"\n' "$RETENTION" >>"$WORK/ferry.toml"
forget=${RETENTION:+forget_after = \"$RETENTION\"}
done_retention=${RETENTION:+span_done_retention = \"$RETENTION\"}
cat >"$WORK/connectors.d/tail.toml" <<EOF
plugin = "file-source"
topic = "soak.logs"
[config]
paths = ["$WORK/logs/*.log*"]
$forget
[span]
enabled = true
idle_close = "30s"
EOF
cat >"$WORK/connectors.d/logs-out.toml" <<EOF
plugin = "file-sink"
topics = ["soak.logs"]
[config]
path = "$WORK/out/logs.txt"
rotate_bytes = "8MiB"
EOF
cat >"$WORK/connectors.d/batch.toml" <<EOF
plugin = "file-source"
topic = "soak.batch"
[config]
paths = ["$WORK/inbox/*.csv"]
mode = "batch"
on_done = "delete"
[span]
enabled = true
EOF
cat >"$WORK/connectors.d/batch-out.toml" <<EOF
plugin = "file-sink"
topics = ["soak.batch"]
[config]
path = "$WORK/spans-out/{filename}"
per_span = true
$done_retention
EOF
cat >"$WORK/connectors.d/cdc.toml" <<EOF
plugin = "odbc-cdc"
topic = "soak.{table}"
[config]
connection = "$PG_CONN"
slot = "soak"
publication = "soak"
tables = ["readings"]
[span]
enabled = true
EOF
cat >"$WORK/connectors.d/replica.toml" <<EOF
plugin = "odbc-sink"
topics = ["soak.readings"]
[config]
connection = "$PG_CONN"
table = "readings_replica"
EOF
cat >"$WORK/connectors.d/mqtt.toml" <<EOF
plugin = "sensors"
topic = "soak.mqtt"
[config]
driver = "mqtt"
url = "$MQTT"
topics = ["soak/#"]
session = "persistent"
client_id = "ferry-soak"
[span]
enabled = true
EOF
cat >"$WORK/connectors.d/simulated.toml" <<EOF
plugin = "sensors"
topic = "soak.simulated"
[config]
driver = "simulated"
interval = "1s"
devices = 20
window = "1m"
[span]
enabled = true
EOF

(cd "$WORK" && exec "$BUILD/bin/ferry" run -c "$WORK/ferry.toml" >"$OUT/ferry.log" 2>&1) &
FERRY_PID=$!
for _ in $(seq 1 300); do [[ -s $WORK/state/rest.address ]] && break; sleep 0.1; done

# The load: ~200 lines/s over three logs rotated every minute, a 100-line file every
# 10 s, ~50 rows/s into PostgreSQL (inserts and updates), ~20 MQTT readings/s.
(
  n=0
  while true; do
    for f in a b c; do
      for i in $(seq 1 7); do echo "$(date +%s.%N) $f line $((n++)) $RANDOM$RANDOM"; done >>"$WORK/logs/$f.log"
    done
    sleep 0.1
  done
) &
PIDS+=($!)
(
  while sleep 60; do
    for f in a b c; do
      rm -f "$WORK/logs/$f.log.2"
      [[ -f $WORK/logs/$f.log.1 ]] && mv "$WORK/logs/$f.log.1" "$WORK/logs/$f.log.2"
      mv "$WORK/logs/$f.log" "$WORK/logs/$f.log.1"
    done
    # what the sinks wrote is not what this measures: keep the disk bounded
    find "$WORK/out" -name 'logs.txt.*' -mmin +2 -delete 2>/dev/null || true
    find "$WORK/spans-out" -type f -mmin +2 -delete 2>/dev/null || true
  done
) &
PIDS+=($!)
(
  k=0
  while sleep 10; do
    seq 1 100 | sed "s/^/$k,/" >"$WORK/inbox/.f$k.tmp" && mv "$WORK/inbox/.f$k.tmp" "$WORK/inbox/f$k.csv"
    k=$((k + 1))
  done
) &
PIDS+=($!)
(
  while sleep 1; do
    psql_ -c "INSERT INTO readings (device, v, note) SELECT g % 10, random(), 'soak' FROM generate_series(1, 40) g;
              UPDATE readings SET v = v + 1 WHERE id IN (SELECT id FROM readings ORDER BY random() LIMIT 10)" \
      >/dev/null 2>&1 || true
  done
) &
PIDS+=($!)
(
  port=$(cat "$WORK/mqtt/port")
  while sleep 0.05; do
    mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "soak/dev$((RANDOM % 10))/temp" \
      -m "{\"value\": $((RANDOM % 100)).5, \"unit\": \"C\"}" 2>/dev/null || true
  done
) &
PIDS+=($!)

echo "soak: $MINUTES min, reload every $RELOAD_EVERY s; samples in $OUT/samples.csv" >&2
echo "minute,rss_kib,fds,threads,cpu_ticks,state_bytes,state_max_file_bytes" >"$OUT/samples.csv"
start=$SECONDS
next_reload=$((SECONDS + RELOAD_EVERY))
while ((SECONDS - start < MINUTES * 60)); do
  sleep 10
  if ! kill -0 "$FERRY_PID" 2>/dev/null; then
    echo "ferry died; last log lines:" >&2
    tail -30 "$OUT/ferry.log" >&2
    exit 1
  fi
  if ((SECONDS >= next_reload)); then
    kill -HUP "$FERRY_PID"
    next_reload=$((SECONDS + RELOAD_EVERY))
  fi
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$FERRY_PID/status")
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$FERRY_PID/status")
  fds=$(find "/proc/$FERRY_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
  cpu=$(awk '{print $14 + $15}' "/proc/$FERRY_PID/stat")
  state=$(find "$WORK/state" -type f -printf '%s\n' | awk '{s += $1; if ($1 > m) m = $1} END {print s + 0 "," m + 0}')
  minute=$(awk -v s=$((SECONDS - start)) 'BEGIN {printf "%.2f", s / 60}')
  echo "$minute,$rss,$fds,$threads,$cpu,$state" >>"$OUT/samples.csv"
done

python3 - "$OUT/samples.csv" "$MINUTES" <<'PY'
import csv, statistics, sys
rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(sys.argv[1]))]
minutes = float(sys.argv[2])
warm = [r for r in rows if 5 <= r["minute"] < 10] or rows[: max(1, len(rows) // 4)]
last = [r for r in rows if r["minute"] >= minutes - 10] or rows[-max(1, len(rows) // 4):]
def med(rs, k): return statistics.median(r[k] for r in rs)
checks = [
    ("RSS (MiB)", "rss_kib", 1 / 1024, lambda a, b: b <= a * 1.10 + 8 * 1024),
    ("open descriptors", "fds", 1, lambda a, b: b <= a + 8),
    ("threads", "threads", 1, lambda a, b: b <= a),
    ("state files (KiB)", "state_bytes", 1 / 1024, lambda a, b: b <= a + 64 * 1024),
]
ok = True
span = (rows[-1]["cpu_ticks"] - rows[0]["cpu_ticks"]) / 100 / (60 * (rows[-1]["minute"] - rows[0]["minute"]) or 1)
print(f"soak: {len(rows)} samples over {rows[-1]['minute']:.0f} min; CPU {100 * span:.1f} % of a core")
print(f"{'':20} {'warm-up (5-10 min)':>20} {'last 10 min':>14} {'max':>10}  flat")
for name, key, scale, flat in checks:
    a, b, m = med(warm, key), med(last, key), max(r[key] for r in rows)
    good = flat(a, b)
    ok &= good
    print(f"{name:20} {a * scale:20.1f} {b * scale:14.1f} {m * scale:10.1f}  {'yes' if good else 'NO'}")
sys.exit(0 if ok else 1)
PY
