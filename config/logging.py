"""Log format and request ids: one line per record, plain text or JSON (``LOG_FORMAT=json``).

Every record carries ``request_id``: the id of the HTTP request being served (taken from the
``X-Request-ID`` header or generated, see ``config.middleware``) or, in a Celery worker, the id of
the request that queued the task (falling back to the task id). The same id therefore ties a
click, its log lines and the background work it started together.
"""

import json
import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Attributes every LogRecord has; anything else on a record was passed as ``extra=`` and is data.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
    "request",  # Django's request object (django.request records): its id is taken, not its repr
}
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamps the current request id on every record (handlers see it, whoever logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs a 4xx/5xx after the middleware returned: the request has its id.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(*, level: str = "INFO", fmt: str = "plain") -> dict:
    """The ``LOGGING`` dict for Django (also used by gunicorn's own loggers)."""
    if fmt not in {"plain", "json"}:
        raise ValueError(f"LOG_FORMAT must be plain or json, not {fmt!r}")
    formatter = {"()": JsonFormatter} if fmt == "json" else {"format": PLAIN_FORMAT}
    console = {
        "class": "logging.StreamHandler",
        "formatter": fmt,
        "filters": ["request_id"],
    }
    # gunicorn's loggers do not propagate; they get the same handler so its lines match ours.
    # Its access log stays quiet: RequestIdMiddleware writes one line per request, with the id.
    gunicorn = {"handlers": ["console"], "level": "INFO", "propagate": False}
    access = {"handlers": ["console"], "level": "WARNING", "propagate": False}
    # PDF rendering narrates every step at INFO.
    chatty = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {fmt: formatter},
        "handlers": {"console": console},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "gunicorn.error": gunicorn,
            "gunicorn.access": access,
            "weasyprint": chatty,
            "fontTools": chatty,
            # axes logs every sign-in at INFO; the audit log already records them.
            "axes": chatty,
        },
    }


# --- Celery: the request id travels with the task message ------------------------------------

TASK_HEADER = "tshape_request_id"


def add_request_id_header(headers=None, **kwargs) -> None:
    """``before_task_publish``: the publishing request's id goes into the message headers."""
    if headers is not None and request_id_var.get() != "-":
        headers.setdefault(TASK_HEADER, request_id_var.get())


def bind_task_request_id(task_id=None, task=None, **kwargs) -> None:
    """``task_prerun``: log lines of the task carry the request's id, else the task's own."""
    request_id = getattr(task.request, TASK_HEADER, None) if task is not None else None
    request_id_var.set(request_id or task_id or "-")


def unbind_task_request_id(**kwargs) -> None:
    """``task_postrun``: a worker process serves many tasks; none inherits the last one's id."""
    request_id_var.set("-")
