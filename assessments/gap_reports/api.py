"""The API of team gap reports: runs (HR starts and resumes them; HR and heads read them), each
run's unit rows and unit reports, the members of a unit, and the exports (HR asks for a unit's
report as a file, a worker builds it with ``exporters.EXPORTERS``, HR downloads it).

Scoping is ``reports``' (the pages' one rule): HR sees every unit; a head sees the units they
head and below, and only finished runs that report on one of them; nobody else reads gap
reports (403). A run, unit or export out of scope answers 404. Starting a run enqueues the same
Celery task the page does (``services.start_gap_report``).
"""

import django_filters
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts.api import IdFilter, visible_unit
from accounts.audit import record_download
from accounts.models import OrgUnit
from accounts.permissions import Capability, has_capability
from competency.models import Grade
from competency.profiles import Shape
from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
    ApiError,
    ApiPagination,
    ErrorCode,
    StrictSerializer,
    error_responses,
)

from ..api import PersonBriefSerializer
from ..exports import XLSX_CONTENT_TYPE
from ..models import Assessment, Cycle, GapMemberRow, GapReportExport, GapReportRun, GapUnitSummary
from . import reports, services
from .exporters import EXPORTERS

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


# --- runs -----------------------------------------------------------------------------------------


class CategoryLabelSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text="In the request's language.")


class RunSerializer(serializers.ModelSerializer):
    """A run: what it measures against, its progress, and (when done) the categories its member
    rows follow, in order."""

    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    model_version = serializers.IntegerField(source="model_version.number", read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Whole per cent of units done.")
    finished = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField(help_text="Active but silent: HR may resume it.")
    categories = serializers.SerializerMethodField()

    class Meta:
        model = GapReportRun
        fields = ["id", "cycle", "cycle_name", "model_version", "target_rule", "target_grade"]
        fields += ["status", "trigger", "requested_by", "created_at", "started_at", "finished_at"]
        fields += ["units_done", "units_total", "progress", "finished", "stale", "error"]
        fields += ["categories"]
        read_only_fields = fields

    def get_finished(self, run) -> bool:
        return not run.is_active

    def get_stale(self, run) -> bool:
        return run.is_stale(services.STALE_AFTER)

    @extend_schema_field(CategoryLabelSerializer(many=True))
    def get_categories(self, run) -> list:
        codes = [c["code"] for c in run.categories]
        names = run.category_names()
        return [{"code": code, "name": name} for code, name in zip(codes, names, strict=True)]


class StartRunSerializer(StrictSerializer):
    """A cycle that has opened, measured against each member's own grade or one grade."""

    cycle = serializers.PrimaryKeyRelatedField(
        queryset=Cycle.objects.exclude(status=Cycle.Status.DRAFT),
        help_text="Id of an open or closed cycle.",
    )
    target_rule = serializers.ChoiceField(
        choices=GapReportRun.TargetRule.choices, default=GapReportRun.TargetRule.OWN_GRADE
    )
    target_grade = serializers.CharField(
        max_length=16,
        allow_blank=True,
        default="",
        help_text="For `fixed_grade`: the grade code everyone is measured against.",
    )

    def validate(self, attrs):
        if attrs["target_rule"] != GapReportRun.TargetRule.FIXED_GRADE:
            return {**attrs, "target_grade": ""}
        if not attrs["target_grade"]:
            raise serializers.ValidationError({"target_grade": [_("请选择统一对照的职级。")]})
        version = attrs["cycle"].model_version_id
        if not Grade.objects.filter(version=version, code=attrs["target_grade"]).exists():
            raise serializers.ValidationError(
                {"target_grade": [_("所选职级不属于该评估周期使用的模型版本。")]}
            )
        return attrs


class ResumeResultSerializer(serializers.Serializer):
    run = RunSerializer()
    queued = serializers.IntegerField(help_text="Task messages sent (0: nothing left to do).")


class RunFilter(django_filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id", label="Runs over this cycle id.")
    status = django_filters.ChoiceFilter(
        choices=GapReportRun.Status.choices, label="Runs in this state."
    )
    target_rule = django_filters.ChoiceFilter(
        choices=GapReportRun.TargetRule.choices, label="Runs measured by this rule."
    )

    class Meta:
        model = GapReportRun
        fields = ["cycle", "status", "target_rule"]


@extend_schema_view(
    list=extend_schema(
        summary="Gap report runs visible to the caller (HR, heads)",
        description="HR: every run. A head: finished runs that report on a unit they head.",
        responses={200: RunSerializer(many=True), **error_responses(*ROLE_LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One run and its progress",
        responses={200: RunSerializer, **error_responses(*ROLE_READ_ERRORS)},
    ),
    create=extend_schema(
        summary="Start a run (HR)",
        description="Queues the computation; while a run of the same cycle and rule is still "
        "computing, that run is answered instead of a new one.",
        request=StartRunSerializer,
        responses={202: RunSerializer, **error_responses(400, 401, 403, 409)},
    ),
)
class GapReportRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Runs through ``reports.visible_runs``; starting and resuming are HR's."""

    queryset = GapReportRun.objects.none()  # the model, for the schema; reads use get_queryset
    lookup_value_regex = "[0-9]+"
    serializer_class = RunSerializer
    permission_classes = [IsAuthenticated, ReportAccess]
    action_rules = {"create": reports.may_start_runs, "resume": reports.may_start_runs}
    pagination_class = ApiPagination
    filterset_class = RunFilter
    ordering_fields = ["id", "created_at", "finished_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return reports.visible_runs(self.request.user)

    def create(self, request, *args, **kwargs):
        body = StartRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.start_gap_report(by=request.user, **body.validated_data)
        return Response(self._read(run), status=status.HTTP_202_ACCEPTED)

    def _read(self, run) -> dict:
        return RunSerializer(self.get_queryset().get(pk=run.pk)).data

    @extend_schema(
        summary="Resume a stale or failed run (HR)",
        description="Queues again what a lost worker left undone; a finished run needs nothing.",
        request=None,
        responses={200: ResumeResultSerializer, **error_responses(*ROLE_READ_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        run = self.get_object()
        queued = services.resume_gap_report(run=run)
        return Response({"run": self._read(run), "queued": queued})


# --- the units of a run ---------------------------------------------------------------------------


class UnitSummarySerializer(serializers.ModelSerializer):
    """One unit's whole-subtree figures in the run."""

    org_unit = serializers.IntegerField(source="org_unit_id", read_only=True)
    code = serializers.CharField(source="org_unit.code", read_only=True)
    name = serializers.CharField(source="org_unit.name", read_only=True)
    kind = serializers.CharField(source="org_unit.kind", read_only=True)
    parent = serializers.IntegerField(source="org_unit.parent_id", read_only=True, allow_null=True)
    depth = serializers.IntegerField(source="org_unit.depth", read_only=True)
    completion = serializers.FloatField(read_only=True, allow_null=True)
    share_below = serializers.FloatField(read_only=True, allow_null=True)
    meets_target = serializers.IntegerField(read_only=True)
    shapes = serializers.SerializerMethodField()

    class Meta:
        model = GapUnitSummary
        fields = ["org_unit", "code", "name", "kind", "parent", "depth", "headcount", "completed"]
        fields += ["completion", "targeted", "below_any", "share_below", "meets_target"]
        fields += ["shortfall", "depth_met", "shapes"]
        read_only_fields = fields

    @extend_schema_field(
        serializers.DictField(
            child=serializers.IntegerField(), help_text="T-shape class → members of that class."
        )
    )
    def get_shapes(self, summary) -> dict:
        return {code: count for code, _label, count in summary.shape_counts()}


class CategoryStatSerializer(serializers.Serializer):
    code = serializers.CharField(source="category.code")
    name = serializers.CharField(source="category.name")
    rated = serializers.IntegerField()
    targeted = serializers.IntegerField()
    mean_level = serializers.FloatField(allow_null=True)
    mean_target = serializers.FloatField(allow_null=True)
    mean_gap = serializers.FloatField(allow_null=True, help_text="Negative: below the target.")
    share_below = serializers.FloatField(allow_null=True)
    below = serializers.IntegerField()
    distribution = serializers.ListField(
        child=serializers.IntegerField(), help_text="Members at levels 1–5."
    )
    priority = serializers.IntegerField(
        allow_null=True, help_text="Training priority (1 = biggest need)."
    )


class IndustryStatSerializer(serializers.Serializer):
    code = serializers.CharField(source="industry.code")
    name = serializers.CharField(source="industry.name")
    rated = serializers.IntegerField()
    mean_depth = serializers.FloatField(allow_null=True)
    deep = serializers.IntegerField(help_text="Members at the depth bar or deeper.")
    distribution = serializers.ListField(
        child=serializers.IntegerField(), help_text="Members at depths 1–5."
    )


class UnitReportSerializer(serializers.Serializer):
    """One unit's report: its figures, per category and industry, and the training priorities."""

    summary = UnitSummarySerializer()
    categories = CategoryStatSerializer(many=True)
    industries = IndustryStatSerializer(many=True)
    priorities = serializers.SerializerMethodField()

    def get_priorities(self, report) -> list[str]:
        return [stat.category.code for stat in report.priorities]


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


class UnitFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        field_name="org_unit__kind", choices=OrgUnit.Kind.choices, label="Unit kind."
    )
    parent = IdFilter(field_name="org_unit__parent_id", label="Units directly below this unit id.")
    within = IdFilter(method="filter_within", label="Units in this unit's subtree (itself too).")
    code = django_filters.CharFilter(field_name="org_unit__code", label="Exact unit code.")

    class Meta:
        model = GapUnitSummary
        fields = ["kind", "parent", "within", "code"]

    def filter_within(self, queryset, name, value: int):
        unit = visible_unit(self.request, value)
        return queryset.filter(org_unit__path__startswith=unit.path) if unit else queryset.none()


class RunScopedMixin:
    """Nested under a run the caller may read (404 otherwise, like the pages)."""

    def get_run(self) -> GapReportRun:
        if not hasattr(self, "_run"):
            self._run = reports.get_run(self.request.user, self.kwargs["run_pk"])
        return self._run

    def get_unit(self) -> OrgUnit:
        return reports.get_unit(self.request.user, self.get_run(), self.kwargs["unit_id"])


@extend_schema(parameters=[RUN_PK])
@extend_schema_view(
    list=extend_schema(
        summary="The units of a run visible to the caller",
        description="HR: every unit; a head: the units they head and everything below.",
        responses={200: UnitSummarySerializer(many=True), **error_responses(*ROLE_LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One unit's gap report",
        parameters=[UNIT_ID],
        responses={200: UnitReportSerializer, **error_responses(*ROLE_READ_ERRORS)},
    ),
)
class GapReportUnitViewSet(RunScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The unit rows of one run, through ``reports.unit_summaries`` (a head's units only)."""

    queryset = GapUnitSummary.objects.none()  # the model, for the schema; reads use get_queryset
    serializer_class = UnitSummarySerializer
    permission_classes = [IsAuthenticated, ReportAccess]
    action_rules = {"export": may_export_reports}
    pagination_class = ApiPagination
    filterset_class = UnitFilter
    ordering_fields = ["headcount", "completed", "below_any", "shortfall"]
    lookup_url_kwarg = "unit_id"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GapUnitSummary.objects.none()
        return reports.unit_summaries(self.get_run(), self.request.user)

    def retrieve(self, request, *args, **kwargs):
        report = reports.unit_report(self.get_run(), self.get_unit())
        return Response(UnitReportSerializer(report).data)

    @extend_schema(
        summary="Ask for a unit's report as a file (HR)",
        description="Queues the file (or answers the one already built or being built); poll "
        "the export until `status` is `ready`, then download it. 409 while the run computes.",
        parameters=[UNIT_ID],
        request=ExportRequestSerializer,
        responses={202: ExportSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def export(self, request, run_pk=None, unit_id=None):
        unit = self.get_unit()
        if not reports.may_export(request.user, unit):
            raise PermissionDenied
        body = ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        export = services.request_export(
            run=self.get_run(),
            unit=unit,
            file_format=body.validated_data["format"],
            language=body.validated_data.get("language") or get_language(),
            by=request.user,
        )
        export.refresh_from_db()
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


# --- the members of a unit ------------------------------------------------------------------------


class MemberSerializer(serializers.ModelSerializer):
    """One member of the unit's subtree: final levels, targets and gaps in the run's category
    order (``categories`` of the run)."""

    person = PersonBriefSerializer(read_only=True)
    status = serializers.CharField(read_only=True, help_text="The assessment's status.")
    org_unit = serializers.IntegerField(source="org_unit_id", read_only=True)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)
    levels = serializers.ListField(child=serializers.IntegerField(allow_null=True), read_only=True)
    targets = serializers.SerializerMethodField()
    gaps = serializers.SerializerMethodField(help_text="Final level − target per category.")

    class Meta:
        model = GapMemberRow
        fields = ["person", "org_unit", "org_unit_name", "status", "grade", "classification"]
        fields += ["levels", "targets", "gaps", "below", "shortfall", "best_depth"]
        read_only_fields = fields

    def get_targets(self, member) -> list[int | None]:
        return self.context["run"].targets_of(member.grade)

    def get_gaps(self, member) -> list[int | None]:
        return member.gaps(self.context["run"].targets_of(member.grade))


class MemberFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Assessment.Status.choices, label="Members whose assessment is in this state."
    )
    classification = django_filters.ChoiceFilter(
        choices=Shape.choices, label="Members of this T-shape class."
    )
    grade = django_filters.CharFilter(label="Members with this target grade code.")
    org_unit = IdFilter(field_name="org_unit_id", label="Members of exactly this unit id.")
    below_min = django_filters.NumberFilter(
        field_name="below",
        lookup_expr="gte",
        label="Members below target in at least this many categories.",
    )

    class Meta:
        model = GapMemberRow
        fields = ["status", "classification", "grade", "org_unit", "below_min"]


@extend_schema(parameters=[RUN_PK, UNIT_ID])
@extend_schema_view(
    list=extend_schema(
        summary="The members of a unit's subtree in a run",
        description="Scoped like the unit: a head reads only the units they head and below.",
        responses={200: MemberSerializer(many=True), **error_responses(*ROLE_LIST_ERRORS)},
    ),
)
class GapReportMemberViewSet(RunScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The member rows of one unit (``reports.member_rows``), by unit then employee number."""

    queryset = GapMemberRow.objects.none()  # the model, for the schema; reads use get_queryset
    serializer_class = MemberSerializer
    permission_classes = [IsAuthenticated, ReportAccess]
    pagination_class = ApiPagination
    filterset_class = MemberFilter
    ordering_fields = ["shortfall", "below", "best_depth"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GapMemberRow.objects.none()
        return reports.member_rows(self.get_run(), self.get_unit())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["run"] = self.get_run()
        return context


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
        try:
            handle = export.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        name = _("团队差距报告-%(unit)s-%(date)s.%(ext)s") % {
            "unit": export.org_unit.code,
            "date": export.run.finished_at.strftime("%Y%m%d") if export.run.finished_at else "",
            "ext": export.file_format,
        }
        record_download(request, target=export, summary=name)
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=name,
            content_type=EXPORTERS[export.file_format].content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
