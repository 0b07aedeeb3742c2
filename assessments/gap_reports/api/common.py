"""What the gap report API modules share: path parameters, error sets, access rules."""

from drf_spectacular.utils import (
    OpenApiParameter,
)
from rest_framework.permissions import BasePermission

from accounts.models import OrgUnit
from accounts.permissions import Capability, has_capability
from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
)

from ...models import GapReportRun
from .. import reports

RUN_PK = OpenApiParameter("run_pk", int, OpenApiParameter.PATH, description="Run id.")
UNIT_ID = OpenApiParameter("unit_id", int, OpenApiParameter.PATH, description="Org unit id.")
ROLE_READ_ERRORS = (*READ_ERRORS, 403)
ROLE_LIST_ERRORS = (*LIST_ERRORS, 403)


class ReportAccess(BasePermission):
    """Reading: HR and heads (``reports.may_see_reports``); the viewset's ``action_rules`` name
    stricter checks per action (starting and resuming runs, exports: HR)."""

    def has_permission(self, request, view):
        rule = getattr(view, "action_rules", {}).get(view.action, reports.may_see_reports)
        return rule(request.user)


def may_export_reports(user) -> bool:
    return has_capability(user, Capability.EXPORT_REPORTS)


class RunScopedMixin:
    """Nested under a run the caller may read (404 otherwise, like the pages)."""

    def get_run(self) -> GapReportRun:
        if not hasattr(self, "_run"):
            self._run = reports.get_run(self.request.user, self.kwargs["run_pk"])
        return self._run

    def get_unit(self) -> OrgUnit:
        return reports.get_unit(self.request.user, self.get_run(), self.kwargs["unit_id"])
