"""The API of assessments (scoped), with the workflow as explicit POST endpoints: self, submit,
review, return, complete — each one call into ``services``.

Who may act on an assessment is decided by the queryset the action reads from: the person's own
(self, submit), the people the caller rates (review, return, complete), or everything visible
(reads). Anything else is a 404, as on the pages. Domain errors become HTTP answers in
``config.api.exception_handler`` (stale → 409, incomplete → 400 with the missing list, …).
"""

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import IdFilter, visible_unit
from accounts.models import User
from accounts.permissions import supervised_q
from competency.profiles import Shape
from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
    ApiPagination,
    DecisionRecordSerializer,
    StrictSerializer,
    error_responses,
    step_schema,
)

from .. import services
from ..models import Assessment, AssessmentEvent, IndustryRating, Rating
from ..services import COMMENT_MAX, IndustryInput, RatingInput

REVISION_MAX = 2**31 - 1

# --- assessments: reading -------------------------------------------------------------------------


class PersonBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "display_name", "employee_no"]
        read_only_fields = fields


class RatingSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    supervisor_comment = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Rating
        fields = [
            "category",
            "category_name",
            "self_level",
            "self_comment",
            "supervisor_level",
            "supervisor_comment",
            "final_level",
        ]
        read_only_fields = fields


class IndustryRatingSerializer(serializers.ModelSerializer):
    industry = serializers.CharField(source="industry.code", read_only=True)
    industry_name = serializers.CharField(source="industry.name", read_only=True)

    class Meta:
        model = IndustryRating
        fields = [
            "industry",
            "industry_name",
            "self_depth",
            "evidence",
            "supervisor_depth",
            "final_depth",
        ]
        read_only_fields = fields


class EventSerializer(DecisionRecordSerializer):
    class Meta(DecisionRecordSerializer.Meta):
        model = AssessmentEvent


class AssessmentSerializer(serializers.ModelSerializer):
    """One assessment with its ratings, industry depths and recorded decisions. The person does
    not see the supervisor's draft (levels, depths, comments) before the assessment is final."""

    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    person = PersonBriefSerializer(read_only=True)
    supervisor_comment = serializers.CharField(read_only=True, allow_null=True)
    ratings = RatingSerializer(many=True, read_only=True)
    industries = IndustryRatingSerializer(source="industry_ratings", many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)
    classification = serializers.ChoiceField(
        choices=Shape.choices,
        allow_blank=True,
        read_only=True,
        help_text="The T-shape class; empty until the assessment is completed.",
    )

    class Meta:
        model = Assessment
        fields = [
            "id",
            "cycle",
            "cycle_name",
            "person",
            "org_unit",
            "target_grade",
            "status",
            "revision",
            "self_comment",
            "supervisor_comment",
            "reviewer",
            "self_saved_at",
            "submitted_at",
            "completed_at",
            "classification",
            "ratings",
            "industries",
            "events",
        ]
        read_only_fields = fields

    def to_representation(self, assessment):
        data = super().to_representation(assessment)
        request = self.context.get("request")
        if request and assessment.person_id == request.user.pk and not assessment.is_final:
            data["supervisor_comment"] = None
            for row in data["ratings"]:
                row["supervisor_level"] = row["supervisor_comment"] = None
            for row in data["industries"]:
                row["supervisor_depth"] = None
        return data


class AssessmentFilter(django_filters.FilterSet):
    cycle = IdFilter(field_name="cycle_id", label="Assessments of this cycle id.")
    status = django_filters.ChoiceFilter(
        choices=Assessment.Status.choices, label="Assessments in this state."
    )
    person = IdFilter(field_name="person_id", label="Assessments of this person id.")
    org_unit = IdFilter(field_name="org_unit_id", label="Assessed in exactly this unit id.")
    within = IdFilter(method="filter_within", label="Assessed in this unit's subtree.")
    target_grade = django_filters.CharFilter(label="Exact target grade code, e.g. G2.")
    relation = django_filters.ChoiceFilter(
        choices=[("own", "own"), ("reviewed", "reviewed")],
        method="filter_relation",
        label="`own`: the caller's own; `reviewed`: the people the caller rates.",
    )

    class Meta:
        model = Assessment
        fields = ["cycle", "status", "person", "org_unit", "within", "target_grade", "relation"]

    def filter_within(self, queryset, name, value: int):
        unit = visible_unit(self.request, value)
        return queryset.filter(org_unit__path__startswith=unit.path) if unit else queryset.none()

    def filter_relation(self, queryset, name, value: str):
        user = self.request.user
        if value == "own":
            return queryset.filter(person=user)
        return queryset.filter(supervised_q(user, "person"))


# --- assessments: the workflow (request bodies) ---------------------------------------------------


def _level_field(help_text):
    return serializers.IntegerField(
        min_value=1, max_value=5, allow_null=True, required=False, help_text=help_text
    )


def _comment_field(help_text):
    return serializers.CharField(
        max_length=COMMENT_MAX, allow_blank=True, required=False, help_text=help_text
    )


def _revision_field():
    return serializers.IntegerField(
        min_value=0,
        max_value=REVISION_MAX,
        help_text="The `revision` the caller last read; an older one answers 409 `stale`.",
    )


class RatingInputSerializer(StrictSerializer):
    level = _level_field("1–5, or null to clear; left out: unchanged.")
    comment = _comment_field("Left out: unchanged.")


class IndustryInputSerializer(StrictSerializer):
    depth = _level_field("Research depth 1–5, or null; left out: unchanged.")
    evidence = _comment_field("Industry analysis / customer SWOT; left out: unchanged.")


class CodesMixin:
    """Checks the category and industry codes of a body against the assessment's model."""

    def _check_codes(self, attrs, known: dict):
        errors = {}
        for key, codes in known.items():
            unknown = sorted(set(attrs.get(key) or {}) - set(codes))
            if unknown:
                errors[key] = [_("未知的编码：%(codes)s") % {"codes": ", ".join(unknown)}]
        if errors:
            raise serializers.ValidationError(errors)


class SelfAssessmentInputSerializer(CodesMixin, StrictSerializer):
    """The manager's own ratings; nothing about the supervisor, the final level or the state."""

    revision = _revision_field()
    ratings = serializers.DictField(
        child=RatingInputSerializer(), required=False, help_text="Category code → self rating."
    )
    industries = serializers.DictField(
        child=IndustryInputSerializer(),
        required=False,
        help_text="Industry code → depth and evidence. When given, exactly these industries "
        "are chosen (others are removed).",
    )
    comment = _comment_field("The overall self-assessment summary; left out: unchanged.")
    save_token = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Same token on a retry of the same save: accepted once instead of `stale`.",
    )

    def validate(self, attrs):
        assessment = self.context["assessment"]
        industries = assessment.cycle.model_version.industries.values_list("code", flat=True)
        known = {"ratings": [r.category.code for r in assessment.ratings.all()]}
        self._check_codes(attrs, {**known, "industries": list(industries)})
        return attrs


class ReviewInputSerializer(CodesMixin, StrictSerializer):
    """The supervisor's levels, comments and industry depths while reviewing."""

    revision = _revision_field()
    ratings = serializers.DictField(
        child=RatingInputSerializer(),
        required=False,
        help_text="Category code → supervisor rating.",
    )
    depths = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=5, allow_null=True),
        required=False,
        help_text="Industry code (one the person chose) → supervisor depth 1–5 or null.",
    )
    comment = _comment_field("The supervisor's overall comment; left out: unchanged.")

    def validate(self, attrs):
        assessment = self.context["assessment"]
        self._check_codes(
            attrs,
            {
                "ratings": [r.category.code for r in assessment.ratings.all()],
                "depths": [r.industry.code for r in assessment.industry_ratings.all()],
            },
        )
        return attrs


class RevisionSerializer(StrictSerializer):
    revision = _revision_field()


class ReturnSerializer(StrictSerializer):
    revision = _revision_field()
    reason = serializers.CharField(
        max_length=COMMENT_MAX, help_text="Why it goes back (the person reads it)."
    )


def _self_inputs(assessment, data) -> dict:
    """Service arguments from a self body; whatever a rating leaves out keeps its stored value."""
    stored = {r.category.code: r for r in assessment.ratings.all()}
    ratings = {
        code: RatingInput(
            given.get("level", stored[code].self_level),
            given.get("comment", stored[code].self_comment),
        )
        for code, given in data.get("ratings", {}).items()
    }
    industries = None
    if "industries" in data:
        chosen = {r.industry.code: r for r in assessment.industry_ratings.all()}
        industries = {
            code: IndustryInput(
                given.get("depth", getattr(chosen.get(code), "self_depth", None)),
                given.get("evidence", getattr(chosen.get(code), "evidence", "")),
            )
            for code, given in data["industries"].items()
        }
    return {
        "revision": data["revision"],
        "ratings": ratings,
        "industries": industries,
        "comment": data.get("comment"),
        "save_token": data.get("save_token", ""),
    }


def _review_inputs(assessment, data) -> dict:
    stored = {r.category.code: r for r in assessment.ratings.all()}
    ratings = {
        code: RatingInput(
            given.get("level", stored[code].supervisor_level),
            given.get("comment", stored[code].supervisor_comment),
        )
        for code, given in data.get("ratings", {}).items()
    }
    return {
        "revision": data["revision"],
        "ratings": ratings,
        "depths": data.get("depths"),
        "comment": data.get("comment"),
    }


# --- assessments: the viewset ---------------------------------------------------------------------


def with_sheet(assessments):
    """Assessments with what the serializer reads, in model order, in a fixed number of queries."""
    return assessments.select_related("cycle", "cycle__model_version", "person").prefetch_related(
        Prefetch(
            "ratings",
            Rating.objects.select_related("category").order_by(
                "category__domain__order", "category__order"
            ),
        ),
        Prefetch(
            "industry_ratings",
            IndustryRating.objects.select_related("industry").order_by("industry__order"),
        ),
        Prefetch("events", AssessmentEvent.objects.select_related("actor").order_by("at", "pk")),
    )


ACTION_ERRORS = (400, 401, 404, 409)
OWN_ACTIONS = {"self_assessment", "submit"}
REVIEW_ACTIONS = {"review", "return_to_person", "complete"}


_action_schema = step_schema(answer=AssessmentSerializer, errors=ACTION_ERRORS)


@extend_schema_view(
    list=extend_schema(
        summary="Assessments visible to the caller",
        description="Own assessments, those of the caller's headed subtrees, or all for HR.",
        responses={200: AssessmentSerializer(many=True), **error_responses(*LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One assessment with its ratings",
        responses={200: AssessmentSerializer, **error_responses(*READ_ERRORS)},
    ),
)
class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Assessments, read through ``Assessment.objects.visible_to``; the workflow as POST actions."""

    queryset = Assessment.objects.none()  # the model, for the schema; reads use get_queryset
    serializer_class = AssessmentSerializer
    pagination_class = ApiPagination
    filterset_class = AssessmentFilter
    ordering_fields = ["id", "cycle", "status", "submitted_at", "completed_at"]
    ordering = ["-cycle__created_at", "id"]

    def get_queryset(self):
        user = self.request.user
        if self.action in OWN_ACTIONS:
            return with_sheet(Assessment.objects.visible_to(user).filter(person=user))
        if self.action in REVIEW_ACTIONS:
            return with_sheet(Assessment.objects.filter(supervised_q(user, "person")))
        return with_sheet(Assessment.objects.visible_to(user))

    def _body(self, serializer_class, assessment):
        body = serializer_class(
            data=self.request.data, context={"assessment": assessment, "request": self.request}
        )
        body.is_valid(raise_exception=True)
        return body.validated_data

    def _answer(self, assessment) -> Response:
        """The assessment after the step, as the caller may read it."""
        fresh = with_sheet(Assessment.objects.visible_to(self.request.user)).get(pk=assessment.pk)
        return Response(self.get_serializer(fresh).data)

    @_action_schema(
        "Save the caller's self-assessment",
        "Only on the caller's own assessment while it is not started, in progress or returned "
        "(in an open cycle). Fields a manager may not set (supervisor levels, final levels, "
        "status, grade, reviewer, classification) are not part of this body: sending them is a "
        "400 and nothing changes.",
        SelfAssessmentInputSerializer,
    )
    @action(detail=True, methods=["post"], url_path="self", url_name="self")
    def self_assessment(self, request, pk=None):
        assessment = self.get_object()
        data = self._body(SelfAssessmentInputSerializer, assessment)
        saved = services.save_self_assessment(
            assessment=assessment, by=request.user, **_self_inputs(assessment, data)
        )
        return self._answer(saved)

    @_action_schema(
        "Submit the caller's self-assessment",
        "Hands it to the supervisor. Incomplete: 400 `incomplete` with what is missing.",
        RevisionSerializer,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        assessment = self.get_object()
        data = self._body(RevisionSerializer, assessment)
        saved = services.submit_self_assessment(
            assessment=assessment, by=request.user, revision=data["revision"]
        )
        return self._answer(saved)

    @_action_schema(
        "Save the supervisor's ratings",
        "Only for a supervisor of the person (never on one's own assessment), while submitted.",
        ReviewInputSerializer,
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        assessment = self.get_object()
        data = self._body(ReviewInputSerializer, assessment)
        saved = services.save_review(
            assessment=assessment, by=request.user, **_review_inputs(assessment, data)
        )
        return self._answer(saved)

    @_action_schema(
        "Return the assessment to the person",
        "The person may edit and submit again; the reason is recorded and shown to them.",
        ReturnSerializer,
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_person(self, request, pk=None):
        assessment = self.get_object()
        data = self._body(ReturnSerializer, assessment)
        saved = services.return_assessment(
            assessment=assessment, by=request.user, revision=data["revision"], reason=data["reason"]
        )
        return self._answer(saved)

    @_action_schema(
        "Complete the review",
        "Final levels and depths under the cycle's rule, and the T-shape classification. "
        "Incomplete: 400 `incomplete` with what is missing.",
        RevisionSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        assessment = self.get_object()
        data = self._body(RevisionSerializer, assessment)
        saved = services.complete_assessment(
            assessment=assessment, by=request.user, revision=data["revision"]
        )
        return self._answer(saved)
