"""The API of certification: applications (apply, the supervisor's approve / reject, HR's confirm /
send back, HR's bulk run) with their decision records, and certificates (read, PDF, revoke) —
every step one call into ``certification.services``, as on the pages.

Scoping mirrors ``views.py``: reads through ``visible_to``; a supervisor decides only on the
applications of the people they rate (``supervised_by``, never their own); HR's steps need
``certification.confirm``. A role with no business with a step answers 403 before anything is
read; an application or certificate out of scope answers 404. Request bodies carry only what the
step needs (a note or a reason): status, grades, approvals and certificates are never fields a
caller sets (an unknown field is a 400 and nothing changes).
"""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import IdFilter, visible_unit
from accounts.audit import record_download
from accounts.permissions import Capability
from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
    ApiPagination,
    CapabilityRequired,
    DecisionRecordSerializer,
    StrictSerializer,
    error_responses,
    step_schema,
)

from ..api import PersonBriefSerializer
from ..models import Assessment, Certificate, CertificationApplication, CertificationEvent, Cycle
from . import selectors, services
from .pdf import certificate_filename, certificate_pdf

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

    class Meta:
        model = Certificate
        fields = ["grade", "state", "person", "within", "valid_from", "valid_to", "number"]

    def filter_state(self, queryset, name, value: str):
        return queryset.in_state(value, timezone.localdate())


# --- applications ---------------------------------------------------------------------------------


def _events(path: str = "events") -> Prefetch:
    return Prefetch(path, CertificationEvent.objects.select_related("actor").order_by("at", "pk"))


def _readable(applications):
    """Applications with what the serializers read, in a fixed number of queries."""
    return applications.select_related(
        "person", "cycle__model_version", "grade", "eligible_grade", "certificate"
    ).prefetch_related(_events())


_step_schema = step_schema(answer=ApplicationSerializer, errors=STEP_ERRORS)


@extend_schema_view(
    list=extend_schema(
        summary="Certification applications visible to the caller",
        description="Own applications, those of the caller's headed subtrees, or all for HR.",
        responses={200: ApplicationSerializer(many=True), **error_responses(*LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One application with its decisions and the grade check",
        responses={200: ApplicationSerializer, **error_responses(*READ_ERRORS)},
    ),
    create=extend_schema(
        summary="Apply for a grade",
        description="From the caller's own latest completed assessment, for a grade up to the "
        "one its final levels meet; one open application per cycle (else 409). The status, the "
        "eligible grade and the decisions are not part of this body (sending them is a 400).",
        request=ApplySerializer,
        responses={201: ApplicationSerializer, **error_responses(*STEP_ERRORS)},
    ),
)
class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Applications through ``visible_to``; the supervisor's steps only on the people the caller
    rates, HR's steps with ``certification.confirm``."""

    queryset = CertificationApplication.objects.none()  # the model, for the schema
    lookup_value_regex = "[0-9]+"
    serializer_class = ApplicationSerializer
    permission_classes = [*viewsets.GenericViewSet.permission_classes, CapabilityRequired]
    action_capabilities = {
        "create": Capability.SELF_ASSESS,
        "approve": Capability.REVIEW,
        "reject": Capability.REVIEW,
        "confirm": Capability.CONFIRM_CERTIFICATION,
        "send_back": Capability.CONFIRM_CERTIFICATION,
        "bulk": Capability.CONFIRM_CERTIFICATION,
    }
    pagination_class = ApiPagination
    filterset_class = ApplicationFilter
    ordering_fields = ["id", "created_at", "updated_at", "status"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        user = self.request.user
        if self.action in {"approve", "reject"}:
            return _readable(CertificationApplication.objects.supervised_by(user))
        return _readable(CertificationApplication.objects.visible_to(user))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_check": self.action != "list"}

    def _body(self, serializer_class) -> dict:
        body = serializer_class(data=self.request.data, context={"request": self.request})
        body.is_valid(raise_exception=True)
        return body.validated_data

    def _answer(self, application, code=status.HTTP_200_OK) -> Response:
        """The application after the step, as the caller may read it."""
        readable = _readable(CertificationApplication.objects.visible_to(self.request.user))
        fresh = readable.get(pk=application.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        data = self._body(ApplySerializer)
        application = services.apply_for_certification(
            assessment=data["assessment"],
            grade_code=data["grade"],
            by=request.user,
            note=data["note"],
        )
        return self._answer(application, status.HTTP_201_CREATED)

    @_step_schema(
        "Approve an application (supervisor)",
        "Only for an applicant the caller rates, while it waits for the supervisor; HR confirms "
        "next.",
        DecisionNoteSerializer,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        application = self.get_object()
        note = self._body(DecisionNoteSerializer)["note"]
        services.approve_application(application=application, by=request.user, note=note)
        return self._answer(application)

    @_step_schema(
        "Reject an application (supervisor)",
        "With a reason; the applicant may apply again.",
        RejectSerializer,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        application = self.get_object()
        reason = self._body(RejectSerializer)["reason"]
        services.reject_application(application=application, by=request.user, reason=reason)
        return self._answer(application)

    @_step_schema(
        "Confirm an application (HR)",
        "Issues the certificate (its id is in `certificate`). Nobody confirms their own "
        "application (403).",
        DecisionNoteSerializer,
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        application = self.get_object()
        note = self._body(DecisionNoteSerializer)["note"]
        services.confirm_application(application=application, by=request.user, note=note)
        return self._answer(application)

    @_step_schema(
        "Send an application back to the supervisor (HR)",
        "With a reason; it waits for the supervisor's decision again.",
        SendBackSerializer,
    )
    @action(detail=True, methods=["post"], url_path="send-back", url_name="send-back")
    def send_back(self, request, pk=None):
        application = self.get_object()
        reason = self._body(SendBackSerializer)["reason"]
        services.send_back_application(application=application, by=request.user, reason=reason)
        return self._answer(application)

    @extend_schema(
        summary="Apply for everyone eligible in a cycle (HR)",
        description="At each person's eligible grade, skipping open applications, grades "
        "already held from the cycle and grades a supervisor rejected there.",
        request=BulkApplySerializer,
        responses={200: CountSerializer, **error_responses(400, 401, 403)},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        cycle = self._body(BulkApplySerializer)["cycle"]
        created = services.raise_applications_for_cycle(cycle=cycle, by=request.user)
        return Response({"count": created})


# --- certificates ---------------------------------------------------------------------------------


class PdfDownloadMixin:
    """A download answers its file whatever the ``Accept`` header; its errors stay JSON."""

    download_actions = frozenset({"pdf"})

    def perform_content_negotiation(self, request, force=False):
        force = force or getattr(self, "action", None) in self.download_actions
        return super().perform_content_negotiation(request, force=force)


@extend_schema_view(
    list=extend_schema(
        summary="Certificates visible to the caller",
        description="Own certificates, those of the caller's headed subtrees, or all for HR.",
        responses={200: CertificateSerializer(many=True), **error_responses(*LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One certificate with its history",
        responses={200: CertificateSerializer, **error_responses(*READ_ERRORS)},
    ),
)
class CertificateViewSet(PdfDownloadMixin, viewsets.ReadOnlyModelViewSet):
    """Certificates through ``visible_to``; revoking needs ``certification.confirm``."""

    queryset = Certificate.objects.none()  # the model, for the schema; reads use get_queryset
    lookup_value_regex = "[0-9]+"
    serializer_class = CertificateSerializer
    permission_classes = [*viewsets.GenericViewSet.permission_classes, CapabilityRequired]
    action_capabilities = {"revoke": Capability.CONFIRM_CERTIFICATION}
    pagination_class = ApiPagination
    filterset_class = CertificateFilter
    ordering_fields = ["id", "number", "issued_on", "valid_until"]
    ordering = ["-issued_on", "-id"]

    def get_queryset(self):
        return (
            Certificate.objects.visible_to(self.request.user)
            .select_related("person", "person__org_unit", "grade", "application__cycle")
            .prefetch_related(_events("application__events"))
        )

    @extend_schema(
        summary="The certificate as a PDF",
        description="Bilingual, one A4 page; a revoked or expired certificate is marked so.",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **error_responses(*READ_ERRORS)},
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        certificate = self.get_object()
        response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
        name = certificate_filename(certificate)
        record_download(request, target=certificate, summary=name)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @extend_schema(
        summary="Revoke a certificate (HR)",
        description="With a reason; the public verification says so from then on. Nobody "
        "revokes their own certificate (403).",
        request=RevokeSerializer,
        responses={200: CertificateSerializer, **error_responses(*STEP_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        certificate = self.get_object()
        body = RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.revoke_certificate(
            certificate=certificate, by=request.user, reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=certificate.pk)).data)
