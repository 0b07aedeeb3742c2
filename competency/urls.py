from django.urls import path, re_path

from . import views

app_name = "competency"

urlpatterns = [
    path("", views.version_list, name="version-list"),
    path("v<int:number>/", views.version_detail, name="version-detail"),
    re_path(
        r"^v(?P<number>[0-9]+)/export\.(?P<fmt>json|xlsx)$",
        views.version_export,
        name="version-export",
    ),
    path("v<int:number>/new-draft/", views.version_new_draft, name="version-new-draft"),
    path("v<int:number>/publish/", views.version_publish, name="version-publish"),
    path("v<int:number>/retire/", views.version_retire, name="version-retire"),
]
