#!/usr/bin/env bash
# Starts redis-server on 127.0.0.1 (installing Debian's redis-server when missing and we are root).
# Idempotent: does nothing when the server this folder started is still running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if redis_running; then
  echo "redis already running (pid $(cat "$REDIS_PID_FILE"), port $REDIS_PORT)"
  exit 0
fi
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server with apt-get"
    (apt-get install -y -qq redis-server >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq redis-server; }) >/dev/null
  else
    echo "meshloop infra: redis-server not found; install it (Debian: apt-get install -y redis-server)" >&2
    exit 1
  fi
fi
# Debian's package starts a system service on 6379; ours is separate, on its own port and folder.
mkdir -p "$REDIS_CACHE/data-$REDIS_PORT"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
  --pidfile "$REDIS_PID_FILE" --logfile "$REDIS_LOG" --dir "$REDIS_CACHE/data-$REDIS_PORT" \
  --save "" --appendonly no --protected-mode yes
for _ in $(seq 1 100); do
  [ -s "$REDIS_PID_FILE" ] && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && {
    echo "redis ready on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_PID_FILE"))"; exit 0; }
  sleep 0.05
done
echo "meshloop infra: redis did not answer PING within 5 s; see $REDIS_LOG" >&2
exit 1
