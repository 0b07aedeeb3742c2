"""Gap report runs: HR starts and resumes them; HR and heads read them."""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api import IdFilter
from competency.models import Grade
from config.api import (
    ApiPagination,
    StrictSerializer,
    error_responses,
)

from ...models import Cycle, GapReportRun
from .. import reports, services
from .common import (
    ROLE_LIST_ERRORS,
    ROLE_READ_ERRORS,
    ReportAccess,
)

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
