"""Team gap reports (mounted at /reports/)."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.run_list, name="run-list"),
    path("start/", views.run_start, name="run-start"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/progress.json", views.run_progress, name="run-progress"),
    path("runs/<int:pk>/resume/", views.run_resume, name="run-resume"),
    path("runs/<int:pk>/units/<int:unit_id>/", views.unit_report, name="unit"),
    path(
        "runs/<int:pk>/units/<int:unit_id>/export/<slug:fmt>/",
        views.export_create,
        name="export-create",
    ),
    path("exports/<int:pk>/", views.export_detail, name="export-detail"),
    path("exports/<int:pk>/status.json", views.export_status, name="export-status"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
]
