"""Calibration: fair final levels across supervisors (HR and heads; see ``views``)."""

from django.urls import path

from . import views

app_name = "calibration"

urlpatterns = [
    path("", views.session_list, name="session-list"),
    path("new/", views.session_create, name="session-create"),
    path("<int:pk>/", views.session_detail, name="session-detail"),
    path("<int:pk>/history/", views.session_history, name="session-history"),
    path("<int:pk>/guide/", views.session_guide, name="session-guide"),
    path("<int:pk>/close/", views.session_close, name="session-close"),
    path("<int:pk>/reopen/", views.session_reopen, name="session-reopen"),
    path("<int:pk>/export/", views.session_export, name="session-export"),
    path(
        "<int:pk>/assessments/<int:assessment_pk>/",
        views.assessment_detail,
        name="assessment-detail",
    ),
    path(
        "<int:pk>/assessments/<int:assessment_pk>/adjust/",
        views.assessment_adjust,
        name="assessment-adjust",
    ),
]
