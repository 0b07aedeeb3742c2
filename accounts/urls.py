from django.urls import path

from . import audit_views, views

app_name = "accounts"

urlpatterns = [
    path("people/", views.people_list, name="people-list"),
    path("language/", views.set_language, name="set-language"),
    path("org/import/", views.org_import, name="org-import"),
    path("org/import/<int:pk>/", views.org_import_detail, name="org-import-detail"),
    path("audit/", audit_views.audit_log, name="audit-log"),
    path("audit/export/", audit_views.audit_export, name="audit-export"),
    path("people/<int:pk>/data/", audit_views.person_data, name="person-data"),
    path(
        "people/<int:pk>/data/export/",
        audit_views.person_data_export,
        name="person-data-export",
    ),
    path("people/<int:pk>/deactivate/", audit_views.person_deactivate, name="person-deactivate"),
    path("people/<int:pk>/erase/", audit_views.person_erase, name="person-erase"),
]
