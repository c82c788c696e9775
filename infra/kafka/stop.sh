#!/usr/bin/env bash
# Stops the broker started by start.sh: SIGTERM for a clean shutdown, SIGKILL after 30 s.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if ! kafka_running; then
  rm -f "$KAFKA_PID_FILE"
  echo "kafka not running"
  exit 0
fi
pid=$(cat "$KAFKA_PID_FILE")
kill -TERM "$pid"
for _ in $(seq 1 150); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$KAFKA_PID_FILE"; echo "kafka stopped"; exit 0; }
  sleep 0.2
done
kill -KILL "$pid" 2>/dev/null || true
rm -f "$KAFKA_PID_FILE"
echo "kafka killed after 30 s"
