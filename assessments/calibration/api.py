"""The API of calibration: sessions (open, set the guide, close, reopen) with their rater
statistics, distributions and decision records, and each session's adjustments of final levels
(list; create with the required reason) — every step one call into ``calibration.services``.

Access mirrors the pages: HR and heads only (``services.may_use_calibration``, else 403); sessions
through ``CalibrationSession.objects.visible_to`` (out of scope: 404); setting the guide and
reopening are HR's (403); the services refuse what a role may not do on a given session or
assessment (403), a closed session or a stale revision (409).
"""

import django_filters
from django.shortcuts import get_object_or_404
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
from accounts.models import OrgUnit
from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
    ApiPagination,
    DecisionRecordSerializer,
    StrictSerializer,
    error_responses,
    step_schema,
)

from ..api import PersonBriefSerializer
from ..models import Assessment, CalibrationAdjustment, CalibrationEvent, CalibrationSession, Cycle
from ..models.calibration import GUIDE_LEVELS
from ..services import COMMENT_MAX
from . import services, statistics
from .forms import calibratable_units

SESSION_PK = OpenApiParameter("session_pk", int, OpenApiParameter.PATH, description="Session id.")
ROLE_READ_ERRORS = (*READ_ERRORS, 403)
ROLE_LIST_ERRORS = (*LIST_ERRORS, 403)
STEP_ERRORS = (400, 401, 403, 404, 409)


class CalibrationAccess(BasePermission):
    """HR and heads (``may_use_calibration``); ``action_rules`` name HR-only actions."""

    def has_permission(self, request, view):
        rule = getattr(view, "action_rules", {}).get(view.action, services.may_use_calibration)
        return rule(request.user)


# --- reading --------------------------------------------------------------------------------------


class CalibrationEventSerializer(DecisionRecordSerializer):
    class Meta(DecisionRecordSerializer.Meta):
        model = CalibrationEvent


class RaterSerializer(serializers.Serializer):
    reviewer = serializers.IntegerField(source="reviewer_id", allow_null=True)
    name = serializers.CharField()
    employee_no = serializers.CharField()
    assessments = serializers.IntegerField()
    ratings = serializers.IntegerField()
    mean_final = serializers.FloatField(allow_null=True)
    mean_supervisor_minus_self = serializers.FloatField(allow_null=True)
    diff_to_unit = serializers.FloatField(allow_null=True)
    top_share = serializers.FloatField(allow_null=True, help_text="Share of levels 4–5.")
    levels = serializers.ListField(child=serializers.IntegerField(), help_text="Levels 1–5.")
    eligible = serializers.BooleanField(help_text="Rated enough to be judged by the rule.")
    flag = serializers.ChoiceField(
        choices=["", statistics.LENIENT, statistics.STRICT], help_text="Outlier flag, or empty."
    )


class RaterTableSerializer(serializers.Serializer):
    """Per rater figures and the documented outlier rule's inputs (``statistics``)."""

    rows = RaterSerializer(many=True)
    unit_mean = serializers.FloatField(allow_null=True)
    eligible_raters = serializers.IntegerField()
    spread = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)


class CategoryDistributionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    total = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    levels = serializers.ListField(child=serializers.IntegerField(), help_text="Levels 1–5.")
    top_share = serializers.FloatField(allow_null=True)
    guide_top_share = serializers.FloatField(allow_null=True)
    top_warning = serializers.BooleanField(help_text="More levels 4–5 than the guide expects.")


class SessionSerializer(serializers.ModelSerializer):
    """A session: cycle, unit (with its subtree), state, guide and size; outside lists also its
    rater statistics, the distribution per category and its recorded steps."""

    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)
    guide = serializers.SerializerMethodField(
        help_text="Expected share (%) of final levels 1–5, or null (no guide)."
    )
    assessment_count = serializers.IntegerField(read_only=True)
    adjustment_count = serializers.IntegerField(read_only=True)
    raters = serializers.SerializerMethodField(help_text="Null in lists.")
    categories = serializers.SerializerMethodField(help_text="Null in lists.")
    events = serializers.SerializerMethodField(help_text="Null in lists.")

    class Meta:
        model = CalibrationSession
        fields = ["id", "cycle", "cycle_name", "org_unit", "org_unit_name", "status", "guide"]
        fields += ["created_by", "created_at", "closed_at", "assessment_count", "adjustment_count"]
        fields += ["raters", "categories", "events"]
        read_only_fields = fields

    @property
    def _detailed(self) -> bool:
        return bool(self.context.get("with_statistics"))

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField(), allow_null=True))
    def get_guide(self, session):
        guide = session.guide
        return None if guide is None else [guide[level] for level in GUIDE_LEVELS]

    @extend_schema_field(RaterTableSerializer(allow_null=True))
    def get_raters(self, session):
        if not self._detailed:
            return None
        return RaterTableSerializer(statistics.rater_statistics(session)).data

    @extend_schema_field(CategoryDistributionSerializer(many=True, allow_null=True))
    def get_categories(self, session):
        if not self._detailed:
            return None
        rows = statistics.category_distribution(session)
        return CategoryDistributionSerializer(rows, many=True).data

    @extend_schema_field(CalibrationEventSerializer(many=True, allow_null=True))
    def get_events(self, session):
        if not self._detailed:
            return None
        events = session.events.select_related("actor").order_by("at", "pk")
        return CalibrationEventSerializer(events, many=True).data


class AdjustmentSerializer(serializers.ModelSerializer):
    """One final level changed: from, to, the supervisor's level beside it, who, when and why."""

    person = PersonBriefSerializer(source="assessment.person", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    actor_name = serializers.SerializerMethodField()
    reason = serializers.CharField(source="note", read_only=True)
    details = serializers.DictField(read_only=True, help_text="The class before and after.")

    class Meta:
        model = CalibrationAdjustment
        fields = ["id", "session", "assessment", "person", "category", "supervisor_level"]
        fields += ["from_level", "to_level", "actor", "actor_name", "at", "reason", "details"]
        read_only_fields = fields

    def get_actor_name(self, adjustment) -> str:
        return str(adjustment.actor) if adjustment.actor_id else ""


# --- request bodies -------------------------------------------------------------------------------


class OpenSessionSerializer(StrictSerializer):
    cycle = serializers.PrimaryKeyRelatedField(
        queryset=Cycle.objects.exclude(status=Cycle.Status.DRAFT),
        help_text="Id of an open or closed cycle.",
    )
    org_unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.none(),
        help_text="Id of a unit in the caller's reach (any for HR; a head: inside their units).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["org_unit"].queryset = calibratable_units(request.user)


class GuideSerializer(StrictSerializer):
    shares = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=100),
        min_length=len(GUIDE_LEVELS),
        max_length=len(GUIDE_LEVELS),
        allow_null=True,
        help_text="Whole per cent of final levels 1–5, summing to 100; null clears the guide.",
    )

    def validate_shares(self, shares):
        if shares is None:
            return None
        try:
            return services.check_guide(dict(zip(GUIDE_LEVELS, shares, strict=True)))
        except services.CalibrationError as exc:
            raise serializers.ValidationError(str(exc)) from None


class CloseSerializer(StrictSerializer):
    note = serializers.CharField(
        max_length=COMMENT_MAX, allow_blank=True, default="", help_text="Optional; recorded."
    )


class ReopenSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=COMMENT_MAX, help_text="Why (recorded).")


class AdjustSerializer(StrictSerializer):
    """A new final level for one category of one assessment in the session, with the reason."""

    assessment = serializers.PrimaryKeyRelatedField(
        queryset=Assessment.objects.none(),
        help_text="Id of a completed assessment the session calibrates.",
    )
    category = serializers.CharField(max_length=16, help_text="Category code, e.g. 1.3.")
    level = serializers.IntegerField(min_value=1, max_value=5, help_text="The new final level.")
    reason = serializers.CharField(max_length=COMMENT_MAX, help_text="Why (required, recorded).")
    revision = serializers.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        help_text="The assessment's `revision` the caller last read; older: 409 `stale`.",
    )

    def __init__(self, *args, session=None, **kwargs):
        super().__init__(*args, **kwargs)
        if session is not None:
            self.fields["assessment"].queryset = session.assessments().select_related(
                "org_unit", "cycle__model_version"
            )


# --- sessions -------------------------------------------------------------------------------------


class SessionFilter(django_filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id", label="Sessions of this cycle id.")
    status = django_filters.ChoiceFilter(
        choices=CalibrationSession.Status.choices, label="Sessions in this state."
    )
    org_unit = IdFilter(field_name="org_unit_id", label="Sessions of exactly this unit id.")
    within = IdFilter(method="filter_within", label="Sessions of units in this unit's subtree.")

    class Meta:
        model = CalibrationSession
        fields = ["cycle", "status", "org_unit", "within"]

    def filter_within(self, queryset, name, value: int):
        unit = visible_unit(self.request, value)
        return queryset.filter(org_unit__path__startswith=unit.path) if unit else queryset.none()


_step_schema = step_schema(answer=SessionSerializer, errors=STEP_ERRORS)


@extend_schema_view(
    list=extend_schema(
        summary="Calibration sessions visible to the caller (HR, heads)",
        description="HR: every session; a head: sessions of units inside the subtrees they head.",
        responses={200: SessionSerializer(many=True), **error_responses(*ROLE_LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One session with its rater statistics and distributions",
        responses={200: SessionSerializer, **error_responses(*ROLE_READ_ERRORS)},
    ),
    create=extend_schema(
        summary="Open a session for a cycle and a unit",
        description="One session per cycle and unit (else 409).",
        request=OpenSessionSerializer,
        responses={201: SessionSerializer, **error_responses(400, 401, 403, 409)},
    ),
)
class CalibrationSessionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Sessions through ``visible_to`` (with their counts, ``statistics.session_overview``)."""

    queryset = CalibrationSession.objects.none()  # the model, for the schema
    lookup_value_regex = "[0-9]+"
    serializer_class = SessionSerializer
    permission_classes = [IsAuthenticated, CalibrationAccess]
    action_rules = {
        "guide": services.may_manage_guide_and_reopen,
        "reopen": services.may_manage_guide_and_reopen,
    }
    pagination_class = ApiPagination
    filterset_class = SessionFilter
    ordering_fields = ["id", "created_at", "closed_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return statistics.session_overview(self.request.user).select_related("cycle__model_version")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_statistics": self.action != "list"}

    def _body(self, serializer_class) -> dict:
        body = serializer_class(data=self.request.data, context={"request": self.request})
        body.is_valid(raise_exception=True)
        return body.validated_data

    def _answer(self, session, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=session.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        data = self._body(OpenSessionSerializer)
        session = services.open_session(cycle=data["cycle"], unit=data["org_unit"], by=request.user)
        return self._answer(session, status.HTTP_201_CREATED)

    @_step_schema(
        "Set or clear the guide distribution (HR)",
        "Only while the session is open. A guide, never a forced curve.",
        GuideSerializer,
    )
    @action(detail=True, methods=["post"])
    def guide(self, request, pk=None):
        session = self.get_object()
        shares = self._body(GuideSerializer)["shares"]
        services.set_guide(session=session, by=request.user, shares=shares)
        return self._answer(session)

    @_step_schema(
        "Close the session",
        "The final levels of every assessment in the subtree are locked (HR, or a head above "
        "the unit).",
        CloseSerializer,
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        session = self.get_object()
        note = self._body(CloseSerializer)["note"]
        services.close_session(session=session, by=request.user, note=note)
        return self._answer(session)

    @_step_schema("Reopen a closed session (HR)", "With a reason (recorded).", ReopenSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        session = self.get_object()
        reason = self._body(ReopenSerializer)["reason"]
        services.reopen_session(session=session, by=request.user, reason=reason)
        return self._answer(session)


# --- adjustments ----------------------------------------------------------------------------------


class AdjustmentFilter(django_filters.FilterSet):
    assessment = IdFilter(field_name="assessment_id", label="Adjustments of this assessment id.")
    person = IdFilter(field_name="assessment__person_id", label="Adjustments of this person id.")
    category = django_filters.CharFilter(field_name="category__code", label="Category code.")
    actor = IdFilter(field_name="actor_id", label="Adjustments made by this person id.")

    class Meta:
        model = CalibrationAdjustment
        fields = ["assessment", "person", "category", "actor"]


@extend_schema(parameters=[SESSION_PK])
@extend_schema_view(
    list=extend_schema(
        summary="The adjustments of a session, newest first",
        responses={200: AdjustmentSerializer(many=True), **error_responses(*ROLE_LIST_ERRORS)},
    ),
    create=extend_schema(
        summary="Adjust one final level, with the reason",
        description="HR anywhere; a head only for people they rate; nobody their own assessment "
        "(403). The supervisor's level never changes; the T-shape class follows the new levels. "
        "A closed session or a lock by another closed session: 409.",
        request=AdjustSerializer,
        responses={201: AdjustmentSerializer, **error_responses(*STEP_ERRORS)},
    ),
)
class CalibrationAdjustmentViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Adjustments of one session the caller may see (404 otherwise)."""

    queryset = CalibrationAdjustment.objects.none()  # the model, for the schema
    serializer_class = AdjustmentSerializer
    permission_classes = [IsAuthenticated, CalibrationAccess]
    pagination_class = ApiPagination
    filterset_class = AdjustmentFilter
    ordering_fields = ["id", "at"]
    ordering = ["-at", "-id"]

    def get_session(self) -> CalibrationSession:
        if not hasattr(self, "_session"):
            sessions = CalibrationSession.objects.visible_to(self.request.user)
            self._session = get_object_or_404(
                sessions.select_related("cycle", "org_unit"), pk=self.kwargs["session_pk"]
            )
        return self._session

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CalibrationAdjustment.objects.none()
        return CalibrationAdjustment.objects.filter(session=self.get_session()).select_related(
            "actor", "assessment__person", "category"
        )

    def create(self, request, *args, **kwargs):
        session = self.get_session()
        body = AdjustSerializer(data=request.data, session=session)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        adjustment = services.adjust_final_level(
            session=session,
            assessment=data["assessment"],
            category_code=data["category"],
            level=data["level"],
            reason=data["reason"],
            by=request.user,
            revision=data["revision"],
        )
        fresh = self.get_queryset().get(pk=adjustment.pk)
        return Response(AdjustmentSerializer(fresh).data, status=status.HTTP_201_CREATED)
