"""The top-level URLs (sign-in, health, the API's schema and docs) and what anonymous visitors
may reach anywhere on the site.

``MATRIX`` covers the URLs outside every app namespace. ``PUBLIC`` lists, with the reason, every
URL an anonymous visitor may use (a 2xx or a redirect other than to a sign-in page); each has a
test here that it leaks nothing. Every other URL of the site — walked from the resolver, so also
URLs added later — refuses anonymous visitors: a redirect to a sign-in page, 401, 403, 404 or
405, for GET and POST alike (``test_anonymous_visitors_reach_only_public_pages``). That sweep
uses placeholder arguments; whether objects in and out of scope are refused is each matrix's job.
"""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config import health

from .factories import UserFactory
from .test_certification_fixtures import certified, complete_with, mine
from .test_url_completeness import ROLES, sample_path, site_endpoints

pytestmark = pytest.mark.django_db

# Every URL anonymous visitors may use, and why; each has a leak test in LEAK_CHECKS below.
PUBLIC = {
    "login": "the sign-in form",
    "logout": "signing out (POST) needs no valid session",
    "healthz": "load balancers and probes call it without a session, by IP",
    "accounts:set-language": "the language switch on every page, also before signing in",
    "certification:certificate-lookup": "a verifier types a certificate number",
    "certification:certificate-verify": "a verifier checks a certificate by its unguessable number",
    "v1:auth-token": "integrations exchange a username and password for an API token",
    "admin:login": "the Django admin's own sign-in form",
}


def only(allowed: dict, default) -> dict:
    return {r: allowed.get(r, default) for r in ROLES if r != "anonymous"} | allowed


SIGNED_IN_200 = only({"anonymous": 401}, 200)

# (url key, method, expected status per role)
MATRIX = [
    ("login", "get", only({"anonymous": 200}, 302)),  # signed in: sent on to the home page
    ("login", "post", only({"anonymous": 200}, 302)),  # a wrong password: the form again
    ("logout", "get", dict.fromkeys(ROLES, 405)),
    ("logout", "post", dict.fromkeys(ROLES, 302)),
    ("healthz", "get", dict.fromkeys(ROLES, 200)),
    ("healthz", "post", dict.fromkeys(ROLES, 405)),
    ("api-schema", "get", SIGNED_IN_200),
    ("api-docs", "get", SIGNED_IN_200),
    ("/api/", "get", dict.fromkeys(ROLES, 404)),  # the API's JSON 404 for unknown paths
]
COVERED = frozenset(row[0] for row in MATRIX)
PATHS = {"healthz": "/healthz?checks=database,migrations", "/api/": "/api/no/such/resource/"}


def request(client, personas, role, key, method):
    if role != "anonymous":
        client.force_login(personas[role])
    path = PATHS.get(key) or reverse(key)
    data = {"username": "nobody", "password": "wrong"} if key == "login" else {}
    response = client.get(path) if method == "get" else client.post(path, data)
    client.logout()
    return response


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, personas, role):
    failures = []
    for key, method, expected in MATRIX:
        response = request(client, personas, role, key, method)
        if response.status_code != expected[role]:
            failures.append(
                f"{method.upper()} {key} as {role}: {response.status_code} != {expected[role]}"
            )
    assert not failures, "\n".join(failures)


def test_unknown_api_paths_answer_the_api_error_shape(client, personas):
    client.force_login(personas["hr"])
    body = client.get("/api/no/such/resource/").json()
    assert set(body) == {"error"} and body["error"]["code"] == "not_found"


def test_the_schema_is_for_signed_in_users_only(client, personas):
    assert client.get(reverse("api-schema")).status_code == 401
    client.force_login(personas["manager"])
    assert b"/api/v1/assessments/" in client.get(reverse("api-schema")).content


# --- anonymous visitors reach only the public URLs ------------------------------------------------


def _refusal(response) -> bool:
    """A refusal: 401/403/404/405, or a redirect to one of the sign-in pages."""
    if response.status_code in {401, 403, 404, 405}:
        return True
    if response.status_code != 302:
        return False
    target = response["Location"].split("?")[0]
    # The admin sends an anonymous sign-out to its index, which sends on to its sign-in.
    return target in {reverse("login"), reverse("admin:login"), reverse("admin:index")}


def test_anonymous_visitors_reach_only_public_pages(client, personas, model_version):
    failures = []
    for endpoint in site_endpoints():
        if endpoint.key in PUBLIC:
            continue
        path = sample_path(endpoint)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            if not _refusal(response):
                failures.append(f"{method.upper()} {endpoint.key} {path}: {response.status_code}")
    assert not failures, "Answered an anonymous visitor:\n  " + "\n  ".join(failures)


# --- each public URL leaks nothing ----------------------------------------------------------------


def private_details(personas) -> list[str]:
    """What identifies people and units beyond a name: none of it belongs on a public page."""
    values = [p.employee_no for p in personas.values()] + [p.email for p in personas.values()]
    return [*values, "甲队", "乙队", "甲市分公司", "Team A", "Team B"]


def _no_private_details(response, personas):
    page = response.content.decode()
    leaked = [value for value in private_details(personas) if value and value in page]
    assert not leaked, leaked


def _errors(response) -> list:
    return response.context["form"].errors.get("__all__")


def check_login(client, personas, request):
    page = client.get(reverse("login"))
    _no_private_details(page, personas)
    unknown = client.post(reverse("login"), {"username": "nobody", "password": "x"})
    wrong = client.post(reverse("login"), {"username": "manager", "password": "x"})
    assert _errors(unknown) == _errors(wrong) and _errors(wrong)  # no hint who exists


def check_logout(client, personas, request):
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert response.content == b""


def check_healthz(client, personas, request):
    settings = request.getfixturevalue("settings")
    settings.REDIS_URL = "redis://:s3cret-pass@127.0.0.1:1/0"  # nothing listens on port 1
    health.clear_cache()
    response = client.get("/healthz?checks=database,redis")
    health.clear_cache()
    body = response.json()
    assert response.status_code == 503 and body["checks"]["database"] == "ok"
    assert re.fullmatch(r"error: \w+", body["checks"]["redis"]), body
    assert (
        "s3cret" not in response.content.decode() and "127.0.0.1" not in response.content.decode()
    )


def check_set_language(client, personas, request):
    response = client.post(
        reverse("accounts:set-language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"  # no open redirect
    assert response.content == b""


def check_certificate_lookup(client, personas, request):
    certificate = request.getfixturevalue("certificate")
    page = client.get(reverse("certification:certificate-lookup"))
    assert certificate.holder_name not in page.content.decode()
    _no_private_details(page, personas)
    found = client.get(reverse("certification:certificate-lookup"), {"number": certificate.number})
    assert found.status_code == 302 and found.content == b""


def check_certificate_verify(client, personas, request):
    certificate = request.getfixturevalue("certificate")
    response = client.get(reverse("certification:certificate-verify", args=[certificate.number]))
    page = response.content.decode()
    assert response.status_code == 200 and certificate.holder_name in page
    assert certificate.number in page and certificate.grade.code in page
    _no_private_details(response, personas)
    assert "2026 年度评估" not in page and "noindex" in response["X-Robots-Tag"]
    assert "no-store" in response["Cache-Control"]
    unknown = client.get(reverse("certification:certificate-verify", args=["TS-2026-NOPE"]))
    assert unknown.status_code == 404 and certificate.holder_name not in unknown.content.decode()


def check_auth_token(client, personas, request):
    UserFactory(username="leaver", is_active=False)
    api = APIClient()
    answers = [
        api.post(reverse("v1:auth-token"), body, format="json")
        for body in (
            {"username": "nobody", "password": "x"},
            {"username": "manager", "password": "x"},
            {"username": "leaver", "password": "tshape-demo"},
        )
    ]
    assert {a.status_code for a in answers} == {400}
    assert answers[0].json() == answers[1].json() == answers[2].json()  # no hint who exists


def check_admin_login(client, personas, request):
    _no_private_details(client.get(reverse("admin:login")), personas)
    wrong = client.post(reverse("admin:login"), {"username": "manager", "password": "x"})
    right = client.post(reverse("admin:login"), {"username": "manager", "password": "tshape-demo"})
    assert _errors(wrong) == _errors(right) and _errors(right)  # a non-staff account gets nowhere
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


LEAK_CHECKS = {
    "login": check_login,
    "logout": check_logout,
    "healthz": check_healthz,
    "accounts:set-language": check_set_language,
    "certification:certificate-lookup": check_certificate_lookup,
    "certification:certificate-verify": check_certificate_verify,
    "v1:auth-token": check_auth_token,
    "admin:login": check_admin_login,
}


@pytest.fixture
def certificate(open_cycle, personas):
    manager = personas["manager"]
    complete_with(mine(open_cycle, manager), personas["supervisor"])
    return certified(open_cycle, manager, personas["supervisor"], personas["hr"])


@pytest.mark.parametrize("key", sorted(PUBLIC))
def test_a_public_url_leaks_nothing(client, personas, request, key):
    LEAK_CHECKS[key](client, personas, request)


def test_every_public_url_exists_and_has_a_leak_check():
    keys = {e.key for e in site_endpoints()}
    assert set(PUBLIC) <= keys, set(PUBLIC) - keys
    assert set(LEAK_CHECKS) == set(PUBLIC)
