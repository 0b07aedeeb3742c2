"""What the certification API reads and accepts: serializers, request bodies, filters."""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api import IdFilter, visible_unit
from config.api import (
    DecisionRecordSerializer,
    StrictSerializer,
)

from ...api import PersonBriefSerializer
from ...models import Assessment, Certificate, CertificationApplication, CertificationEvent, Cycle
from .. import selectors, services

STEP_ERRORS = (400, 401, 403, 404, 409)


# --- reading --------------------------------------------------------------------------------------


class CertificationEventSerializer(DecisionRecordSerializer):
    """One recorded step (who, when, what, why); never changed after it was written."""

    details = serializers.DictField(read_only=True, help_text="What the step recorded.")

    class Meta(DecisionRecordSerializer.Meta):
        model = CertificationEvent
        fields = [*DecisionRecordSerializer.Meta.fields, "certificate", "details"]
        read_only_fields = fields


class RequirementSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Category code.")
    name = serializers.CharField()
    level = serializers.IntegerField(allow_null=True, help_text="The applicant's final level.")
    required = serializers.IntegerField(help_text="The level the grade requires.")
    met = serializers.BooleanField()


class GradeCheckSerializer(serializers.Serializer):
    """The applied grade against the applicant's final levels (what the approver weighs)."""

    met = serializers.BooleanField()
    requirements = RequirementSerializer(many=True)
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="What is missing, in words (translated)."
    )


class ApplicationSerializer(serializers.ModelSerializer):
    """An application for a grade with every decision so far (oldest first); outside lists also
    the applied grade's check against the final levels."""

    person = PersonBriefSerializer(read_only=True)
    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    grade = serializers.CharField(source="grade.code", read_only=True)
    grade_name = serializers.CharField(source="grade.name", read_only=True)
    eligible_grade = serializers.CharField(
        source="eligible_grade.code",
        read_only=True,
        allow_null=True,
        help_text="The highest grade the final levels met when applying.",
    )
    certificate = serializers.SerializerMethodField(help_text="Id of the issued certificate.")
    events = CertificationEventSerializer(many=True, read_only=True)
    check = serializers.SerializerMethodField(help_text="Null in lists.")

    class Meta:
        model = CertificationApplication
        fields = ["id", "person", "cycle", "cycle_name", "assessment", "grade", "grade_name"]
        fields += ["eligible_grade", "status", "raised_by", "created_at", "updated_at"]
        fields += ["certificate", "events", "check"]
        read_only_fields = fields

    def get_certificate(self, application) -> int | None:
        certificate = getattr(application, "certificate", None)
        return certificate.pk if certificate else None

    @extend_schema_field(GradeCheckSerializer(allow_null=True))
    def get_check(self, application):
        if not self.context.get("with_check"):
            return None
        check, profile = selectors.grade_check(application)
        if check is None:
            return None
        return {
            "met": check.met,
            "requirements": selectors.requirement_rows(check, profile),
            "missing": selectors.named_missing_lines(check, profile.category_names),
        }


class CertificateSerializer(serializers.ModelSerializer):
    """A certificate and the decisions of the application it came from (oldest first)."""

    person = PersonBriefSerializer(read_only=True)
    grade = serializers.CharField(source="grade.code", read_only=True)
    grade_name = serializers.CharField(source="grade.name", read_only=True)
    cycle = serializers.IntegerField(source="application.cycle_id", read_only=True)
    state = serializers.SerializerMethodField(
        help_text="Valid, expired or revoked as of today (also before the daily expiry run)."
    )
    events = CertificationEventSerializer(source="application.events", many=True, read_only=True)

    class Meta:
        model = Certificate
        fields = ["id", "number", "person", "holder_name", "grade", "grade_name", "issued_on"]
        fields += ["valid_until", "state", "revoked_at", "application", "cycle", "events"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Certificate.Status.choices))
    def get_state(self, certificate) -> str:
        return certificate.state(timezone.localdate())


# --- request bodies -------------------------------------------------------------------------------


def _note_field():
    return serializers.CharField(
        max_length=services.TEXT_MAX,
        allow_blank=True,
        required=False,
        default="",
        help_text="Optional; recorded with the decision.",
    )


def _reason_field(help_text):
    return serializers.CharField(max_length=services.TEXT_MAX, help_text=help_text)


class ApplySerializer(StrictSerializer):
    """Apply from one's own latest completed assessment for a grade up to the eligible one."""

    assessment = serializers.PrimaryKeyRelatedField(
        queryset=Assessment.objects.none(),
        help_text="Id of the caller's own completed assessment (the latest one).",
    )
    grade = serializers.CharField(max_length=16, help_text="Grade code, e.g. G3.")
    note = _note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["assessment"].queryset = Assessment.objects.filter(
                person=request.user, status=Assessment.Status.COMPLETED
            )

    def validate(self, attrs):
        applicable = selectors.eligibility_report(attrs["assessment"]).applicable
        if attrs["grade"] not in {g.code for g in applicable}:
            raise serializers.ValidationError(
                {"grade": [_("您的最终等级尚未达到所申请的认证等级。")]}
            )
        return attrs


class DecisionNoteSerializer(StrictSerializer):
    note = _note_field()


class RejectSerializer(StrictSerializer):
    reason = _reason_field("Why it is rejected (the applicant reads it).")


class SendBackSerializer(StrictSerializer):
    reason = _reason_field("Why it goes back to the supervisor step.")


class RevokeSerializer(StrictSerializer):
    reason = _reason_field("Why the certificate is revoked (recorded).")


class BulkApplySerializer(StrictSerializer):
    cycle = serializers.PrimaryKeyRelatedField(
        queryset=Cycle.objects.filter(
            Exists(
                Assessment.objects.filter(cycle=OuterRef("pk"), status=Assessment.Status.COMPLETED)
            )
        ),
        help_text="Id of a cycle with completed assessments.",
    )


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Applications created.")


# --- filters --------------------------------------------------------------------------------------


class HoldersWithin:
    """``within``: rows of the people in a unit's subtree, if the caller may see that unit."""

    def filter_within(self, queryset, name, value: int):
        unit = visible_unit(self.request, value)
        return (
            queryset.filter(person__org_unit__path__startswith=unit.path)
            if unit
            else queryset.none()
        )


class ApplicationFilter(HoldersWithin, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=CertificationApplication.Status.choices, label="Applications in this state."
    )
    cycle = IdFilter(field_name="cycle_id", label="Applications of this cycle id.")
    person = IdFilter(field_name="person_id", label="Applications of this person id.")
    grade = django_filters.CharFilter(field_name="grade__code", label="Applied grade code.")
    within = IdFilter(method="filter_within", label="Applicants in this unit's subtree.")
    queue = django_filters.ChoiceFilter(
        choices=[("approval", "approval"), ("confirmation", "confirmation")],
        method="filter_queue",
        label="`approval`: waiting for the caller as supervisor; `confirmation`: waiting for HR.",
    )

    class Meta:
        model = CertificationApplication
        fields = ["status", "cycle", "person", "grade", "within", "queue"]

    def filter_queue(self, queryset, name, value: str):
        queues = {
            "approval": selectors.approval_queue,
            "confirmation": selectors.confirmation_queue,
        }
        return queryset.filter(pk__in=queues[value](self.request.user).values("pk"))


class CertificateFilter(HoldersWithin, django_filters.FilterSet):
    grade = django_filters.CharFilter(field_name="grade__code", label="Grade code.")
    state = django_filters.ChoiceFilter(
        choices=Certificate.Status.choices,
        method="filter_state",
        label="Valid, expired or revoked as of today.",
    )
    person = IdFilter(field_name="person_id", label="Certificates of this person id.")
    within = IdFilter(method="filter_within", label="Holders in this unit's subtree.")
    valid_from = django_filters.DateFilter(
        field_name="valid_until", lookup_expr="gte", label="Valid until on or after this date."
    )
    valid_to = django_filters.DateFilter(
        field_name="valid_until", lookup_expr="lte", label="Valid until on or before this date."
    )
    number = django_filters.CharFilter(
        field_name="number", lookup_expr="icontains", label="Part of the number."
    )
    q = django_filters.CharFilter(
        method="filter_q",
        label="Part of the holder's name, employee number or certificate number (as the register).",
    )

    class Meta:
        model = Certificate
        fields = ["grade", "state", "person", "within", "valid_from", "valid_to", "number", "q"]

    def filter_q(self, queryset, name, value: str):
        return queryset.matching(value.strip()) if value.strip() else queryset

    def filter_state(self, queryset, name, value: str):
        return queryset.in_state(value, timezone.localdate())


def events_prefetch(path: str = "events") -> Prefetch:
    """An application's decision records, oldest first, with who made them (one query)."""
    return Prefetch(path, CertificationEvent.objects.select_related("actor").order_by("at", "pk"))
