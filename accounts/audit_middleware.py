"""Audit middleware: where each request came from, and a record of every refused request."""

from .audit import AuditEvent, Origin, current_origin, record_audit_event

PATH_MAX = 255


def is_denial(request, response) -> bool:
    """403 anywhere (pages, API, CSRF); 401 only when credentials were given (a bad API token).

    A 401 without credentials is an anonymous API call, not an attempt worth a record.
    """
    if response.status_code == 403:
        return True
    return response.status_code == 401 and bool(request.META.get("HTTP_AUTHORIZATION"))


class AuditMiddleware:
    """Keeps the request's origin for the audit events written while it is served, then records
    refused access. Place it after the authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_origin.set(Origin.of(request))
        try:
            response = self.get_response(request)
        finally:
            current_origin.reset(token)
        if is_denial(request, response):
            self._record(request, response.status_code)
        return response

    @staticmethod
    def _record(request, status: int) -> None:
        path = request.path[:PATH_MAX]
        record_audit_event(
            action=AuditEvent.Action.ACCESS_DENIED,
            request=request,
            summary=f"{request.method} {path} → {status}",
            details={"method": request.method, "path": path, "status": status},
        )
