"""The REST API: /api/v1/… (versioned by namespace), the OpenAPI schema and its docs."""

from django.urls import include, path

v1_patterns: list = []

urlpatterns = [
    path("v1/", include((v1_patterns, "api"), namespace="v1")),
]
