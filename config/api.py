"""Shared pieces of the REST API: the error shape and its handler, permissions, pagination,
strict request serializers and the schema helpers every viewset uses.

Every error answers ``{"error": {"code": …, "message": …, "fields": {…}}}`` (plus ``missing``
when a submit or complete is incomplete); the message is translated into the request's language.
Domain errors from the services map onto HTTP here, once, instead of in each view.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from accounts.permissions import Role, has_capability, roles_of

logger = logging.getLogger("django.request")


# --- errors ---------------------------------------------------------------------------------------


class ErrorCode:
    """The stable ``error.code`` values clients may branch on."""

    INVALID = "invalid"
    INCOMPLETE = "incomplete"
    STALE = "stale"
    CONFLICT = "conflict"
    PUBLISHED_VERSION_IMMUTABLE = "published_version_immutable"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    CSRF_FAILED = "csrf_failed"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    PARSE_ERROR = "parse_error"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"

    ALL = (
        INVALID,
        INCOMPLETE,
        STALE,
        CONFLICT,
        PUBLISHED_VERSION_IMMUTABLE,
        NOT_AUTHENTICATED,
        AUTHENTICATION_FAILED,
        PERMISSION_DENIED,
        CSRF_FAILED,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        NOT_ACCEPTABLE,
        UNSUPPORTED_MEDIA_TYPE,
        PARSE_ERROR,
        THROTTLED,
        SERVER_ERROR,
    )


class ApiError(exceptions.APIException):
    """An error already in our terms: status, code, translated message, field errors."""

    def __init__(self, status_code: int, code: str, message: str, fields=None, missing=None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.fields = fields or {}
        self.missing = missing


def _generic_messages() -> dict:
    """Our own words for DRF's errors (Chinese source text, translated like every other string)."""
    return {
        exceptions.NotAuthenticated: (
            ErrorCode.NOT_AUTHENTICATED,
            _("需要登录：请提供有效的令牌，或先登录。"),
        ),
        exceptions.AuthenticationFailed: (
            ErrorCode.AUTHENTICATION_FAILED,
            _("身份验证失败：令牌无效，或账号已停用。"),
        ),
        exceptions.PermissionDenied: (ErrorCode.PERMISSION_DENIED, _("您没有执行此操作的权限。")),
        exceptions.NotFound: (ErrorCode.NOT_FOUND, _("未找到，或您无权查看。")),
        exceptions.MethodNotAllowed: (ErrorCode.METHOD_NOT_ALLOWED, _("不支持此请求方法。")),
        exceptions.NotAcceptable: (ErrorCode.NOT_ACCEPTABLE, _("无法按所要求的格式返回数据。")),
        exceptions.UnsupportedMediaType: (
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            _("不支持此请求内容类型，请使用 JSON。"),
        ),
        exceptions.ParseError: (ErrorCode.PARSE_ERROR, _("请求内容无法解析。")),
        exceptions.Throttled: (ErrorCode.THROTTLED, _("请求过于频繁，请稍后再试。")),
        exceptions.ValidationError: (ErrorCode.INVALID, _("提交的数据有误，请更正标出的字段。")),
    }


def _domain_error(exc) -> ApiError | None:
    """The services' errors in HTTP terms; None for anything that is not one of ours."""
    # Imported here: the handler is loaded by DRF lazily, after every app is ready.
    from assessments.certification.services import CertificationError
    from assessments.gap_reports.services import GapReportError
    from assessments.services import IncompleteAssessment, StaleAssessment, WorkflowError
    from competency.exchange import ModelDataError
    from competency.models import PublishedVersionImmutable
    from competency.services import ImportRefused, ModelEditError, VersionStateError

    if isinstance(exc, IncompleteAssessment):
        missing = [{"field": item.field, "message": str(item)} for item in exc.missing]
        fields: dict[str, list[str]] = {}
        for item in missing:
            fields.setdefault(item["field"], []).append(item["message"])
        return ApiError(400, ErrorCode.INCOMPLETE, str(exc), fields, missing)
    if isinstance(exc, StaleAssessment):
        return ApiError(409, ErrorCode.STALE, str(exc))
    if isinstance(
        exc, (WorkflowError, VersionStateError, ImportRefused, CertificationError, GapReportError)
    ):
        return ApiError(409, ErrorCode.CONFLICT, str(exc))
    if isinstance(exc, PublishedVersionImmutable):
        return ApiError(409, ErrorCode.PUBLISHED_VERSION_IMMUTABLE, exc.messages[0])
    if isinstance(exc, ModelDataError):
        return ApiError(
            400, ErrorCode.INVALID, _("模型版本尚不完整，不能发布。"), {"model": exc.errors}
        )
    if isinstance(exc, ModelEditError):
        return ApiError(400, ErrorCode.INVALID, str(exc))
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return ApiError(400, ErrorCode.INVALID, _("提交的数据有误，请更正标出的字段。"), fields)
    return None


def _fields_of(detail) -> dict:
    if isinstance(detail, dict):
        return detail
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {}


def _body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, ApiError):
        body = {"code": exc.error_code, "message": exc.message, "fields": exc.fields}
        if exc.missing is not None:
            body["missing"] = exc.missing
        return body
    code, message = ErrorCode.SERVER_ERROR, str(exc.detail)
    for cls, (known_code, known_message) in _generic_messages().items():
        if isinstance(exc, cls):
            code, message = known_code, known_message
            break
    if code == ErrorCode.PERMISSION_DENIED and str(exc.detail).startswith("CSRF Failed"):
        code, message = ErrorCode.CSRF_FAILED, _("CSRF 校验失败：请刷新页面后重试。")
    fields = _fields_of(exc.detail) if isinstance(exc, exceptions.ValidationError) else {}
    return {"code": code, "message": message, "fields": fields}


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every error as ``{"error": {code, message, fields}}``."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    else:
        exc = _domain_error(exc) or exc
    if not isinstance(exc, exceptions.APIException):
        request = context.get("request")
        logger.error(
            "Internal Server Error: %s",
            getattr(request, "path", "?"),
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"status_code": 500, "request": getattr(request, "_request", None)},
        )
        set_rollback()
        body = {"code": ErrorCode.SERVER_ERROR, "message": _("服务器内部错误，请稍后再试。")}
        return Response({"error": {**body, "fields": {}}}, status=500)
    response = drf_exception_handler(exc, context)
    response.data = {"error": _body(exc)}
    return response


class MissingItemSerializer(serializers.Serializer):
    """One thing still to fill in before a submit or complete succeeds."""

    field = serializers.CharField(help_text="The form field it belongs to, e.g. `level-1.1`.")
    message = serializers.CharField(help_text="What is missing, in words (translated).")


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "Field name → list of messages (nested objects for nested input); "
        "`non_field_errors` for errors about the whole request. Empty when no field is at fault.",
    }
)
class FieldErrorsField(serializers.DictField):
    pass


class ErrorDetailSerializer(serializers.Serializer):
    """The body of every error: a stable code, a translated message and the fields at fault."""

    def get_fields(self):
        # A field named "fields" cannot be declared as a class attribute of a serializer.
        return {
            "code": serializers.ChoiceField(choices=ErrorCode.ALL, help_text="Stable error code."),
            "message": serializers.CharField(help_text="Translated (Accept-Language)."),
            "fields": FieldErrorsField(),
            "missing": MissingItemSerializer(
                many=True,
                required=False,
                help_text="Only for `incomplete`: each missing item with its form field.",
            ),
        }


class ErrorSerializer(serializers.Serializer):
    """``{"error": {...}}``: the shape of every 4xx/5xx answer of the API."""

    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, with `fields`), an incomplete submit/complete "
    "(`incomplete`, with `missing`) or an unparsable body (`parse_error`).",
    401: "Not signed in, or the token is invalid (`not_authenticated`, `authentication_failed`).",
    403: "Signed in, but the role does not allow this (`permission_denied`, `csrf_failed`).",
    404: "No such object, or not visible to the caller (`not_found`): existence is not revealed.",
    409: "The current state forbids the step (`conflict`), the object changed since it was read "
    "(`stale`), or the model version is published (`published_version_immutable`).",
}


def error_responses(*codes: int) -> dict:
    """``extend_schema(responses=...)`` entries for the given error statuses (shared serializer)."""
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in codes
    }


def step_schema(*, answer, errors):
    """The schema of a workflow step: a body in, the changed object out, the errors it documents."""

    def schema(summary: str, description: str, request):
        return extend_schema(
            summary=summary,
            description=description,
            request=request,
            responses={200: answer, **error_responses(*errors)},
        )

    return schema


READ_ERRORS = (401, 404)
LIST_ERRORS = (400, 401, 404)


# --- strict request bodies ------------------------------------------------------------------------


class StrictMixin:
    """Refuses keys the serializer does not know (400) instead of ignoring them: a field a caller
    may not set (a supervisor level in a self-assessment, a final level) is an error, never a
    silent no-op. Read-only fields a client echoes back stay ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("不允许提交此字段。")] for name in unknown}
                )
        return super().to_internal_value(data)


class DecisionRecordSerializer(serializers.ModelSerializer):
    """A recorded decision: who (actor), when, what (action) and why (note); never changed."""

    # Subclasses name the model (an ``accounts.audit.DecisionRecord``) in
    # ``class Meta(DecisionRecordSerializer.Meta)``.

    actor_name = serializers.SerializerMethodField()

    class Meta:
        fields = ["action", "actor", "actor_name", "at", "note"]
        read_only_fields = fields

    def get_actor_name(self, record) -> str:
        return str(record.actor) if record.actor_id else ""


class StrictSerializer(StrictMixin, serializers.Serializer):
    """A request body that allows only its own fields."""


class StrictSerializerExtension(OpenApiSerializerExtension):
    """Documents the strictness: request bodies of strict serializers allow no other properties."""

    target_class = StrictMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


# --- permissions ----------------------------------------------------------------------------------


class CapabilityRequired(BasePermission):
    """Declarative capability check: ``capability`` on the view, or ``action_capabilities`` per
    action (an action mapped to None needs no capability). Scoping is the queryset's job."""

    def has_permission(self, request, view):
        capability = getattr(view, "action_capabilities", {}).get(
            getattr(view, "action", None), getattr(view, "capability", None)
        )
        return capability is None or has_capability(request.user, capability)


class AdminRole(BasePermission):
    """The system administrator role (for managing other people's API tokens)."""

    def has_permission(self, request, view):
        return Role.ADMIN in roles_of(request.user)


# --- lists ----------------------------------------------------------------------------------------


class ApiPagination(PageNumberPagination):
    """Page-number pagination; the client may ask for up to 200 rows a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# --- unknown API paths ----------------------------------------------------------------------------


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([])
def not_found(request, *args, **kwargs):
    """Any path under /api/ that names no endpoint: a JSON 404 in the same shape as every error."""
    raise exceptions.NotFound()
