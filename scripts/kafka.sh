#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft broker + controller) for tests and benchmarks.
#
#   scripts/kafka.sh fetch            download the jars from Maven Central (cached)
#   scripts/kafka.sh start DIR        start a broker with data in DIR; prints
#                                     FERRY_TEST_BOOTSTRAP=127.0.0.1:PORT and writes it
#                                     to DIR/bootstrap
#   scripts/kafka.sh stop DIR         stop it (SIGTERM, then SIGKILL) and remove DIR
#   scripts/kafka.sh pause|resume DIR SIGSTOP/SIGCONT the broker (fault injection)
#   scripts/kafka.sh kill DIR         SIGKILL the broker, keeping its data (fault injection)
#   scripts/kafka.sh restart DIR      start it again on the same data and ports
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
KAFKA_VERSION=3.9.1
CACHE=${FERRY_CACHE_DIR:-$HOME/.cache/ferry}
LIBS=$CACHE/kafka-$KAFKA_VERSION/libs

fetch() {
  if [[ -f $LIBS/.complete ]]; then return; fi
  command -v mvn >/dev/null || "$HERE/install-deps.sh"
  echo "==> fetching Apache Kafka $KAFKA_VERSION from Maven Central" >&2
  rm -rf "$LIBS"
  mvn -q -B -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2
  touch "$LIBS/.complete"
}

wait_ready() {  # broker answers a metadata request
  local dir=$1 bootstrap=$2 deadline=$((SECONDS + 90))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
      echo "kafka exited during start-up; log:" >&2; tail -50 "$dir/kafka.log" >&2; return 1
    fi
    if kcat -b "$bootstrap" -L -m 2 >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "kafka did not answer within 90 s; log:" >&2; tail -50 "$dir/kafka.log" >&2
  return 1
}

start() {
  local dir=$1
  fetch
  stop "$dir"  # a broker left over from an interrupted run
  mkdir -p "$dir/data"
  read -r port cport < <("$HERE/free-port.py" 2 | paste -sd' ')
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=-1
message.max.bytes=16777216
PROPS
  cat >"$dir/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
L4J
  java "${java_opts[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format \
    -t "$(python3 -c 'import base64,uuid;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')" \
    -c "$dir/server.properties" >"$dir/format.log" 2>&1
  echo "127.0.0.1:$port" >"$dir/bootstrap"
  launch "$dir"
  echo "FERRY_TEST_BOOTSTRAP=127.0.0.1:$port"
}

java_opts=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true)

launch() {  # the broker of an existing DIR (formatted, with its ports in server.properties)
  local dir=$1
  setsid java "${java_opts[@]}" -Dlog4j.configuration="file:$dir/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  wait_ready "$dir" "$(cat "$dir/bootstrap")"
}

kill_broker() {  # SIGKILL: no clean shutdown, the data stays for restart
  local dir=$1 pid
  pid=$(cat "$dir/kafka.pid")
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

stop() {
  local dir=$1 pid
  [[ -f $dir/kafka.pid ]] || { rm -rf "$dir"; return 0; }
  pid=$(cat "$dir/kafka.pid")
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "${2:?data dir}" ;;
  stop) stop "${2:?data dir}" ;;
  pause) kill -STOP "$(cat "${2:?data dir}/kafka.pid")" ;;
  resume) kill -CONT "$(cat "${2:?data dir}/kafka.pid")" ;;
  kill) kill_broker "${2:?data dir}" ;;
  restart) fetch && launch "${2:?data dir}" ;;
  *) echo "usage: $0 fetch|start DIR|stop DIR|pause DIR|resume DIR|kill DIR|restart DIR" >&2; exit 1 ;;
esac
