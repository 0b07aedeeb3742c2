"""Certificates: read them, download one as PDF, revoke one (HR)."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.audit import record_download
from accounts.permissions import Capability
from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
    ApiPagination,
    CapabilityRequired,
    error_responses,
)

from ...models import Certificate
from .. import services
from ..pdf import certificate_filename, certificate_pdf
from .serializers import (
    STEP_ERRORS,
    CertificateFilter,
    CertificateSerializer,
    RevokeSerializer,
    events_prefetch,
)

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
            .prefetch_related(events_prefetch("application__events"))
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
