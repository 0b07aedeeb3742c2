"""Who may open which account page: home and every ``accounts`` URL × every persona.

Everyone signed in has a home page; the people list is for the roles that see a team and shows
exactly the people (and offers exactly the units) of the user's scope; the organisation import
is HR's, 403 for everyone else (an import has no unit: HR's scope is the whole organisation);
the language switch is open to anyone, anonymous visitors included. Anonymous visitors are sent
to sign in everywhere else. Denied writes change nothing.
"""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import OrgImport, OrgUnit, User
from accounts.org_import import upload_org_file

from .access import ROLES, only

pytestmark = pytest.mark.django_db

EXAMPLE = (Path(__file__).resolve().parents[1] / "docs" / "examples" / "org.csv").read_bytes()


EVERYONE = only({}, 200)
TEAM_VIEWERS = only(
    dict.fromkeys(["supervisor", "city_head", "outsider_supervisor", "hr", "admin"], 200), 403
)
HR_ONLY = {"hr": 200}

# (url name, object, method, expected status per role); rows run in this order.
MATRIX = [
    ("home", None, "get", EVERYONE),
    ("people-list", None, "get", TEAM_VIEWERS),
    ("people-list", "unit_a", "get", TEAM_VIEWERS | {"outsider_supervisor": 404}),
    # A unit outside the user's scope is 404, like every out-of-scope object.
    ("people-list", "unit_b", "get", TEAM_VIEWERS | {"supervisor": 404, "city_head": 404}),
    ("set-language", None, "get", dict.fromkeys(ROLES, 405)),
    ("set-language", None, "post", dict.fromkeys(ROLES, 302)),
    ("org-import", None, "get", only(HR_ONLY, 403)),
    ("org-import-detail", "import", "get", only(HR_ONLY, 403)),
    ("org-import-detail", "missing", "get", only({"hr": 404}, 403)),
    ("org-import", None, "post", only({"hr": 302}, 403)),
    ("org-import-detail", "import", "post", only({"hr": 302}, 403)),
]
COVERED = frozenset(row[0] if row[0] == "home" else f"accounts:{row[0]}" for row in MATRIX)


@pytest.fixture
def world(personas, org, model_version):
    checked = upload_org_file(content=EXAMPLE, file_name="org.csv", by=personas["hr"])
    assert checked.status == OrgImport.Status.CHECKED
    return {"personas": personas, "org": org, "import": checked}


def _target(world, name, obj) -> tuple[str, dict]:
    """The URL and the query (GET) or form (POST) of a matrix row."""
    if name == "home":
        return reverse("home"), {}
    if obj in {"import", "missing"}:
        pk = world["import"].pk if obj == "import" else world["import"].pk + 1000
        return reverse(f"accounts:{name}", args=[pk]), {}
    data = {"unit": world["org"]["A" if obj == "unit_a" else "B"].pk} if obj else {}
    if name == "set-language":
        data = {"language": "en", "next": "/"}
    if name == "org-import":
        data = {"file": SimpleUploadedFile("org.csv", EXAMPLE, content_type="text/csv")}
    return reverse(f"accounts:{name}"), data


def request(client, world, role, name, obj, method):
    sign_in(client, world, role)
    url, data = _target(world, name, obj)
    response = client.get(url, data) if method == "get" else client.post(url, data)
    return response


def sign_in(client, world, role):
    """Sign in once per test and role (no row signs the user out; each sign-in is logged)."""
    if role != "anonymous" and getattr(client, "matrix_role", None) != role:
        client.force_login(world["personas"][role])
        client.matrix_role = role


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, world, role):
    failures = []
    for name, obj, method, expected in MATRIX:
        response = request(client, world, role, name, obj, method)
        if response.status_code != expected[role]:
            failures.append(
                f"{method.upper()} {name} [{obj}] as {role}: "
                f"{response.status_code} != {expected[role]}"
            )
        elif response.status_code == 302 and role == "anonymous" and name != "set-language":
            assert response.url.startswith(reverse("login")), name
    assert not failures, "\n".join(failures)


def snapshot():
    """Everything an import could write, and every import's state."""
    return (
        sorted(OrgImport.objects.values_list("pk", "status", "applied_at")),
        sorted(OrgUnit.objects.values_list("pk", "code", "parent_id", "name_zh")),
        sorted(User.objects.values_list("pk", "username", "org_unit_id", "job_grade", "is_active")),
        sorted(OrgUnit.heads.through.objects.values_list("orgunit_id", "user_id")),
    )


@pytest.mark.parametrize("role", [r for r in ROLES if r != "hr"])
def test_denied_writes_change_nothing(client, world, role):
    before = snapshot()
    for name, obj, method, expected in MATRIX:
        if method == "post" and name != "set-language":
            assert request(client, world, role, name, obj, method).status_code == expected[role]
    assert snapshot() == before


def test_the_same_posts_by_hr_do_import(client, world):
    """The positive control for the test above: the posted file and the confirmation work."""
    before = snapshot()
    request(client, world, "hr", "org-import-detail", "import", "post")
    assert OrgUnit.objects.filter(code="GD").exists()
    assert snapshot() != before


# --- lists show exactly what the user may see -----------------------------------------------------

PEOPLE = {
    "supervisor": {"supervisor", "manager"},
    "city_head": {"cityhead", "supervisor", "manager"},
    "outsider_supervisor": {"outsidersup", "outsider"},
}
EVERYBODY = {"admin", "hr", "cityhead", "supervisor", "manager", "outsidersup", "outsider"}
UNITS = {
    "supervisor": {"A"},
    "city_head": {"C1", "A"},
    "outsider_supervisor": {"B"},
    "hr": {"P", "C1", "C2", "A", "B"},
    "admin": {"P", "C1", "C2", "A", "B"},
}


def listed(client, world, role, unit=None) -> tuple[set, set]:
    """The people (usernames) and the unit choices (codes) of one people-list page."""
    client.force_login(world["personas"][role])
    query = {"unit": world["org"][unit].pk} if unit else {}
    page = client.get(reverse("accounts:people-list"), query).content.decode()
    people = set(
        User.objects.filter(pk__in=re.findall(r'data-person="(\d+)"', page)).values_list(
            "username", flat=True
        )
    )
    choices = re.findall(r'<option value="(\d+)"', page)
    units = set(OrgUnit.objects.filter(pk__in=choices).values_list("code", flat=True))
    return people, units


@pytest.mark.parametrize("role", list(UNITS))
def test_people_list_is_exactly_the_visible_people_and_units(client, world, role):
    assert listed(client, world, role) == (PEOPLE.get(role, EVERYBODY), UNITS[role])


@pytest.mark.parametrize(
    ("role", "unit", "expected"),
    [
        ("supervisor", "A", {"supervisor", "manager"}),
        ("hr", "B", {"outsidersup", "outsider"}),
        ("admin", "A", {"supervisor", "manager"}),
    ],
)
def test_a_unit_filter_never_widens_the_list(client, world, role, unit, expected):
    people, _units = listed(client, world, role, unit)
    assert people == expected


@pytest.mark.parametrize(
    ("role", "unit"), [("supervisor", "B"), ("outsider_supervisor", "A"), ("city_head", "B")]
)
def test_a_unit_out_of_scope_is_not_found(client, world, role, unit):
    client.force_login(world["personas"][role])
    response = client.get(reverse("accounts:people-list"), {"unit": world["org"][unit].pk})
    assert response.status_code == 404


HOME_COUNTS = {
    "manager": 1,
    "outsider": 1,
    "supervisor": 2,
    "city_head": 3,
    "outsider_supervisor": 2,
    "hr": 7,
    "admin": 7,
}
HEADED = {"supervisor": ["甲队"], "city_head": ["甲市分公司"], "outsider_supervisor": ["乙队"]}


@pytest.mark.parametrize("role", list(HOME_COUNTS))
def test_home_names_only_the_users_own_units_and_counts_their_scope(client, world, role):
    client.force_login(world["personas"][role])
    response = client.get(reverse("home"))
    assert [u.name_zh for u in response.context["headed_units"]] == HEADED.get(role, [])
    assert response.context["visible_people"] == HOME_COUNTS[role]
    page = response.content.decode()
    for other in {"甲队", "乙队"} - {
        world["personas"][role].org_unit.name_zh,
        *HEADED.get(role, []),
    }:
        assert f"<li>{other}</li>" not in page
