"""The learning-resource catalogue in the Django admin (the admin role edits it)."""

from django.contrib import admin

from ..models import LearningResource


@admin.register(LearningResource)
class LearningResourceAdmin(admin.ModelAdmin):
    list_display = (
        "category_code",
        "target_level",
        "title_zh",
        "title_en",
        "language",
        "course_code",
        "is_active",
    )
    list_filter = ("category_code", "target_level", "language", "is_active")
    search_fields = ("title_zh", "title_en", "course_code", "url")
    ordering = ("category_code", "target_level", "title_zh")
