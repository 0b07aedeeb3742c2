"""Who may use which calibration page: every URL of the namespace × every persona.

HR runs everything; a head only sessions of units inside the subtrees they head, and never
adjusts their own assessment; managers and the system administrator get 403; a session (or an
assessment) out of the user's scope is 404; anonymous visitors are sent to sign in. A URL added
to the namespace without a row here fails ``tests/test_url_completeness.py``.
"""

import pytest
from django.urls import reverse

from assessments.calibration import services as calibration
from assessments.models import (
    Assessment,
    CalibrationAdjustment,
    CalibrationEvent,
    CalibrationSession,
    Rating,
)

from .access import ROLES, only
from .test_calibration_helpers import ADJUSTED, calibration_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


HEADS_OF_A = {"supervisor": 200, "city_head": 200, "hr": 200, "outsider_supervisor": 404}
EVERY_HEAD = {"supervisor": 200, "city_head": 200, "outsider_supervisor": 200, "hr": 200}
HR_ONLY_IN_A = {"hr": 200, "supervisor": 403, "city_head": 403, "outsider_supervisor": 404}
NOT_IN_SESSION = {"supervisor": 404, "city_head": 404, "hr": 404, "outsider_supervisor": 404}


def redirected(expected: dict) -> dict:
    return {role: 302 if status == 200 else status for role, status in expected.items()}


# (url name, object, method) → expected status per role; rows run in this order.
MATRIX = [
    ("session-list", None, "get", only(EVERY_HEAD)),
    ("session-create", None, "get", only(EVERY_HEAD)),
    (
        "session-create",
        "city",
        "post",
        only({"hr": 302, "city_head": 302, "supervisor": 400, "outsider_supervisor": 400}),
    ),
    ("session-detail", "session", "get", only(HEADS_OF_A)),
    (
        "session-detail",
        "session_b",
        "get",
        only({"hr": 200, "outsider_supervisor": 200, "supervisor": 404, "city_head": 404}),
    ),
    ("session-history", "session", "get", only(HEADS_OF_A)),
    ("session-export", "session", "get", only(HEADS_OF_A)),
    ("assessment-detail", "manager_a", "get", only(HEADS_OF_A)),
    ("assessment-detail", "outside", "get", only(NOT_IN_SESSION)),
    ("session-guide", "session", "get", only(HR_ONLY_IN_A)),
    ("session-guide", "session", "post", only(redirected(HR_ONLY_IN_A))),
    ("assessment-adjust", "manager_a", "post", only(redirected(HEADS_OF_A))),
    (
        "assessment-adjust",
        "head_a",
        "post",
        only({"supervisor": 403, "city_head": 302, "hr": 302, "outsider_supervisor": 404}),
    ),
    ("assessment-adjust", "outside", "post", only(NOT_IN_SESSION)),
    ("session-close", "session", "post", only(redirected(HEADS_OF_A))),
    ("session-reopen", "session", "post", only(redirected(HR_ONLY_IN_A))),
]
# The URL keys this matrix covers; tests/test_url_completeness.py checks that every URL of
# the site is covered by exactly one matrix module.
COVERED = frozenset(f"calibration:{row[0]}" for row in MATRIX)


@pytest.fixture
def world(calibration_world, org):
    personas = calibration_world["personas"]
    session_b = calibration.open_session(
        cycle=calibration_world["cycle"], unit=org["B"], by=personas["hr"]
    )
    return calibration_world | {"session_b": session_b}


def target(world, obj) -> tuple[list, dict]:
    """URL arguments and POST data for a matrix row's object."""
    session = world["session"]
    if obj is None:
        return [], {}
    if obj == "city":
        return [], {"cycle": world["cycle"].pk, "unit": world["org"]["C1"].pk}
    if obj in {"session", "session_b"}:
        return [world[obj].pk], {
            "confirm": "on",
            "reason": "需要补充校准",
            **{
                f"level_{v}": share
                for v, share in zip(range(1, 6), [5, 15, 50, 20, 10], strict=True)
            },
        }
    assessment = {
        "manager_a": world["manager"],
        "head_a": world["head"],
        "outside": world["outsider"],
    }[obj]
    assessment = Assessment.objects.get(pk=assessment.pk)
    current = Rating.objects.get(assessment=assessment, category__code=ADJUSTED).final_level
    data = {
        "category": ADJUSTED,
        "level": str(5 if current != 5 else 4),
        "reason": "与同级对比后调整",
        "revision": assessment.revision,
    }
    return [session.pk, assessment.pk], data


def request(client, world, role, name, obj, method):
    if role != "anonymous":
        client.force_login(world["personas"][role])
    args, data = target(world, obj)
    url = reverse(f"calibration:{name}", args=args)
    return client.get(url) if method == "get" else client.post(url, data)


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
        client.logout()
    assert not failures, "\n".join(failures)


def snapshot(world):
    return (
        CalibrationSession.objects.count(),
        CalibrationAdjustment.objects.count(),
        CalibrationEvent.objects.count(),
        sorted(CalibrationSession.objects.values_list("pk", "status", "guide_level_1")),
        sorted(
            Rating.objects.filter(assessment__cycle=world["cycle"]).values_list(
                "pk", "supervisor_level", "final_level"
            )
        ),
        sorted(Assessment.objects.values_list("pk", "classification", "revision")),
    )


@pytest.mark.parametrize("role", ["manager", "outsider", "outsider_supervisor", "admin"])
def test_denied_writes_change_nothing(client, world, role):
    before = snapshot(world)
    for name, obj, method, expected in MATRIX:
        if method == "post":
            assert expected[role] >= 400
            request(client, world, role, name, obj, method)
    assert snapshot(world) == before


def test_a_head_denied_on_their_own_assessment_changes_nothing(client, world):
    before = snapshot(world)
    response = request(client, world, "supervisor", "assessment-adjust", "head_a", "post")
    assert response.status_code == 403
    response = request(client, world, "supervisor", "session-reopen", "session", "post")
    assert response.status_code == 403
    response = request(client, world, "supervisor", "session-guide", "session", "post")
    assert response.status_code == 403
    assert snapshot(world) == before
