from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("people/", views.people_list, name="people-list"),
    path("language/", views.set_language, name="set-language"),
    path("org/import/", views.org_import, name="org-import"),
    path("org/import/<int:pk>/", views.org_import_detail, name="org-import-detail"),
]
