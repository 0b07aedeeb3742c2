"""Raw-data admin for people, units and import records."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import OrgImport, OrgUnit, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "employee_no", "org_unit", "job_grade", "is_active"]
    list_filter = ["is_active", "groups", "job_grade"]
    search_fields = ["username", "display_name", "employee_no", "email"]
    list_select_related = ["org_unit"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("T-Shape"),
            {
                "fields": [
                    "display_name",
                    "employee_no",
                    "phone",
                    "preferred_language",
                    "job_grade",
                    "org_unit",
                ]
            },
        ),
    )
    raw_id_fields = ["org_unit"]


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "kind", "parent", "depth"]
    list_filter = ["kind", "depth"]
    search_fields = ["code", "name_zh", "name_en"]
    filter_horizontal = ["heads"]
    raw_id_fields = ["parent"]


@admin.register(OrgImport)
class OrgImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "status", "uploaded_by", "uploaded_at", "applied_at", "applied_by"]
    list_select_related = ["uploaded_by", "applied_by"]
    exclude = ["content"]
    readonly_fields = [
        "file_name",
        "status",
        "summary",
        "uploaded_by",
        "uploaded_at",
        "applied_at",
        "applied_by",
    ]

    def get_queryset(self, request):
        # The stored file can be megabytes; the list and detail never show it.
        return super().get_queryset(request).defer("content")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
