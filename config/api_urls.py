"""The REST API: /api/v1/… (versioned by namespace), the OpenAPI schema and its docs.

One router for every resource: a new resource (certification applications, certificates, gap
report runs, exports) is one ``router.register`` line here, in the same ``v1`` namespace, and
appears in the schema and the docs by itself.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from accounts.api import OrgUnitViewSet, PersonViewSet, TokenView, UserTokenViewSet
from assessments.api import AssessmentViewSet, CycleViewSet
from assessments.calibration.api import CalibrationAdjustmentViewSet, CalibrationSessionViewSet
from assessments.certification.api import ApplicationViewSet, CertificateViewSet
from assessments.gap_reports.api import (
    GapReportExportViewSet,
    GapReportMemberViewSet,
    GapReportRunViewSet,
    GapReportUnitViewSet,
)
from competency.api import ModelVersionViewSet
from config.api import not_found

# Nested resources name their parent in the prefix (ids only).
RUN = "gap-reports/runs/(?P<run_pk>[0-9]+)"
UNIT = "(?P<unit_id>[0-9]+)"
SESSION = "calibration/sessions/(?P<session_pk>[0-9]+)"

router = SimpleRouter()
router.register("auth/tokens", UserTokenViewSet, basename="user-token")
router.register("org-units", OrgUnitViewSet, basename="org-unit")
router.register("people", PersonViewSet, basename="person")
router.register("model/versions", ModelVersionViewSet, basename="model-version")
router.register("cycles", CycleViewSet, basename="cycle")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("certification/applications", ApplicationViewSet, basename="application")
router.register("certification/certificates", CertificateViewSet, basename="certificate")
router.register("gap-reports/runs", GapReportRunViewSet, basename="gap-report-run")
router.register(f"{RUN}/units", GapReportUnitViewSet, basename="gap-report-unit")
router.register(f"{RUN}/units/{UNIT}/members", GapReportMemberViewSet, basename="gap-report-member")
router.register("gap-reports/exports", GapReportExportViewSet, basename="gap-report-export")
router.register("calibration/sessions", CalibrationSessionViewSet, basename="calibration-session")
router.register(
    f"{SESSION}/adjustments", CalibrationAdjustmentViewSet, basename="calibration-adjustment"
)

v1_patterns: list = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    *router.urls,
]

signed_in = [IsAuthenticated]

urlpatterns = [
    path("v1/", include((v1_patterns, "api"), namespace="v1")),
    path(
        "schema/",
        SpectacularAPIView.as_view(api_version="v1", permission_classes=signed_in),
        name="api-schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=signed_in),
        name="api-docs",
    ),
    # Anything else under /api/ is a JSON 404 in the API's error shape, not an HTML page.
    re_path(r"^", not_found),
]
