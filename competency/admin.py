"""Raw-data admin for the model: everything editable with inlines while a version is a draft."""

from django.contrib import admin

from .models import (
    Category,
    DepthLevel,
    Domain,
    Grade,
    GradeTarget,
    Industry,
    LevelDescription,
    ModelVersion,
    ModelVersionEvent,
    ProficiencyLevel,
)


def _version_of(obj):
    return obj if isinstance(obj, ModelVersion) else getattr(obj, "version", None)


class DraftOnlyMixin:
    """Published and retired versions (and all they own) are read-only in the admin."""

    def _is_frozen(self, obj):
        version = _version_of(obj)
        return version is not None and not version.is_draft

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._is_frozen(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._is_frozen(obj)

    def has_add_permission(self, request, obj=None):
        allowed = super().has_add_permission(request, *([obj] if self._takes_parent else []))
        return allowed and not self._is_frozen(obj)

    _takes_parent = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # New parts can only be attached to drafts, so the forms offer nothing else.
        related = db_field.related_model
        if related is ModelVersion:
            kwargs.setdefault(
                "queryset", ModelVersion.objects.filter(status=ModelVersion.Status.DRAFT)
            )
        elif related in (Domain, Category, Grade):
            kwargs.setdefault(
                "queryset", related.objects.filter(version__status=ModelVersion.Status.DRAFT)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DraftOnlyInline(DraftOnlyMixin, admin.TabularInline):
    extra = 0


class ProficiencyLevelInline(DraftOnlyInline):
    model = ProficiencyLevel


class DepthLevelInline(DraftOnlyInline):
    model = DepthLevel


class DomainInline(DraftOnlyInline):
    model = Domain


class IndustryInline(DraftOnlyInline):
    model = Industry


class GradeInline(DraftOnlyInline):
    model = Grade
    show_change_link = True


class EventInline(admin.TabularInline):
    model = ModelVersionEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "actor", "at", "note"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "name_zh", "name_en", "status", "published_at"]
    list_filter = ["status"]
    readonly_fields = ["number", "status", "based_on", "created_at", "published_at"]
    inlines = [
        ProficiencyLevelInline,
        DepthLevelInline,
        DomainInline,
        IndustryInline,
        GradeInline,
        EventInline,
    ]
    _takes_parent = False

    def has_add_permission(self, request):
        # New versions come from "new draft from version X" or an import, never from a blank form.
        return False


class LevelDescriptionInline(DraftOnlyInline):
    model = LevelDescription
    fields = ["level", "text_zh", "text_en"]


@admin.register(Category)
class CategoryAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "domain", "version"]
    list_filter = ["version"]
    inlines = [LevelDescriptionInline]
    _takes_parent = False


class GradeTargetInline(DraftOnlyInline):
    model = GradeTarget
    fields = ["category", "min_level"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        grade_id = request.resolver_match.kwargs.get("object_id")
        if db_field.name == "category" and grade_id:
            kwargs["queryset"] = Category.objects.filter(version__grades__pk=grade_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Grade)
class GradeAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "required_depth", "version"]
    list_filter = ["version"]
    inlines = [GradeTargetInline]
    _takes_parent = False


@admin.register(Domain)
class DomainAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "version"]
    list_filter = ["version"]
    _takes_parent = False


@admin.register(ModelVersionEvent)
class ModelVersionEventAdmin(admin.ModelAdmin):
    list_display = ["version", "action", "actor", "at", "note"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
