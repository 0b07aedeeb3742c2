"""The API of the competency model: versions and their content for everyone signed in (drafts
for admins only); edits of drafts, new drafts, publishing and retiring for admins.

Writes go through ``competency.services`` (which lock the version and re-check it is a draft)
and reuse the editor's forms for their rules; a published or retired version answers 409
``published_version_immutable`` and nothing changes.
"""

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import Capability, has_capability
from config.api import (
    LIST_ERRORS,
    READ_ERRORS,
    ApiPagination,
    CapabilityRequired,
    StrictSerializer,
    error_responses,
)

from . import services
from .forms import CategoryForm, VersionSettingsForm
from .models import (
    LEVEL_VALUES,
    Category,
    Grade,
    GradeTarget,
    ModelVersion,
    PublishedVersionImmutable,
    depth_validators,
    level_validators,
)
from .selectors import model_overview

CODE_PATTERN = r"[^/\x00]+"

# --- the content of a version (read) --------------------------------------------------------------


class LevelSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class DepthLevelSerializer(LevelSerializer):
    description_zh = serializers.CharField()
    description_en = serializers.CharField()


class LevelTextSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    text_zh = serializers.CharField()
    text_en = serializers.CharField()


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    order = serializers.IntegerField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    description_zh = serializers.CharField()
    description_en = serializers.CharField()
    levels = LevelTextSerializer(many=True, help_text="What each level 1–5 means here.")


class DomainSerializer(serializers.Serializer):
    code = serializers.CharField()
    order = serializers.IntegerField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    motto_zh = serializers.CharField()
    motto_en = serializers.CharField()
    categories = CategorySerializer(many=True)


class IndustrySerializer(serializers.Serializer):
    code = serializers.CharField()
    order = serializers.IntegerField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class GradeSerializer(serializers.Serializer):
    code = serializers.CharField()
    order = serializers.IntegerField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    required_depth = serializers.IntegerField()
    depth_industries = serializers.IntegerField()
    breadth_count = serializers.IntegerField(allow_null=True)
    breadth_level = serializers.IntegerField(allow_null=True)
    validity_months = serializers.IntegerField()
    targets = serializers.DictField(
        child=serializers.IntegerField(), help_text="Category code → minimum final level."
    )


class ModelContentSerializer(serializers.Serializer):
    """Everything a version owns, in the model's order (never alphabetical)."""

    levels = LevelSerializer(many=True)
    depth_levels = DepthLevelSerializer(many=True)
    domains = DomainSerializer(many=True)
    industries = IndustrySerializer(many=True)
    grades = GradeSerializer(many=True)


def _pick(obj, *names) -> dict:
    return {name: getattr(obj, name) for name in names}


NAMES = ("code", "order", "name_zh", "name_en")
GRADE_FIELDS = (
    *NAMES,
    "required_depth",
    "depth_industries",
    "breadth_count",
    "breadth_level",
    "validity_months",
)


def _category(category, descriptions) -> dict:
    return {
        **_pick(category, *NAMES, "description_zh", "description_en"),
        "levels": [_pick(d, "level", "text_zh", "text_en") for d in descriptions],
    }


def model_content(version: ModelVersion) -> dict:
    """The version's content as plain data (``model_overview``: a fixed number of queries)."""
    overview = model_overview(version)
    codes = [c.code for c in overview["categories"]]
    return {
        "levels": [_pick(lv, "value", "name_zh", "name_en") for lv in overview["levels"]],
        "depth_levels": [
            _pick(d, "value", "name_zh", "name_en", "description_zh", "description_en")
            for d in overview["depth_levels"]
        ],
        "domains": [
            {
                **_pick(row["domain"], *NAMES, "motto_zh", "motto_en"),
                "categories": [_category(c["category"], c["levels"]) for c in row["categories"]],
            }
            for row in overview["domains"]
        ],
        "industries": [_pick(i, *NAMES) for i in overview["industries"]],
        "grades": [
            {
                **_pick(row["grade"], *GRADE_FIELDS),
                "targets": {
                    code: level
                    for code, level in zip(codes, row["targets"], strict=True)
                    if level is not None
                },
            }
            for row in overview["grid"]
        ],
    }


class ModelVersionSerializer(serializers.ModelSerializer):
    """A version with its classification thresholds; ``content`` is filled in the detail only."""

    name = serializers.CharField(read_only=True, help_text="Name in the request's language.")
    based_on = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    content = serializers.SerializerMethodField(
        help_text="The version's content; null in lists (read one version to get it)."
    )

    class Meta:
        model = ModelVersion
        fields = [
            "number",
            "name",
            "name_zh",
            "name_en",
            "status",
            "based_on",
            "created_at",
            "published_at",
            "breadth_level",
            "breadth_count",
            "breadth_floor",
            "depth_level",
            "pi_industries",
            "content",
        ]
        read_only_fields = fields

    @extend_schema_field(ModelContentSerializer(allow_null=True))
    def get_content(self, version):
        if not self.context.get("with_content"):
            return None
        return ModelContentSerializer(model_content(version)).data


# --- edits (request bodies) -----------------------------------------------------------------------


class VersionSettingsSerializer(StrictSerializer):
    """A draft's names and T-shape thresholds; fields left out keep their value."""

    name_zh = serializers.CharField(max_length=200, required=False)
    name_en = serializers.CharField(max_length=200, required=False)
    breadth_level = serializers.IntegerField(min_value=1, max_value=5, required=False)
    breadth_count = serializers.IntegerField(min_value=1, max_value=99, required=False)
    breadth_floor = serializers.IntegerField(min_value=1, max_value=5, required=False)
    depth_level = serializers.IntegerField(min_value=1, max_value=5, required=False)
    pi_industries = serializers.IntegerField(min_value=2, max_value=99, required=False)


class NoteSerializer(StrictSerializer):
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Why (kept in the record)."
    )


class LevelTextInputSerializer(StrictSerializer):
    text_zh = serializers.CharField(required=False, max_length=4000)
    text_en = serializers.CharField(required=False, max_length=4000)


class CategoryEditSerializer(StrictSerializer):
    """A draft category's names, description and level texts; fields left out keep their value."""

    name_zh = serializers.CharField(max_length=100, required=False)
    name_en = serializers.CharField(max_length=100, required=False)
    description_zh = serializers.CharField(max_length=4000, required=False)
    description_en = serializers.CharField(max_length=4000, required=False)
    levels = serializers.DictField(
        child=LevelTextInputSerializer(),
        required=False,
        help_text='Level ("1"–"5") → texts to change.',
    )

    def validate_levels(self, value):
        unknown = sorted(set(value) - {str(v) for v in LEVEL_VALUES})
        if unknown:
            raise serializers.ValidationError(_("等级必须是 1 到 5。"))
        return value


class GradeEditSerializer(StrictSerializer):
    """A draft grade's target profile; fields left out keep their value."""

    required_depth = serializers.IntegerField(required=False, validators=depth_validators)
    depth_industries = serializers.IntegerField(min_value=1, max_value=99, required=False)
    breadth_count = serializers.IntegerField(
        min_value=1, max_value=99, required=False, allow_null=True
    )
    breadth_level = serializers.IntegerField(
        required=False, allow_null=True, validators=level_validators
    )
    validity_months = serializers.IntegerField(min_value=1, max_value=240, required=False)
    targets = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=5),
        required=False,
        help_text="Category code → minimum final level (only the categories to change).",
    )


def _form_errors(form) -> serializers.ValidationError:
    return serializers.ValidationError({name: list(errors) for name, errors in form.errors.items()})


# --- views ----------------------------------------------------------------------------------------


class VersionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=ModelVersion.Status.choices, label="Versions in this state."
    )

    class Meta:
        model = ModelVersion
        fields = ["status"]


VERSION = OpenApiParameter("number", int, OpenApiParameter.PATH, description="Version number.")
WRITE_ERRORS = (400, 401, 403, 404, 409)


@extend_schema_view(
    list=extend_schema(
        summary="Model versions",
        description="Published and retired versions for everyone signed in; drafts too for admins.",
        responses={200: ModelVersionSerializer(many=True), **error_responses(*LIST_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="One model version with its content",
        responses={200: ModelVersionSerializer, **error_responses(*READ_ERRORS)},
    ),
)
class ModelVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Versions by number. Reads need no capability (drafts are hidden from non-admins by the
    queryset); every write needs ``model.edit``."""

    queryset = ModelVersion.objects.none()  # the model, for the schema; reads use get_queryset
    serializer_class = ModelVersionSerializer
    permission_classes = [*viewsets.GenericViewSet.permission_classes, CapabilityRequired]
    capability = Capability.EDIT_MODEL
    action_capabilities = {"list": None, "retrieve": None}
    pagination_class = ApiPagination
    filterset_class = VersionFilter
    ordering_fields = ["number", "created_at", "published_at"]
    ordering = ["-number"]
    lookup_field = "number"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        versions = ModelVersion.objects.select_related("based_on")
        if not has_capability(self.request.user, Capability.EDIT_MODEL):
            versions = versions.exclude(status=ModelVersion.Status.DRAFT)
        return versions

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_content": self.action != "list"}

    def _draft(self) -> ModelVersion:
        version = self.get_object()
        if not version.is_draft:
            raise PublishedVersionImmutable()
        return version

    def _answer(self, version: ModelVersion, code=status.HTTP_200_OK) -> Response:
        version = self.get_queryset().get(pk=version.pk)
        return Response(self.get_serializer(version).data, status=code)

    @extend_schema(
        summary="Change a draft's names and thresholds (admin)",
        request=VersionSettingsSerializer,
        responses={200: ModelVersionSerializer, **error_responses(*WRITE_ERRORS)},
    )
    def partial_update(self, request, number=None):
        version = self._draft()
        body = VersionSettingsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        current = {name: getattr(version, name) for name in services.VERSION_SETTINGS}
        form = VersionSettingsForm(
            data={**current, **body.validated_data},
            instance=ModelVersion(pk=version.pk, status=version.status),
            category_count=Category.objects.filter(version=version).count(),
        )
        if not form.is_valid():
            raise _form_errors(form)
        values = {name: form.cleaned_data[name] for name in services.VERSION_SETTINGS}
        return self._answer(services.update_version_settings(version=version, values=values))

    @extend_schema(
        summary="Create a draft from this version (admin)",
        description="The new draft copies everything this version owns; this version never "
        "changes.",
        request=None,
        responses={201: ModelVersionSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="new-draft")
    def new_draft(self, request, number=None):
        draft = services.create_draft_from(source=self.get_object(), by=request.user)
        return self._answer(draft, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Publish a draft (admin)",
        description="A complete draft becomes published and immutable; an incomplete one answers "
        "400 with the problems in `fields.model`.",
        request=NoteSerializer,
        responses={200: ModelVersionSerializer, **error_responses(*WRITE_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, number=None):
        version = self.get_object()
        note = _note(request)
        return self._answer(services.publish_version(version=version, by=request.user, note=note))

    @extend_schema(
        summary="Retire a published version (admin)",
        description="Hidden from new cycles; cycles that use it keep it.",
        request=NoteSerializer,
        responses={200: ModelVersionSerializer, **error_responses(*WRITE_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def retire(self, request, number=None):
        version = self.get_object()
        note = _note(request)
        return self._answer(services.retire_version(version=version, by=request.user, note=note))

    @extend_schema(
        summary="Edit a draft's category (admin)",
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, pattern=CODE_PATTERN)],
        request=CategoryEditSerializer,
        responses={200: CategorySerializer, **error_responses(*WRITE_ERRORS)},
    )
    @action(detail=True, methods=["patch"], url_path=f"categories/(?P<code>{CODE_PATTERN})")
    def category(self, request, number=None, code=None):
        version = self._draft()
        category = get_object_or_404(Category, version=version, code=code)
        body = CategoryEditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        form = CategoryForm(
            data=self._category_form_data(category, body.validated_data), version=version
        )
        if not form.is_valid():
            raise _form_errors(form)
        services.update_category(category=category, values=form.values(), levels=form.levels())
        return Response(CategorySerializer(self._category_data(category)).data)

    @staticmethod
    def _category_form_data(category: Category, given: dict) -> dict:
        data = {
            name: given.get(name, getattr(category, name))
            for name in ("name_zh", "name_en", "description_zh", "description_en")
        }
        stored = {d.level: d for d in category.level_descriptions.all()}
        for level in LEVEL_VALUES:
            texts = given.get("levels", {}).get(str(level), {})
            for lang in ("zh", "en"):
                old = getattr(stored[level], f"text_{lang}") if level in stored else ""
                data[f"level_{level}_{lang}"] = texts.get(f"text_{lang}", old)
        return data

    @staticmethod
    def _category_data(category: Category) -> dict:
        category = Category.objects.get(pk=category.pk)
        return _category(category, category.level_descriptions.order_by("level"))

    @extend_schema(
        summary="Edit a draft's grade profile and targets (admin)",
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, pattern=CODE_PATTERN)],
        request=GradeEditSerializer,
        responses={200: GradeSerializer, **error_responses(*WRITE_ERRORS)},
    )
    @action(detail=True, methods=["patch"], url_path=f"grades/(?P<code>{CODE_PATTERN})")
    def grade(self, request, number=None, code=None):
        version = self._draft()
        grade = get_object_or_404(Grade, version=version, code=code)
        body = GradeEditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        given = body.validated_data
        categories = dict(Category.objects.filter(version=version).values_list("code", "pk"))
        unknown = sorted(set(given.get("targets", {})) - set(categories))
        if unknown:
            raise serializers.ValidationError(
                {"targets": [_("未知的能力类别：%(code)s") % {"code": ", ".join(unknown)}]}
            )
        profile = {
            name: given.get(name, getattr(grade, name)) for name in services.GRADE_PROFILE_FIELDS
        }
        self._check_profile(profile, len(categories))
        services.save_target_profiles(
            version=version,
            targets={(grade.pk, categories[c]): lv for c, lv in given.get("targets", {}).items()},
            profiles={grade.pk: profile},
        )
        return Response(GradeSerializer(self._grade_data(grade)).data)

    @staticmethod
    def _check_profile(profile: dict, category_count: int):
        count, level = profile["breadth_count"], profile["breadth_level"]
        if (count is None) != (level is None):
            raise serializers.ValidationError(
                {"breadth_count": [_("广度要求需同时填写类别数和等级，或都不填。")]}
            )
        if count is not None and count > max(category_count, 1):
            raise serializers.ValidationError(
                {
                    "breadth_count": [
                        _("广度达标类别数应在 1 到类别总数 %(n)s 之间。") % {"n": category_count}
                    ]
                }
            )

    @staticmethod
    def _grade_data(grade: Grade) -> dict:
        grade = Grade.objects.get(pk=grade.pk)
        targets = GradeTarget.objects.filter(grade=grade).select_related("category")
        return {
            **_pick(grade, *GRADE_FIELDS),
            "targets": {t.category.code: t.min_level for t in targets},
        }


def _note(request) -> str:
    """The optional note of a publish or retire request (400 on an invalid body)."""
    body = NoteSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data.get("note", "")
