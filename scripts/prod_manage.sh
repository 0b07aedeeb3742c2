#!/usr/bin/env bash
# A management command with the environment of the stack prod_up.sh runs (same database, Redis,
# secret and settings), e.g.:
#
#   bash scripts/prod_manage.sh createsuperuser
#   bash scripts/prod_manage.sh compute_gap_reports --cycle 2 --wait
#
# PROD_DIR, PROD_PORT, PROD_DATABASE_URL and PROD_REDIS_URL as for prod_up.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${VENV:-$ROOT/.venv}/bin"
PROD_DIR="$(mkdir -p "${PROD_DIR:-$ROOT/var/prod}" && cd "${PROD_DIR:-$ROOT/var/prod}" && pwd)"
RUN="$PROD_DIR/run"
LOG="$PROD_DIR/log"

# shellcheck source=scripts/prod_lib.sh
source "$ROOT/scripts/prod_lib.sh"
prod_env
# Not a process of the stack: prod_down must never take it for one.
unset TSHAPE_PROD_DIR
exec "$BIN/python" manage.py "$@"
