#!/usr/bin/env bash
# Stops the broker and deletes its data (topics, offsets, cluster id). The downloaded jars stay cached.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$KAFKA_DIR/stop.sh"
rm -rf "$KAFKA_DATA"
echo "kafka data wiped ($KAFKA_DATA)"
