#!/usr/bin/env bash
# The production processes on this machine, without Docker: gunicorn (production settings) on
# 127.0.0.1:$PROD_PORT, a Celery worker (queues default, reports, mail) and Celery beat, against the
# local PostgreSQL and Redis. Idempotent: what already runs is left alone. Stop with prod_down.sh.
#
#   bash scripts/prod_up.sh            # var/prod: secret, log/, run/ (PID files), media/, mail/
#
# Settings (environment): PROD_DIR (var/prod), PROD_PORT (8000), PROD_DATABASE_URL
# (postgres://postgres@127.0.0.1:5432/tshape_prod), PROD_REDIS_URL (redis://127.0.0.1:6379/2),
# GUNICORN_WORKERS, CELERY_WORKER_CONCURRENCY. DATABASE_URL and REDIS_URL of the calling shell are
# deliberately ignored: a developer's test database must never be served as production.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${VENV:-$ROOT/.venv}/bin"
PROD_DIR="$(mkdir -p "${PROD_DIR:-$ROOT/var/prod}" && cd "${PROD_DIR:-$ROOT/var/prod}" && pwd)"
PROD_PORT="${PROD_PORT:-8000}"
LOG="$PROD_DIR/log"
RUN="$PROD_DIR/run"
mkdir -p "$LOG" "$RUN" "$PROD_DIR/media" "$PROD_DIR/mail"

# shellcheck source=scripts/prod_lib.sh
source "$ROOT/scripts/prod_lib.sh"

if [ ! -x "$BIN/python" ]; then
  echo "No virtualenv at $BIN: run \`make install\` first." >&2
  exit 1
fi
if [ ! -d "$ROOT/static/vendor" ]; then
  echo "static/vendor is missing (npm packages): run \`make install\` first." >&2
  exit 1
fi

prod_env

if running web && running worker && running beat; then
  echo "Already running (PIDs in $RUN); nothing started."
  wait_healthy "http://127.0.0.1:$PROD_PORT/healthz" 30
  exit 0
fi

bash "$ROOT/scripts/ensure_services.sh"
"$BIN/python" scripts/prod_db.py create "$DATABASE_URL"
"$BIN/python" manage.py migrate --noinput -v 0
echo "Database migrated: ${DATABASE_URL##*/}"

if ! running web; then
  if port_in_use "$PROD_PORT"; then
    echo "127.0.0.1:$PROD_PORT is taken by a process prod_up did not start; set PROD_PORT." >&2
    exit 1
  fi
  # Hashing and compressing every file takes half a minute: only when a source is newer.
  if static_outdated; then
    "$BIN/python" manage.py collectstatic --noinput -v 0
    echo "Static files collected into staticfiles/"
  else
    echo "Static files up to date in staticfiles/"
  fi
  start web "$BIN/gunicorn" --config=config/gunicorn.py config.wsgi:application
fi
start worker "$BIN/celery" -A config worker -Q default,reports,mail -l info \
  -n "prod-$(basename "$PROD_DIR")@%h"
start beat "$BIN/celery" -A config beat -l info --schedule="$PROD_DIR/celerybeat-schedule" \
  --pidfile=

wait_healthy "http://127.0.0.1:$PROD_PORT/healthz" "${PROD_START_TIMEOUT:-90}"
echo "T-Shape (production settings) at http://127.0.0.1:$PROD_PORT/  logs: $LOG"
