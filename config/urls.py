"""Top-level URLs: pages per app, the admin, sign-in, health."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", account_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("model/", include("competency.urls")),
    path("assessments/", include("assessments.urls")),
    path("certification/", include("assessments.certification.urls")),
    path("profile/", include("assessments.profiles.urls")),
    path("reports/", include("assessments.gap_reports.urls")),
    path("calibration/", include("assessments.calibration.urls")),
    path("api/", include("config.api_urls")),
    path("admin/", admin.site.urls),
]
