from django.urls import path, re_path

from .views import editor, imports, versions

app_name = "competency"

urlpatterns = [
    path("", versions.version_list, name="version-list"),
    path("v<int:number>/", versions.version_detail, name="version-detail"),
    re_path(
        r"^v(?P<number>[0-9]+)/export\.(?P<fmt>json|xlsx)$",
        versions.version_export,
        name="version-export",
    ),
    path("v<int:number>/new-draft/", versions.version_new_draft, name="version-new-draft"),
    path("v<int:number>/publish/", versions.version_publish, name="version-publish"),
    path("v<int:number>/retire/", versions.version_retire, name="version-retire"),
    # The editor (drafts only).
    path("v<int:number>/edit/", editor.version_edit, name="version-edit"),
    path("v<int:number>/edit/domains/", editor.domain_edit, name="domain-edit"),
    path("v<int:number>/edit/categories/", editor.category_list, name="category-list"),
    path("v<int:number>/edit/categories/add/", editor.category_add, name="category-add"),
    path("v<int:number>/edit/categories/<int:pk>/", editor.category_edit, name="category-edit"),
    path("v<int:number>/edit/levels/", editor.level_edit, name="level-edit"),
    path("v<int:number>/edit/industries/", editor.industry_edit, name="industry-edit"),
    path("v<int:number>/edit/grades/", editor.grade_edit, name="grade-edit"),
    path("v<int:number>/edit/targets/", editor.target_edit, name="target-edit"),
    # Model files.
    path("import/", imports.import_upload, name="import-upload"),
    path("import/<int:pk>/", imports.import_detail, name="import-detail"),
]
