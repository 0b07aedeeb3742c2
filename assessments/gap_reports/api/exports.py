"""Exports: HR asks for a unit's report as a file, a worker builds it, HR downloads it."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from config.api import (
    ApiError,
    ErrorCode,
    StrictSerializer,
    error_responses,
)

from ...exports import XLSX_CONTENT_TYPE
from ...models import GapReportExport
from .. import reports
from ..exporters import download_response
from .common import (
    ROLE_READ_ERRORS,
    ReportAccess,
    may_export_reports,
)


class ExportRequestSerializer(StrictSerializer):
    format = serializers.ChoiceField(choices=GapReportExport.Format.choices)
    language = serializers.CharField(
        max_length=8,
        required=False,
        help_text="`zh-hans` or `en`: the language of the file; left out: the request's.",
    )

    def validate_language(self, value):
        if value not in dict(settings.LANGUAGES):
            raise serializers.ValidationError(_("不支持此语言。"))
        return value


class ExportSerializer(serializers.ModelSerializer):
    """A unit's report as a file: pending until a worker has built it, then ready to download."""

    format = serializers.CharField(source="file_format", read_only=True)
    language = serializers.CharField(read_only=True, help_text="`zh-hans` or `en`.")
    download = serializers.SerializerMethodField(help_text="The download URL once ready.")

    class Meta:
        model = GapReportExport
        fields = ["id", "run", "org_unit", "format", "language", "status", "size", "created_at"]
        fields += ["finished_at", "error", "download"]
        read_only_fields = fields

    def get_download(self, export) -> str:
        if export.status != GapReportExport.Status.READY:
            return ""
        return reverse("v1:gap-report-export-download", args=[export.pk])


# --- exports --------------------------------------------------------------------------------------

DOWNLOAD_TYPES = {
    (200, "text/csv"): OpenApiTypes.BINARY,
    (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
    (200, "application/pdf"): OpenApiTypes.BINARY,
}


@extend_schema_view(
    retrieve=extend_schema(
        summary="One export and whether it is ready (HR)",
        responses={200: ExportSerializer, **error_responses(*ROLE_READ_ERRORS)},
    ),
)
class GapReportExportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Exports, for holders of ``report.export`` (HR), re-checked on every request like the page:
    the run must be visible and the unit exportable (404 otherwise)."""

    queryset = GapReportExport.objects.none()  # the model, for the schema; reads use get_object
    lookup_value_regex = "[0-9]+"
    serializer_class = ExportSerializer
    permission_classes = [IsAuthenticated, ReportAccess]
    action_rules = {"retrieve": may_export_reports, "download": may_export_reports}

    def perform_content_negotiation(self, request, force=False):
        # The download answers its file whatever ``Accept`` says; its errors stay JSON.
        return super().perform_content_negotiation(
            request, force=force or self.action == "download"
        )

    def get_object(self) -> GapReportExport:
        exports = GapReportExport.objects.select_related("run", "org_unit")
        export = get_object_or_404(exports, pk=self.kwargs["pk"])
        reports.get_run(self.request.user, export.run_id)
        if not reports.may_export(self.request.user, export.org_unit):
            raise Http404
        return export

    @extend_schema(
        summary="Download an export's file (HR)",
        description="409 while the file is still being built (or failed: ask for it again).",
        responses={**DOWNLOAD_TYPES, **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        export = self.get_object()
        if export.status != GapReportExport.Status.READY or not export.file:
            raise ApiError(409, ErrorCode.CONFLICT, _("导出文件尚未生成完毕，请稍后再试。"))
        return download_response(request, export)
