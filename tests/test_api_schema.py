"""The OpenAPI schema is complete (every endpoint, parameter and error answer) and valid; the
docs page is served from our own static files with no inline script (strict CSP)."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import get_resolver

from .test_api_support import client_for

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def schema(api_settings, personas):
    response = client_for(personas["manager"]).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def v1_routes() -> set:
    """Every v1 URL pattern as an OpenAPI path template (``{id}`` for ``(?P<id>…)``)."""
    routes = set()
    for pattern in get_resolver().url_patterns:
        for inner in getattr(pattern, "url_patterns", []):
            if getattr(inner, "namespace", None) != "v1":
                continue
            for p in inner.url_patterns:
                route = str(p.pattern).lstrip("^").rstrip("$")
                route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route).replace("{pk}", "{id}")
                routes.add(f"/api/v1/{route}")
    return routes


def test_schema_is_openapi_3_and_lists_every_v1_route(schema):
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == v1_routes()


def test_every_operation_documents_its_errors(schema):
    problems = []
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"401"}
        if "{" in path:
            expected.add("404")
        if method in {"post", "put", "patch"} and operation.get("requestBody"):
            expected.add("400")
        for status in sorted(expected - set(responses)):
            problems.append(f"{method.upper()} {path}: no {status}")
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                if ref != ERROR_REF:
                    problems.append(f"{method.upper()} {path} {status}: {ref}")
        if not operation.get("summary"):
            problems.append(f"{method.upper()} {path}: no summary")
    assert not problems, "\n".join(problems)


def test_every_list_documents_paging_ordering_and_filters(schema):
    for path, method, operation in operations(schema):
        if method != "get" or "{" in path:
            continue
        names = {p["name"] for p in operation.get("parameters", [])}
        assert {"page", "page_size", "ordering"} <= names, path
        assert len(names - {"page", "page_size", "ordering"}) >= 1, path
        described = [p for p in operation["parameters"] if not p.get("description")]
        assert not described, (path, described)


def test_role_protected_operations_document_403(schema):
    for path, method, operation in operations(schema):
        if path.startswith(("/api/v1/cycles", "/api/v1/auth/tokens")) or (
            path.startswith("/api/v1/model/") and method != "get"
        ):
            assert "403" in operation["responses"], (method, path)


def test_request_bodies_refuse_unknown_fields(schema):
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request") and component.get("type") == "object":
            assert component.get("additionalProperties") is False, name


def test_schema_validates_without_warnings(api_settings, tmp_path, monkeypatch):
    """What ``manage.py spectacular --validate --fail-on-warn`` checks, with the API's settings.

    DRF copies ``DEFAULT_VERSION`` into the versioning class when it is imported, so the
    settings fixture alone cannot reach it: the class attribute is set as the setting would.
    """
    from rest_framework.versioning import NamespaceVersioning

    monkeypatch.setattr(NamespaceVersioning, "default_version", "v1")
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    document = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert set(document["paths"]) == v1_routes()


def test_yaml_is_the_default_schema_format(api_settings, personas):
    response = client_for(personas["hr"]).get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["info"]["title"] == "T-Shape API"


def test_docs_page_uses_our_static_files_and_no_inline_script(api_settings, personas):
    client = client_for(personas["manager"])
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert not re.search(r"https?://(?!testserver)", html.split("</head>")[0] + html)
    inline = [s for s in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S) if s[1].strip()]
    assert not inline
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
    assert "/api/schema/" in script.content.decode()
    bundle = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', html).group(1)
    assert client.get(bundle).status_code == 200
