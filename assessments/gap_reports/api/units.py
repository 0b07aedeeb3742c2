"""A run's unit rows and unit reports, and the members of a unit (scoped through the run)."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.utils.translation import get_language
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api import IdFilter, visible_unit
from accounts.models import OrgUnit
from competency.profiles import Shape
from config.api import (
    ApiPagination,
    error_responses,
)

from ...api import PersonBriefSerializer
from ...models import Assessment, GapMemberRow, GapUnitSummary
from .. import reports, services
from .common import (
    ROLE_LIST_ERRORS,
    ROLE_READ_ERRORS,
    RUN_PK,
    UNIT_ID,
    ReportAccess,
    RunScopedMixin,
    may_export_reports,
)
from .exports import ExportRequestSerializer, ExportSerializer

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
