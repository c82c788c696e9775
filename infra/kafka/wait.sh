#!/usr/bin/env bash
# Waits until the broker has finished starting (it logs "Kafka Server started") and its port accepts connections.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
timeout_s="${1:-${MESHLOOP_KAFKA_WAIT_SECONDS:-90}}"
deadline=$((SECONDS + timeout_s))
while [ $SECONDS -lt $deadline ]; do
  if ! kafka_running; then
    echo "meshloop infra: kafka is not running; last lines of $KAFKA_LOG:" >&2
    tail -n 20 "$KAFKA_LOG" >&2 2>/dev/null || true
    exit 1
  fi
  if grep -q "Kafka Server started" "$KAFKA_LOG" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; then
    echo "kafka ready on 127.0.0.1:$KAFKA_PORT"
    exit 0
  fi
  sleep 0.2
done
echo "meshloop infra: kafka not ready after ${timeout_s}s; see $KAFKA_LOG" >&2
exit 1
