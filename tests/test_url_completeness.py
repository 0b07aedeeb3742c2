"""Every URL pattern of the site is in exactly one authorization matrix.

The resolver is walked recursively (``site_endpoints``); each pattern is keyed ``namespace:name``
(nested namespaces joined: ``v1:cycle-list``; top-level names bare: ``home``) or, when it has no
name, ``/`` plus its full route (``/api/``). An unnamed pattern is a failure unless
``DELIBERATELY_UNNAMED`` says why it has no name; Django's admin brings unnamed patterns of its
own, which its generated matrix (below) covers by route.

The plug-in contract of a matrix module — all a module must do to count:

* its file is ``tests/test_<area>_access.py`` (found by that name; nothing to register here);
* it exposes ``COVERED: frozenset[str]``, the keys above, derived from its ``MATRIX``
  (``COVERED = frozenset(f"accounts:{row[0]}" for row in MATRIX)``), and tests every row for
  every persona, anonymous included.

``tests/test_public_pages.py`` (the top-level pages and what anonymous visitors may reach) and
this module (the Django admin) are matrix modules by name.

The Django admin gets one generated matrix over all its patterns rather than hand-written rows:
nobody in our roles is staff, so every persona — anonymous and all seven roles — is sent to the
admin's sign-in page from every admin URL, GET or POST, and changes nothing; only a superuser
gets in. The pattern list grows by itself with every ``admin.register``, which hand-written rows
would miss.
"""

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.authtoken.models import Token

from accounts.models import OrgImport, OrgUnit

from .access import ROLES
from .factories import OrgUnitFactory, UserFactory

TESTS = Path(__file__).resolve().parent

# Matrix modules found by something other than the ``test_*_access.py`` name.
NAMED_MATRIX_MODULES = ["test_public_pages", "test_url_completeness"]

DELIBERATELY_UNNAMED = {
    # Anything else under /api/ answers the API's JSON 404; it is never linked or reversed.
    "/api/": "config.api.not_found",
}


# --- the walk -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern: its key, its full route (as ``ResolverMatch.route`` spells it)."""

    key: str
    route: str
    namespace: str
    name: str | None


def _join(route: str, part: str) -> str:
    # The same joining as django.urls.URLResolver._join_route, so routes compare with resolve().
    return part if not route else route + part.removeprefix("^")


def site_endpoints(patterns=None, route: str = "", namespaces: tuple = ()) -> list[Endpoint]:
    """Every URL pattern under ``patterns`` (the whole site by default), includes followed."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        full = _join(route, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            found += site_endpoints(pattern.url_patterns, full, inner)
        elif isinstance(pattern, URLPattern):
            namespace = ":".join(namespaces)
            key = ":".join((*namespaces, pattern.name)) if pattern.name else f"/{full}"
            found.append(Endpoint(key, full, namespace, pattern.name))
    return found


CONVERTER_SAMPLES = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000000"}


def _group_sample(body: str) -> str:
    """A value for a regex group: its first literal alternative, a digit, or a word."""
    if re.fullmatch(r"[\w|-]+", body):
        return body.split("|")[0]
    return "1" if "0-9" in body or r"\d" in body else "x"


def sample_path(endpoint: Endpoint, values: dict | None = None) -> str:
    """A path that resolves to ``endpoint``, arguments from ``values`` or generic samples."""
    values = values or {}
    path = re.sub(
        r"\(\?P<(\w+)>([^)]*)\)",
        lambda m: str(values.get(m[1], _group_sample(m[2]))),
        endpoint.route,
    )
    path = re.sub(
        r"<(?:(\w+):)?(\w+)>",
        lambda m: str(values.get(m[2], CONVERTER_SAMPLES.get(m[1] or "str", "x"))),
        path,
    )
    path = "/" + path.replace("^", "").replace("$", "").replace("\\", "")
    match = resolve(path)
    assert match.route == endpoint.route, f"no sample path for {endpoint.key}: {path}"
    return path


# --- the completeness test --------------------------------------------------------------------------


def matrix_modules() -> dict[str, ModuleType]:
    stems = sorted(p.stem for p in TESTS.glob("test_*_access.py")) + NAMED_MATRIX_MODULES
    return {stem: importlib.import_module(f"{__package__}.{stem}") for stem in stems}


def coverage() -> tuple[dict[str, list[str]], list[str]]:
    """Which modules cover each key, and the matrix modules that expose no ``COVERED``."""
    covered: dict[str, list[str]] = {}
    without = []
    for stem, module in matrix_modules().items():
        if not isinstance(getattr(module, "COVERED", None), frozenset | set):
            without.append(stem)
            continue
        for key in module.COVERED:
            covered.setdefault(key, []).append(stem)
    return covered, without


def _listed(title: str, lines: list[str]) -> str:
    return f"{title}:\n  " + "\n  ".join(lines) if lines else ""


def test_every_url_is_in_exactly_one_matrix():
    routes = {e.key: e.route for e in site_endpoints()}
    covered, without = coverage()
    missing = [f"{key}  ({routes[key]})" for key in sorted(routes.keys() - covered.keys())]
    twice = [
        f"{key}: {', '.join(stems)}" for key, stems in sorted(covered.items()) if len(stems) > 1
    ]
    stale = sorted(covered.keys() - routes.keys())
    problems = [
        _listed("URL patterns in no matrix (add rows to the module of their namespace)", missing),
        _listed("URL patterns in more than one matrix", twice),
        _listed("Matrix rows for URL names that no longer exist", stale),
        _listed("Matrix modules without a COVERED set", without),
    ]
    assert not any(problems), "\n".join(p for p in problems if p)


def test_every_url_has_a_name_or_a_reason():
    unnamed = [
        f"{e.key}  ({e.route})"
        for e in site_endpoints()
        if e.name is None and e.namespace != "admin" and e.key not in DELIBERATELY_UNNAMED
    ]
    stale = sorted(DELIBERATELY_UNNAMED.keys() - {e.key for e in site_endpoints()})
    assert not unnamed, _listed("URL patterns without a name", unnamed)
    assert not stale, _listed("DELIBERATELY_UNNAMED lists patterns that no longer exist", stale)


def test_no_two_url_patterns_share_a_name():
    """A second pattern under a name already taken is never reversed, so no matrix reaches it."""
    keys = [e.key for e in site_endpoints()]
    assert not sorted({k for k in keys if keys.count(k) > 1})


def test_a_pattern_missing_from_every_matrix_is_named_in_the_failure(monkeypatch):
    """The completeness test itself can fail, and says which pattern is missing."""
    module = matrix_modules()["test_account_access"]
    monkeypatch.setattr(module, "COVERED", module.COVERED - {"accounts:people-list"})
    with pytest.raises(AssertionError, match=r"accounts:people-list  \(accounts/people/\)"):
        test_every_url_is_in_exactly_one_matrix()


# --- the Django admin: one generated matrix --------------------------------------------------------

ADMIN = [e for e in site_endpoints() if e.namespace == "admin"]
COVERED = frozenset(e.key for e in ADMIN)
SIGN_IN, INDEX, REACHED = "sign-in", "index", "reached"


def admin_expected(endpoint: Endpoint, role: str):
    """Non-staff personas never get past the admin's sign-in; a superuser reaches every view."""
    if role == "superuser":
        return 200 if endpoint.name and endpoint.name.endswith("_changelist") else REACHED
    if endpoint.key == "admin:login":
        return 200  # the sign-in form itself (with its errors after a POST)
    return INDEX if endpoint.key == "admin:logout" else SIGN_IN


def admin_path(endpoint: Endpoint, world: dict) -> str:
    return sample_path(endpoint, world["ids"].get(_family(endpoint), {}))


def _family(endpoint: Endpoint) -> str:
    """``accounts/user`` for the URLs of one ModelAdmin, '' for site-wide admin URLs."""
    parts = endpoint.route.split("/")
    return "/".join(parts[1:3]) if len(parts) > 3 and parts[1] in _APP_LABELS else ""


_APP_LABELS = {model._meta.app_label for model in admin.site._registry}


@pytest.fixture
def admin_world(personas, model_version, org):
    """A row of every model the admin manages (so object URLs name real rows), and a superuser."""
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    Token.objects.get_or_create(user=personas["manager"])
    OrgImport.objects.create(
        file_name="org.csv", content=b"", status=OrgImport.Status.FAILED, uploaded_by=personas["hr"]
    )
    ids = {}
    for model in admin.site._registry:
        first = model._default_manager.order_by("pk").first()
        family = f"{model._meta.app_label}/{model._meta.model_name}"
        ids[family] = {"object_id": first.pk if first else 0, "id": first.pk if first else 0}
    return {"personas": personas | {"superuser": superuser}, "ids": ids}


def signed_in(client, world, role):
    """The test client as ``role`` (signed in once: no admin URL signs a non-staff user out)."""
    if role != "anonymous":
        client.force_login(world["personas"][role])
    return client


def admin_request(client, world, endpoint, method, data=None):
    path = admin_path(endpoint, world)
    return client.get(path) if method == "get" else client.post(path, data or {})


def admin_outcome(response):
    """The status, or what a redirect means: the admin's sign-in, its index, anything else."""
    if response.status_code != 302:
        return response.status_code
    target = response["Location"].split("?")[0]
    return {reverse("admin:login"): SIGN_IN, reverse("admin:index"): INDEX}.get(target, 302)


def _matches(outcome, expected) -> bool:
    if expected == REACHED:  # past the sign-in: a page, a redirect inside the admin, or a 4xx
        return outcome in {INDEX, 302} or (outcome != SIGN_IN and outcome < 500)
    return outcome == expected


@pytest.mark.parametrize("role", [*ROLES, "superuser"])
def test_admin_matrix(client, admin_world, role):
    client = signed_in(client, admin_world, role)
    failures = []
    methods = ["get"] if role == "superuser" else ["get", "post"]
    for endpoint in ADMIN:
        for method in methods:
            expected = admin_expected(endpoint, role)
            outcome = admin_outcome(admin_request(client, admin_world, endpoint, method))
            if not _matches(outcome, expected):
                failures.append(
                    f"{method.upper()} {endpoint.key} as {role}: {outcome} != {expected}"
                )
    assert not failures, "\n".join(failures)


# Rows that record the attempt itself: sign-ins (django-axes) and refused requests (the audit
# log). A denied write adds to them by design; everything else must stay as it was.
ATTEMPT_RECORDS = {"axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}
ATTEMPT_RECORDS |= {"accounts.AuditEvent"}


def admin_snapshot() -> list:
    """Every row (and many-to-many link) of every model the admin manages, sign-in time aside."""
    state = []
    for model in admin.site._registry:
        if model._meta.label in ATTEMPT_RECORDS:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.name != "last_login"]
        state.append(sorted(model._default_manager.values_list(*fields), key=repr))
        state += [f.remote_field.through.objects.count() for f in model._meta.many_to_many]
    return state


def _model_of(endpoint: Endpoint):
    families = {f"{m._meta.app_label}/{m._meta.model_name}": m for m in admin.site._registry}
    return families.get(_family(endpoint))


def destructive_data(endpoint: Endpoint) -> dict:
    """What a confirmed delete, a bulk delete of every row and an edit would post."""
    model = _model_of(endpoint)
    selected = list(model._default_manager.values_list("pk", flat=True)) if model else []
    return {
        "post": "yes",
        "action": "delete_selected",
        "_selected_action": selected,
        "username": "intruder",
        "name_zh": "已篡改",
        "password1": "Intruder-2026!",
        "password2": "Intruder-2026!",
    }


@pytest.mark.parametrize("role", ROLES)
def test_denied_admin_writes_change_nothing(client, admin_world, role):
    client = signed_in(client, admin_world, role)
    before = admin_snapshot()
    for endpoint in ADMIN:
        admin_request(client, admin_world, endpoint, "post", destructive_data(endpoint))
    assert admin_snapshot() == before


def test_the_same_admin_posts_as_a_superuser_do_delete(client, admin_world):
    """The positive control for the test above: the posted data is a working delete."""
    spare = OrgUnitFactory(code="SPARE")
    group = Group.objects.create(name="spare")
    client = signed_in(client, admin_world, "superuser")
    for name, pk in [
        ("admin:accounts_orgunit_delete", spare.pk),
        ("admin:auth_group_changelist", group.pk),
    ]:
        endpoint = next(e for e in ADMIN if e.key == name)
        data = destructive_data(endpoint) | {"_selected_action": [pk]}
        path = sample_path(endpoint, {"object_id": pk})
        assert client.post(path, data).status_code == 302
    assert not OrgUnit.objects.filter(pk=spare.pk).exists()
    assert not Group.objects.filter(pk=group.pk).exists()


def test_every_model_admin_has_its_urls_in_the_admin_matrix():
    families = {_family(e) for e in ADMIN} - {""}
    registered = {f"{m._meta.app_label}/{m._meta.model_name}" for m in admin.site._registry}
    assert families == registered
