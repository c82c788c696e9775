# Shared settings for the Redis scripts; sourced, not run. Every value can be overridden from the environment.
REDIS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REDIS_CACHE="${MESHLOOP_REDIS_CACHE:-$REDIS_DIR/.cache}"
REDIS_PORT="${MESHLOOP_REDIS_PORT:-6379}"
REDIS_PID_FILE="$REDIS_CACHE/redis-$REDIS_PORT.pid"
REDIS_LOG="$REDIS_CACHE/redis-$REDIS_PORT.log"

redis_running() {
  [ -f "$REDIS_PID_FILE" ] && kill -0 "$(cat "$REDIS_PID_FILE")" 2>/dev/null
}
