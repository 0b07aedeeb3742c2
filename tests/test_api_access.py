"""Who may call which API endpoint: every v1 URL × every persona, objects in and out of scope.

Out-of-scope objects answer 404 (existence is not revealed), endpoints a role has no business
with answer 403, anonymous callers 401. Lists return exactly the visible ids. Denied writes
change nothing. A URL added to the API without a row here fails
``tests/test_url_completeness.py``.
"""

import pytest
from rest_framework.authtoken.models import Token

from accounts.models import OrgUnit, User
from assessments.models import (
    Assessment,
    AssessmentEvent,
    CalibrationAdjustment,
    CalibrationEvent,
    CalibrationSession,
    Certificate,
    CertificationApplication,
    CertificationEvent,
    Cycle,
    GapReportExport,
    GapReportRun,
    Rating,
)
from competency.models import ModelVersion

from .access import ROLES, SIGNED_IN
from .access import only as access_only
from .test_api_support import (
    assessment_of,
    client_for,
    error_of,
    ids,
    persona,
    url,
)

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db


def only(allowed: dict, default: int) -> dict:
    return access_only(allowed, default, anonymous=401)


EVERYONE = only({}, 200)
READERS_OF_OWN = only({"manager": 200, "supervisor": 200, "city_head": 200, "hr": 200}, 404)
REVIEWERS = {"supervisor", "city_head"}


def _cycle_body(world):
    return {
        "name": "API 周期",
        "model_version": world["version"].number,
        "self_deadline": "2026-11-01",
        "review_deadline": "2026-11-30",
        "participant_units": [world["org"]["A"].pk],
    }


def _revision(world, key):
    return Assessment.objects.get(pk=world[key].pk).revision


# --- certification, gap reports, calibration (on ``feature_world``) -------------------------------

OUTSIDER_READERS = only({"outsider": 200, "outsider_supervisor": 200, "hr": 200}, 404)
HEADS = {"supervisor", "city_head", "outsider_supervisor"}
HEADS_AND_HR = only(dict.fromkeys([*HEADS, "hr"], 200), 403)
TEAM_A_HEADS = only(
    {"supervisor": 200, "city_head": 200, "hr": 200, "outsider_supervisor": 404}, 403
)
TEAM_B_HEADS = only(
    {"outsider_supervisor": 200, "hr": 200, "supervisor": 404, "city_head": 404}, 403
)
HR_ONLY_IN_SCOPE = only({"hr": 200, **dict.fromkeys(HEADS, 404)}, 403)


def hr_only(code: int = 200) -> dict:
    return only({"hr": code}, 403)


def _adjustment(w):
    assessment = Assessment.objects.get(pk=w["done"]["manager"].pk)
    return {
        "assessment": assessment.pk,
        "category": "1.3",
        "level": 5,
        "reason": "跨部门项目表现突出",
        "revision": assessment.revision,
    }


FEATURE_ROWS = [
    ("application-list", lambda w: [], "get", None, EVERYONE),
    ("application-detail", lambda w: [w["awaiting_hr"].pk], "get", None, READERS_OF_OWN),
    (
        "application-detail",
        lambda w: [w["outsider_certificate"].application_id],
        "get",
        None,
        OUTSIDER_READERS,
    ),
    (
        "application-list",
        lambda w: [],
        "post",
        lambda w: {"assessment": w["done"]["supervisor"].pk, "grade": "G4"},
        only({"supervisor": 201, "hr": 403, "admin": 403}, 400),
    ),
    (
        "application-reject",
        lambda w: [w["awaiting_supervisor"].pk],
        "post",
        lambda w: {"reason": ""},
        only({**dict.fromkeys(REVIEWERS, 400), "outsider_supervisor": 404}, 403),
    ),
    (
        "application-approve",
        lambda w: [w["awaiting_supervisor"].pk],
        "post",
        lambda w: {"note": ""},
        only({**dict.fromkeys(REVIEWERS, 200), "outsider_supervisor": 404}, 403),
    ),
    (
        "application-send-back",
        lambda w: [w["awaiting_hr"].pk],
        "post",
        lambda w: {"reason": ""},
        hr_only(400),
    ),
    (
        "application-confirm",
        lambda w: [w["awaiting_hr"].pk],
        "post",
        lambda w: {"note": "同意"},
        hr_only(),
    ),
    ("application-bulk", lambda w: [], "post", lambda w: {"cycle": w["results"].pk}, hr_only()),
    ("certificate-list", lambda w: [], "get", None, EVERYONE),
    ("certificate-detail", lambda w: [w["own_certificate"].pk], "get", None, READERS_OF_OWN),
    (
        "certificate-detail",
        lambda w: [w["outsider_certificate"].pk],
        "get",
        None,
        OUTSIDER_READERS,
    ),
    ("certificate-pdf", lambda w: [w["own_certificate"].pk], "get", None, READERS_OF_OWN),
    (
        "certificate-revoke",
        lambda w: [w["own_certificate"].pk],
        "post",
        lambda w: {"reason": "材料不实"},
        hr_only(),
    ),
    ("gap-report-run-list", lambda w: [], "get", None, HEADS_AND_HR),
    ("gap-report-run-detail", lambda w: [w["run"].pk], "get", None, HEADS_AND_HR),
    ("gap-report-run-detail", lambda w: [w["queued_run"].pk], "get", None, HR_ONLY_IN_SCOPE),
    (
        "gap-report-run-list",
        lambda w: [],
        "post",
        lambda w: {"cycle": w["results"].pk},
        hr_only(202),
    ),
    ("gap-report-run-resume", lambda w: [w["queued_run"].pk], "post", None, hr_only()),
    ("gap-report-unit-list", lambda w: [w["run"].pk], "get", None, HEADS_AND_HR),
    (
        "gap-report-unit-detail",
        lambda w: [w["run"].pk, w["org"]["A"].pk],
        "get",
        None,
        TEAM_A_HEADS,
    ),
    (
        "gap-report-unit-detail",
        lambda w: [w["run"].pk, w["org"]["B"].pk],
        "get",
        None,
        TEAM_B_HEADS,
    ),
    (
        "gap-report-member-list",
        lambda w: [w["run"].pk, w["org"]["A"].pk],
        "get",
        None,
        TEAM_A_HEADS,
    ),
    (
        "gap-report-member-list",
        lambda w: [w["run"].pk, w["org"]["P"].pk],
        "get",
        None,
        HR_ONLY_IN_SCOPE,
    ),
    (
        "gap-report-unit-export",
        lambda w: [w["run"].pk, w["org"]["A"].pk],
        "post",
        lambda w: {"format": "xlsx"},
        hr_only(202),
    ),
    ("gap-report-export-detail", lambda w: [w["export"].pk], "get", None, hr_only()),
    ("gap-report-export-download", lambda w: [w["export"].pk], "get", None, hr_only()),
    ("calibration-session-list", lambda w: [], "get", None, HEADS_AND_HR),
    ("calibration-session-detail", lambda w: [w["session_a"].pk], "get", None, TEAM_A_HEADS),
    ("calibration-session-detail", lambda w: [w["session_b"].pk], "get", None, TEAM_B_HEADS),
    (
        "calibration-session-list",
        lambda w: [],
        "post",
        lambda w: {"cycle": w["results"].pk, "org_unit": w["org"]["C1"].pk},
        only({"hr": 201, "city_head": 201, "supervisor": 400, "outsider_supervisor": 400}, 403),
    ),
    ("calibration-adjustment-list", lambda w: [w["session_a"].pk], "get", None, TEAM_A_HEADS),
    (
        "calibration-adjustment-list",
        lambda w: [w["session_a"].pk],
        "post",
        _adjustment,
        only({"hr": 201, **dict.fromkeys(REVIEWERS, 201), "outsider_supervisor": 404}, 403),
    ),
    (
        "calibration-session-guide",
        lambda w: [w["session_a"].pk],
        "post",
        lambda w: {"shares": [10, 20, 40, 20, 10]},
        hr_only(),
    ),
    (
        "calibration-session-close",
        lambda w: [w["session_a"].pk],
        "post",
        lambda w: {"note": ""},
        TEAM_A_HEADS,
    ),
    (
        "calibration-session-reopen",
        lambda w: [w["session_a"].pk],
        "post",
        lambda w: {"reason": "复核"},
        hr_only(),
    ),
]

# (url name, object → url args, method, body, expected status per role), in the order they run:
# a step that changes state for later rows (publish, close, retire) comes after the rows it
# would disturb.
MATRIX = [
    ("auth-token", lambda w: [], "post", lambda w: {}, only({}, 400) | {"anonymous": 400}),
    ("org-unit-list", lambda w: [], "get", None, EVERYONE),
    (
        "org-unit-detail",
        lambda w: [w["org"]["A"].pk],
        "get",
        None,
        only({"outsider": 404, "outsider_supervisor": 404}, 200),
    ),
    ("person-list", lambda w: [], "get", None, EVERYONE),
    (
        "person-detail",
        lambda w: [w["personas"]["manager"].pk],
        "get",
        None,
        only({"outsider": 404, "outsider_supervisor": 404}, 200),
    ),
    ("model-version-list", lambda w: [], "get", None, EVERYONE),
    ("model-version-detail", lambda w: [w["version"].number], "get", None, EVERYONE),
    ("model-version-detail", lambda w: [w["draft"].number], "get", None, only({"admin": 200}, 404)),
    (
        "model-version-detail",
        lambda w: [w["draft"].number],
        "patch",
        lambda w: {"name_en": "Renamed draft"},
        only({"admin": 200}, 403),
    ),
    (
        "model-version-category",
        lambda w: [w["draft"].number, "1.1"],
        "patch",
        lambda w: {"name_en": "Renamed category"},
        only({"admin": 200}, 403),
    ),
    (
        "model-version-grade",
        lambda w: [w["draft"].number, "G2"],
        "patch",
        lambda w: {"validity_months": 36},
        only({"admin": 200}, 403),
    ),
    (
        "model-version-new-draft",
        lambda w: [w["version"].number],
        "post",
        None,
        only({"admin": 201}, 403),
    ),
    (
        "model-version-publish",
        lambda w: [w["draft"].number],
        "post",
        lambda w: {"note": "API"},
        only({"admin": 200}, 403),
    ),
    ("cycle-list", lambda w: [], "get", None, only({"hr": 200}, 403)),
    ("cycle-list", lambda w: [], "post", _cycle_body, only({"hr": 201}, 403)),
    ("cycle-detail", lambda w: [w["cycle"].pk], "get", None, only({"hr": 200}, 403)),
    (
        "cycle-detail",
        lambda w: [w["cycle"].pk],
        "patch",
        lambda w: {"name": "改名"},
        only({"hr": 409}, 403),
    ),
    ("cycle-open", lambda w: [w["cycle"].pk], "post", None, only({"hr": 409}, 403)),
    (
        "cycle-participants",
        lambda w: [w["cycle"].pk],
        "post",
        lambda w: {"people": [w["extra"].pk]},
        only({"hr": 200}, 403),
    ),
    ("assessment-list", lambda w: [], "get", None, EVERYONE),
    ("assessment-detail", lambda w: [w["own"].pk], "get", None, READERS_OF_OWN),
    (
        "assessment-self",
        lambda w: [w["own"].pk],
        "post",
        lambda w: {"revision": _revision(w, "own"), "comment": "API"},
        only({"manager": 200}, 404),
    ),
    (
        "assessment-submit",
        lambda w: [w["own"].pk],
        "post",
        lambda w: {"revision": _revision(w, "own")},
        only({"manager": 400}, 404),
    ),
    (
        "assessment-review",
        lambda w: [w["submitted"].pk],
        "post",
        lambda w: {"revision": _revision(w, "submitted"), "comment": "API"},
        only(dict.fromkeys(REVIEWERS, 200), 404),
    ),
    (
        "assessment-complete",
        lambda w: [w["submitted"].pk],
        "post",
        lambda w: {"revision": _revision(w, "submitted")},
        only(dict.fromkeys(REVIEWERS, 400), 404),
    ),
    (
        "assessment-return",
        lambda w: [w["submitted"].pk],
        "post",
        lambda w: {"revision": _revision(w, "submitted"), "reason": "请补充"},
        only(dict.fromkeys(REVIEWERS, 200), 404),
    ),
    *FEATURE_ROWS,
    (
        "user-token-detail",
        lambda w: [w["personas"]["manager"].pk],
        "delete",
        None,
        only({"admin": 204}, 403),
    ),
    ("cycle-close", lambda w: [w["cycle"].pk], "post", None, only({"hr": 200}, 403)),
    (
        "model-version-retire",
        lambda w: [w["version"].number],
        "post",
        lambda w: {},
        only({"admin": 200}, 403),
    ),
    ("auth-token", lambda w: [], "delete", None, only({}, 204)),
]
# The URL keys this matrix covers; tests/test_url_completeness.py checks that every URL of
# the site is covered by exactly one matrix module.
COVERED = frozenset(f"v1:{row[0]}" for row in MATRIX)


def call(world, role, name, args, method, body):
    client = client_for(persona(world, role))
    data = body(world) if body else None
    return getattr(client, method)(url(name, *args(world)), data, format="json")


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(feature_world, role):
    world = feature_world
    failures = []
    for name, args, method, body, expected in MATRIX:
        response = call(world, role, name, args, method, body)
        if response.status_code != expected[role]:
            failures.append(
                f"{method.upper()} {name} as {role}: {response.status_code} != {expected[role]}"
                f" {response.content[:200]!r}"
            )
        elif response.status_code >= 400:
            error_of(response)
    assert not failures, "\n".join(failures)


def _state():
    """Everything a denied write could have changed."""
    return (
        list(Assessment.objects.order_by("pk").values_list("pk", "status", "revision")),
        AssessmentEvent.objects.count(),
        list(Cycle.objects.order_by("pk").values_list("pk", "name", "status")),
        list(ModelVersion.objects.order_by("number").values_list("number", "name_en", "status")),
        Token.objects.count(),
        list(User.objects.order_by("pk").values_list("pk", "job_grade", "is_active")),
        OrgUnit.objects.count(),
        sorted(CertificationApplication.objects.values_list("pk", "status", "grade_id")),
        sorted(Certificate.objects.values_list("pk", "status")),
        CertificationEvent.objects.count(),
        sorted(GapReportRun.objects.values_list("pk", "status", "messages")),
        sorted(GapReportExport.objects.values_list("pk", "status", "file_format")),
        sorted(CalibrationSession.objects.values_list("pk", "status", "guide_level_1")),
        CalibrationAdjustment.objects.count(),
        CalibrationEvent.objects.count(),
        sorted(Rating.objects.values_list("pk", "final_level", "supervisor_level")),
    )


@pytest.mark.parametrize("role", ["anonymous", "manager", "outsider", "outsider_supervisor"])
def test_denied_writes_change_nothing(feature_world, role):
    world = feature_world
    for user in world["personas"].values():
        Token.objects.get_or_create(user=user)
    before = _state()
    for name, args, method, body, expected in MATRIX:
        if method != "get" and expected[role] >= 400:
            call(world, role, name, args, method, body)
    assert _state() == before


# --- lists return exactly the visible ids ---------------------------------------------------------

PEOPLE = {
    "manager": {"manager"},
    "outsider": {"outsider"},
    "supervisor": {"supervisor", "manager", "colleague", "extra"},
    "city_head": {"cityhead", "supervisor", "manager", "colleague", "extra"},
    "outsider_supervisor": {"outsidersup", "outsider"},
}
UNITS = {
    "manager": {"A"},
    "outsider": {"B"},
    "supervisor": {"A"},
    "city_head": {"C1", "A"},
    "outsider_supervisor": {"B"},
    "hr": {"P", "C1", "C2", "A", "B"},
    "admin": {"P", "C1", "C2", "A", "B"},
}
ASSESSMENTS = {
    "manager": {"manager"},
    "outsider": {"outsider"},
    "supervisor": {"supervisor", "manager", "colleague"},
    "city_head": {"cityhead", "supervisor", "manager", "colleague"},
    "outsider_supervisor": {"outsidersup", "outsider"},
    "hr": {"cityhead", "supervisor", "manager", "colleague", "outsidersup", "outsider"},
    "admin": set(),
}


@pytest.mark.parametrize("role", SIGNED_IN)
def test_people_list_is_exactly_the_visible_people(world, role):
    expected = PEOPLE.get(role) or set(User.objects.values_list("username", flat=True))
    got = ids(client_for(persona(world, role)).get(url("person-list"), {"page_size": 200}))
    assert got == set(User.objects.filter(username__in=expected).values_list("pk", flat=True))


@pytest.mark.parametrize("role", SIGNED_IN)
def test_unit_list_is_exactly_the_visible_units(world, role):
    got = ids(client_for(persona(world, role)).get(url("org-unit-list")))
    assert got == set(OrgUnit.objects.filter(code__in=UNITS[role]).values_list("pk", flat=True))


@pytest.mark.parametrize("role", SIGNED_IN)
def test_assessment_list_is_exactly_the_visible_assessments(world, role):
    got = ids(client_for(persona(world, role)).get(url("assessment-list")))
    expected = {assessment_of(world, name).pk for name in ASSESSMENTS[role]}
    assert got == expected


@pytest.mark.parametrize("role", SIGNED_IN)
def test_version_list_shows_drafts_to_admins_only(world, role):
    got = ids(client_for(persona(world, role)).get(url("model-version-list")))
    published = {world["version"].number}
    assert got == (published | {world["draft"].number} if role == "admin" else published)


def test_cycle_list_is_every_cycle_for_hr(world):
    got = ids(client_for(world["personas"]["hr"]).get(url("cycle-list")))
    assert got == set(Cycle.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("role", SIGNED_IN)
def test_out_of_scope_details_are_404(world, role):
    client = client_for(persona(world, role))
    visible = ASSESSMENTS[role]
    for assessment in Assessment.objects.select_related("person"):
        response = client.get(url("assessment-detail", assessment.pk))
        expected = 200 if assessment.person.username in visible else 404
        assert response.status_code == expected, (role, assessment.person.username)
    people = PEOPLE.get(role)
    for person in User.objects.all():
        response = client.get(url("person-detail", person.pk))
        expected = 200 if people is None or person.username in people else 404
        assert response.status_code == expected, (role, person.username)


# --- certification, gap reports, calibration: exactly the visible rows ---------------------------

REPORT_UNITS = {
    "supervisor": {"A"},
    "city_head": {"C1", "A"},
    "outsider_supervisor": {"B"},
    "hr": {"P", "C1", "C2", "A", "B"},
}
SESSIONS = {
    "supervisor": {"session_a"},
    "city_head": {"session_a"},
    "outsider_supervisor": {"session_b"},
    "hr": {"session_a", "session_b"},
}


def _of_visible_people(model, role) -> set:
    rows = model.objects.filter(person__username__in=ASSESSMENTS[role])
    return set(rows.values_list("pk", flat=True))


def _listed(client, name, *args, key="id"):
    response = client.get(url(name, *args), {"page_size": 200})
    if response.status_code != 200:
        return response.status_code
    return {row[key] for row in response.json()["results"]}


@pytest.mark.parametrize("role", SIGNED_IN)
def test_feature_lists_are_exactly_the_visible_rows(feature_world, role):
    world, client = feature_world, client_for(persona(feature_world, role))
    applications = _of_visible_people(CertificationApplication, role)
    assert _listed(client, "application-list") == applications
    for pk in CertificationApplication.objects.values_list("pk", flat=True):
        expected = 200 if pk in applications else 404
        assert client.get(url("application-detail", pk)).status_code == expected
    assert _listed(client, "certificate-list") == _of_visible_people(Certificate, role)

    runs = {"hr": {world["run"].pk, world["queued_run"].pk}}.get(role, {world["run"].pk})
    units = OrgUnit.objects.filter(code__in=REPORT_UNITS.get(role, ()))
    sessions = {world[key].pk for key in SESSIONS.get(role, ())}
    readers = role in REPORT_UNITS
    assert _listed(client, "gap-report-run-list") == (runs if readers else 403)
    assert _listed(client, "gap-report-unit-list", world["run"].pk, key="org_unit") == (
        set(units.values_list("pk", flat=True)) if readers else 403
    )
    assert _listed(client, "calibration-session-list") == (sessions if readers else 403)
