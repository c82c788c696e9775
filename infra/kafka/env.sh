# Shared settings for the Kafka scripts; sourced, not run. Every value can be overridden from the environment.
KAFKA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_DIR/pom.xml")"
KAFKA_CACHE="${MESHLOOP_KAFKA_CACHE:-$KAFKA_DIR/.cache}"
KAFKA_LIB="$KAFKA_CACHE/lib-$KAFKA_VERSION"
KAFKA_PORT="${MESHLOOP_KAFKA_PORT:-9092}"
KAFKA_DATA="${MESHLOOP_KAFKA_DATA:-$KAFKA_CACHE/data-$KAFKA_PORT}"
KAFKA_CONTROLLER_PORT="${MESHLOOP_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${MESHLOOP_KAFKA_HEAP:--Xms256m -Xmx512m}"
KAFKA_PID_FILE="$KAFKA_CACHE/kafka-$KAFKA_PORT.pid"
KAFKA_LOG="$KAFKA_CACHE/kafka-$KAFKA_PORT.log"
KAFKA_CONFIG="$KAFKA_CACHE/server-$KAFKA_PORT.properties"

kafka_running() {
  [ -f "$KAFKA_PID_FILE" ] && kill -0 "$(cat "$KAFKA_PID_FILE")" 2>/dev/null
}

require_tool() { # name, how to get it
  command -v "$1" >/dev/null 2>&1 || { echo "meshloop infra: '$1' not found on PATH. $2" >&2; exit 1; }
}
