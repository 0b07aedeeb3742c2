# Shared by prod_up.sh, prod_down.sh and prod_manage.sh (sourced; expects ROOT, BIN, PROD_DIR,
# RUN and LOG to be set).
#
# Each process is started in a session of its own (setsid), so its PID is also its process group:
# prod_down can stop the master and, if need be, whatever children it left. A PID counts as ours
# only while /proc/<pid>/environ carries TSHAPE_PROD_DIR=<this PROD_DIR>: a stale PID file whose
# number the kernel gave to another program is never signalled.

# prod_env: the environment of every process of the stack (and of prod_manage.sh).
prod_env() {
  PROD_PORT="${PROD_PORT:-8000}"
  # A secret of our own, generated once and kept (sessions survive a restart of the stack).
  if [ ! -s "$PROD_DIR/secret" ]; then
    (umask 077 && "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(64))' \
      >"$PROD_DIR/secret")
  fi
  export TSHAPE_ENV=production
  export TSHAPE_PROD_DIR="$PROD_DIR" # marks every process we start (prod_down checks it)
  SECRET_KEY="$(cat "$PROD_DIR/secret")"
  export SECRET_KEY
  export DEBUG=false
  export ALLOWED_HOSTS=127.0.0.1,localhost
  # Plain HTTP on the loopback: no TLS proxy in front, so no redirect to HTTPS (nor HSTS).
  export SECURE_SSL_REDIRECT=false
  export SECURE_HSTS_SECONDS=0
  export SITE_URL="http://127.0.0.1:$PROD_PORT"
  export DATABASE_URL="${PROD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tshape_prod}"
  export CONN_MAX_AGE=60
  export REDIS_URL="${PROD_REDIS_URL:-redis://127.0.0.1:6379/2}"
  export CELERY_BROKER_URL="$REDIS_URL"
  export CELERY_RESULT_BACKEND="$REDIS_URL"
  export CELERY_TASK_ALWAYS_EAGER=false
  export MEDIA_ROOT="$PROD_DIR/media"
  # No mail relay on this machine: messages are written as files (what mailpit is in compose).
  export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
  export EMAIL_FILE_PATH="$PROD_DIR/mail"
  export LOG_FORMAT="${LOG_FORMAT:-json}"
  export GUNICORN_BIND="127.0.0.1:$PROD_PORT"
  export GUNICORN_WORKERS="${GUNICORN_WORKERS:-3}"
}

# ours PID: the process exists and was started by prod_up for this PROD_DIR.
ours() {
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] 2>/dev/null || return 1
  { tr "\0" "\n" <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "TSHAPE_PROD_DIR=$PROD_DIR"
}

pid_of() { cat "$RUN/$1.pid" 2>/dev/null || true; }

# running NAME: its PID file names a live process of ours.
running() { ours "$(pid_of "$1")"; }

# start NAME COMMAND...: in the background, output appended to log/NAME.log, PID in run/NAME.pid.
start() {
  local name=$1
  shift
  if running "$name"; then
    echo "$name: already running (pid $(pid_of "$name"))"
    return 0
  fi
  rm -f "$RUN/$name.pid"
  # A background job of a script is not a group leader, so setsid does not fork: $! is the PID.
  setsid "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  sleep 0.5
  if ! running "$name"; then
    echo "$name exited at start; the end of $LOG/$name.log:" >&2
    tail -n 30 "$LOG/$name.log" >&2
    return 1
  fi
  echo "$name: started (pid $(pid_of "$name"))"
}

# group_members PGID: live processes of ours in that process group.
group_members() {
  local pgid=$1 pid
  for pid in $(pgrep -g "$pgid" 2>/dev/null || true); do
    if ours "$pid"; then echo "$pid"; fi
  done
}

# gone PID: no such process, or only its zombie is left (an exiting process hides its environ
# before it is gone, so "not ours" alone does not yet mean "stopped").
gone() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)
  [ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# stop NAME SECONDS: SIGTERM to the master, wait, then SIGKILL what is left of its group.
stop() {
  local name=$1 grace=$2 pid left
  pid=$(pid_of "$name")
  if ! ours "$pid"; then
    [ -f "$RUN/$name.pid" ] && echo "$name: not running (stale PID file removed)"
    rm -f "$RUN/$name.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 5))); do
    left=$(group_members "$pid")
    [ -z "$left" ] && gone "$pid" && break
    sleep 0.2
  done
  left=$(group_members "$pid")
  if [ -n "$left" ]; then
    echo "$name: still running after ${grace}s; killing $(echo "$left" | wc -w) process(es)"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
  echo "$name: stopped"
}

# static_outdated: staticfiles/ lacks its manifest, or a file under static/, an app's static/ or
# the virtualenv (reinstalled: .venv/.installed) is newer than it.
static_outdated() {
  local manifest="$ROOT/staticfiles/staticfiles.json" venv="${VENV:-$ROOT/.venv}"
  [ -f "$manifest" ] || return 0
  [ -n "$(find "$ROOT/static" "$ROOT"/*/static "$venv/.installed" -newer "$manifest" \
    \( -type f -o -type l \) -print -quit 2>/dev/null)" ]
}

port_in_use() {
  "$BIN/python" - "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    s.settimeout(1)
    sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

# wait_healthy URL SECONDS: until /healthz answers 200; prints its JSON either way.
wait_healthy() {
  "$BIN/python" - "$1" "$2" <<'PY'
import sys, time, urllib.error, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
body = "no answer"
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            print("healthz:", response.read().decode())
            sys.exit(0)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode()
    except OSError as exc:
        body = str(exc)
    time.sleep(1)
print("healthz did not turn healthy:", body, file=sys.stderr)
sys.exit(1)
PY
}
