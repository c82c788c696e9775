#!/usr/bin/env bash
# Stops the redis-server started by start.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if ! redis_running; then
  rm -f "$REDIS_PID_FILE"
  echo "redis not running"
  exit 0
fi
pid=$(cat "$REDIS_PID_FILE")
kill -TERM "$pid"
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$REDIS_PID_FILE"; echo "redis stopped"; exit 0; }
  sleep 0.05
done
kill -KILL "$pid" 2>/dev/null || true
rm -f "$REDIS_PID_FILE"
echo "redis killed"
