#!/usr/bin/env bash
# Stop exactly what scripts/prod_up.sh started for this PROD_DIR (default var/prod): web first (no
# new requests), then beat (no new scheduled tasks), then the worker, which finishes its running
# tasks within PROD_STOP_TIMEOUT seconds (60) before it is killed; a task cut off that way is
# handed to a worker again later (late acknowledgement). Nothing else is signalled.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VENV:-$ROOT/.venv}/bin"
PROD_DIR="${PROD_DIR:-$ROOT/var/prod}"
if [ ! -d "$PROD_DIR/run" ]; then
  echo "Nothing to stop: no $PROD_DIR/run."
  exit 0
fi
PROD_DIR="$(cd "$PROD_DIR" && pwd)"
RUN="$PROD_DIR/run"
LOG="$PROD_DIR/log"

# shellcheck source=scripts/prod_lib.sh
source "$ROOT/scripts/prod_lib.sh"

grace="${PROD_STOP_TIMEOUT:-60}"
stop web 30
stop beat 10
stop worker "$grace"
