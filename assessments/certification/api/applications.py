"""Certification applications and their steps (apply, approve, reject, confirm, send back)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import Capability
from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
    ApiPagination,
    CapabilityRequired,
    error_responses,
    step_schema,
)

from ...models import CertificationApplication
from .. import services
from .serializers import (
    STEP_ERRORS,
    ApplicationFilter,
    ApplicationSerializer,
    ApplySerializer,
    BulkApplySerializer,
    CountSerializer,
    DecisionNoteSerializer,
    RejectSerializer,
    SendBackSerializer,
    events_prefetch,
)

# --- applications ---------------------------------------------------------------------------------


def _readable(applications):
    """Applications with what the serializers read, in a fixed number of queries."""
    return applications.select_related(
        "person", "cycle__model_version", "grade", "eligible_grade", "certificate"
    ).prefetch_related(events_prefetch())


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
