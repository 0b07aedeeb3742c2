"""gunicorn settings, read from the environment: ``gunicorn -c config/gunicorn.py config.wsgi``.

The same file serves the container (Dockerfile, docker-compose.yml) and ``scripts/prod_up.sh``.
Requests are logged by ``config.middleware.RequestIdMiddleware`` (one line each, with the request
id), so gunicorn's own access log stays off; its error log uses the application's format.
"""

import multiprocessing
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.logging import logging_config  # noqa: E402


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "").strip() or "127.0.0.1:8000"
# Sync workers: the app is request/response with short queries; slow work goes to Celery.
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM a worker finishes its request within this many seconds (stop_grace_period is 30 s).
graceful_timeout = 20
keepalive = 5
# A worker is replaced after about this many requests (jitter: not all at once), bounding leaks.
max_requests = 1000
max_requests_jitter = 100
# Heartbeat files on tmpfs where there is one (a container's /tmp may be an overlay on disk).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
accesslog = None
errorlog = "-"
logconfig_dict = logging_config(
    level=os.environ.get("LOG_LEVEL", "").strip() or "INFO",
    fmt=os.environ.get("LOG_FORMAT", "").strip() or "plain",
)
