"""Middleware of the whole site: request ids with one access-log line each, and ``/healthz``."""

import logging
import re
import time

from .logging import new_request_id, request_id_var

logger = logging.getLogger("tshape.request")

# What a proxy may hand us as a request id: short, printable, no spaces (it goes into logs).
_VALID_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
HEALTHZ_PATH = "/healthz"


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` from the proxy (or makes one), puts it into every log record of the
    request and into the response header, and logs one line per request when it is answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _VALID_ID.match(offered) else new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(token)

    @staticmethod
    def _log(request, status: int, started: float) -> None:
        # Probes hit /healthz every few seconds: only a failing one is worth a line at INFO.
        quiet = request.path == HEALTHZ_PATH and status == 200
        user = getattr(request, "user", None)
        logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )


class HealthCheckMiddleware:
    """Answers ``/healthz`` before host validation and the HTTPS redirect.

    Container and load-balancer probes call it by IP address over plain HTTP from inside the
    network; it reveals only ok/error per part, so it need not be tied to ``ALLOWED_HOSTS``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTHZ_PATH and request.method in ("GET", "HEAD"):
            from accounts.views import healthz

            return healthz(request)
        return self.get_response(request)
