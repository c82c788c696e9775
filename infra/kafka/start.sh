#!/usr/bin/env bash
# Starts one combined KRaft broker+controller on 127.0.0.1, fetching Apache Kafka from Maven Central on first use.
# Idempotent: does nothing when the broker this folder started is still running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if kafka_running; then
  echo "kafka $KAFKA_VERSION already running (pid $(cat "$KAFKA_PID_FILE"), port $KAFKA_PORT)"
  exit 0
fi

require_tool java "Kafka $KAFKA_VERSION needs Java 17 or newer: apt-get install -y openjdk-17-jre-headless"
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
if [ "${java_major:-0}" -lt 17 ]; then
  echo "meshloop infra: Kafka $KAFKA_VERSION needs Java 17 or newer, found Java ${java_major:-unknown}; set JAVA_HOME or PATH to a newer JDK" >&2
  exit 1
fi

mkdir -p "$KAFKA_CACHE"
if [ ! -f "$KAFKA_LIB/.complete" ]; then
  require_tool mvn "The broker's jars come from Maven Central through Maven: apt-get install -y maven"
  echo "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_LIB"
  rm -rf "$KAFKA_LIB"
  # A private local repository keeps the whole download inside the gitignored cache folder.
  mvn -q -B -f "$KAFKA_DIR/pom.xml" -Dmaven.repo.local="$KAFKA_CACHE/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB"
  touch "$KAFKA_LIB/.complete"
fi

cat > "$KAFKA_CONFIG" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
# meshloop creates its topics explicitly, with partitions and settings it chooses.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
min.insync.replicas=1
# A single-broker development cluster: rebalance at once instead of waiting for more members.
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=8388608
delete.topic.enable=true
PROPS

cp="$KAFKA_LIB/*"
log4j="-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties -Dkafka.logs.dir=$KAFKA_CACHE"
if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
  # A KRaft cluster id is 16 random bytes in URL-safe base64 without padding (22 characters).
  # One in 64 starts with '-', which the storage tool's argument parser takes for an option: draw again.
  cluster_id=-
  while [ "${cluster_id#-}" != "$cluster_id" ]; do
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  done
  if [ "${#cluster_id}" -ne 22 ]; then
    echo "meshloop infra: could not make a Kafka cluster id (got '$cluster_id'); are head and base64 (coreutils) on PATH?" >&2
    exit 1
  fi
  # shellcheck disable=SC2086
  java $log4j -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_CONFIG" >/dev/null
fi

# setsid: the broker outlives the shell (and the test process) that started it; stop.sh ends it.
# shellcheck disable=SC2086
setsid nohup java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true $log4j \
  -cp "$cp" kafka.Kafka "$KAFKA_CONFIG" >"$KAFKA_LOG" 2>&1 </dev/null &
echo $! >"$KAFKA_PID_FILE"
echo "kafka $KAFKA_VERSION starting (pid $!, 127.0.0.1:$KAFKA_PORT, log $KAFKA_LOG)"
