"""The API of the organisation: units and people (read-only, scoped), and API tokens.

Every read goes through ``visible_to(user)``: an object outside the caller's scope is a 404.
People and units change through the org import, never through the API.
"""

import django_filters
from django import forms
from django.contrib.auth import authenticate
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
    AdminRole,
    ApiError,
    ApiPagination,
    ErrorCode,
    ErrorSerializer,
    StrictSerializer,
    error_responses,
)

from . import lockout
from .models import OrgUnit, User
from .permissions import Role

# --- filters --------------------------------------------------------------------------------------


class IdFilter(django_filters.NumberFilter):
    """An id (integer) filter; a non-integer is a 400, not a silent miss."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Documented as an integer with its label (django-filter's NumberFilter says "number").
        set_override(self, "field", {"type": "integer", "description": str(self.label or "")})


def visible_unit(request, value):
    """The unit ``value`` when the caller may see it, else None (no existence is revealed)."""
    return OrgUnit.objects.visible_to(request.user).filter(pk=value).first()


class OrgUnitFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrgUnit.Kind.choices, label="Unit kind.")
    parent = IdFilter(field_name="parent_id", label="Units directly below this unit id.")
    within = IdFilter(method="filter_within", label="Units in this unit's subtree (itself too).")
    code = django_filters.CharFilter(label="Exact unit code.")

    class Meta:
        model = OrgUnit
        fields = ["kind", "parent", "within", "code"]

    def filter_within(self, queryset, name, value: int):
        unit = visible_unit(self.request, value)
        return queryset.filter(path__startswith=unit.path) if unit else queryset.none()


class PersonFilter(django_filters.FilterSet):
    org_unit = IdFilter(field_name="org_unit_id", label="People of exactly this unit id.")
    within = IdFilter(method="filter_within", label="People in this unit's subtree.")
    role = django_filters.ChoiceFilter(
        choices=Role.choices, field_name="groups__name", distinct=True, label="People with a role."
    )
    is_active = django_filters.BooleanFilter(label="Active (true) or deactivated (false) people.")
    job_grade = django_filters.CharFilter(label="Exact grade code, e.g. G2.")
    employee_no = django_filters.CharFilter(label="Exact employee number.")
    q = django_filters.CharFilter(
        method="filter_q", label="Part of the name, username or employee number."
    )

    class Meta:
        model = User
        fields = ["org_unit", "within", "role", "is_active", "job_grade", "employee_no", "q"]

    def filter_within(self, queryset, name, value: int):
        unit = visible_unit(self.request, value)
        return queryset.in_subtree(unit) if unit else queryset.none()

    def filter_q(self, queryset, name, value: str):
        return queryset.filter(
            Q(display_name__icontains=value)
            | Q(username__icontains=value)
            | Q(employee_no__icontains=value)
        )


# --- serializers ----------------------------------------------------------------------------------


class OrgUnitSerializer(serializers.ModelSerializer):
    """A unit of the organisation tree; ``path`` lists the ids from the root."""

    name = serializers.CharField(read_only=True, help_text="Name in the request's language.")
    heads = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = OrgUnit
        fields = ["id", "code", "name", "name_zh", "name_en", "kind", "parent", "path", "depth"]
        fields += ["heads"]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    """A person as the caller may see them (no password, no permissions)."""

    roles = serializers.SerializerMethodField()
    org_unit_name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "employee_no",
            "email",
            "org_unit",
            "org_unit_name",
            "job_grade",
            "roles",
            "is_active",
            "preferred_language",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(Role.choices)))
    def get_roles(self, person) -> list[str]:
        return sorted(group.name for group in person.groups.all() if group.name in Role.values)

    def get_org_unit_name(self, person) -> str:
        return person.org_unit.name if person.org_unit_id else ""


# --- views ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Org units visible to the caller",
        description="HR and admin see every unit; a head sees their headed subtrees; "
        "everyone sees their own unit.",
        responses={200: OrgUnitSerializer(many=True), **error_responses(*LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One org unit",
        responses={200: OrgUnitSerializer, **error_responses(*READ_ERRORS)},
    ),
)
class OrgUnitViewSet(viewsets.ReadOnlyModelViewSet):
    """Units of the organisation, scoped with ``OrgUnit.objects.visible_to``."""

    queryset = OrgUnit.objects.none()  # the model, for the schema; reads use get_queryset
    serializer_class = OrgUnitSerializer
    pagination_class = ApiPagination
    filterset_class = OrgUnitFilter
    ordering_fields = ["path", "code", "name_zh", "name_en", "depth", "id"]
    ordering = ["path"]

    def get_queryset(self):
        return OrgUnit.objects.visible_to(self.request.user).prefetch_related("heads")


@extend_schema_view(
    list=extend_schema(
        summary="People visible to the caller",
        description="HR and admin see everyone; a head sees their headed subtrees; "
        "everyone else sees themself only.",
        responses={200: PersonSerializer(many=True), **error_responses(*LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One person", responses={200: PersonSerializer, **error_responses(*READ_ERRORS)}
    ),
)
class PersonViewSet(viewsets.ReadOnlyModelViewSet):
    """People, scoped with ``User.objects.visible_to``."""

    queryset = User.objects.none()  # the model, for the schema; reads use get_queryset
    serializer_class = PersonSerializer
    pagination_class = ApiPagination
    filterset_class = PersonFilter
    ordering_fields = ["employee_no", "username", "display_name", "id"]
    ordering = ["employee_no", "username", "id"]

    def get_queryset(self):
        return (
            User.objects.visible_to(self.request.user)
            .select_related("org_unit")
            .prefetch_related("groups")
        )


# --- tokens ---------------------------------------------------------------------------------------


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        # The request is required: the lockout counts failures per username and address.
        user = authenticate(
            request=self.context["request"],
            username=attrs["username"],
            password=attrs["password"],
        )
        # One answer for an unknown user, a wrong password and a deactivated account.
        if user is None:
            raise serializers.ValidationError(_("用户名或密码不正确。"), code="authorization")
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class SignInLocked(ApiError):
    """Too many failed sign-ins for this username from this address (429, ``Retry-After``)."""

    def __init__(self, request, username: str | None):
        left = lockout.time_left(request, username)
        super().__init__(429, ErrorCode.THROTTLED, lockout.lockout_message(left))
        self.wait = max(1, int(left.total_seconds()))


LOCKED_RESPONSE = OpenApiResponse(
    response=ErrorSerializer,
    description="Too many failed sign-ins for this username from this address (`throttled`): "
    "refused, even with the right password, until the lockout ends (`Retry-After`) or an "
    "administrator unlocks it. Unknown usernames are locked the same way.",
)


class TokenView(APIView):
    """POST: a token for a username and password. DELETE: revoke the caller's own token."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        summary="Obtain an API token",
        description="Returns the caller's token (created on first use). The same 400 answers an "
        "unknown user, a wrong password and a deactivated account. Needs no credentials; an "
        "invalid `Authorization` header is still refused (401). Repeated failures for one "
        "username from one address lock it for a while (429).",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **error_responses(400, 401), 429: LOCKED_RESPONSE},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if lockout.is_locked_out(request):
                username = str(serializer.initial_data.get("username", "")).strip()
                raise SignInLocked(request, username)
            raise serializers.ValidationError(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})

    @extend_schema(
        summary="Revoke the caller's token",
        description="Deletes the caller's token; requests with it answer 401 from now on. "
        "Idempotent: answers 204 when there is no token.",
        responses={204: OpenApiResponse(description="Revoked."), **error_responses(401, 403)},
    )
    def delete(self, request, *args, **kwargs):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserTokenViewSet(mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Admins revoke anyone's token (a lost laptop, a person who left)."""

    queryset = User.objects.none()  # the model, for the schema; reads use get_queryset
    permission_classes = [IsAuthenticated, AdminRole]
    lookup_url_kwarg = "user_id"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return User.objects.visible_to(self.request.user)

    @extend_schema(
        summary="Revoke a person's token (admin)",
        description="Deletes the token of the person with this id; 204 also when they had none.",
        responses={204: OpenApiResponse(description="Revoked."), **error_responses(401, 403, 404)},
    )
    def destroy(self, request, *args, **kwargs):
        person = get_object_or_404(self.get_queryset(), pk=kwargs["user_id"])
        Token.objects.filter(user=person).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
