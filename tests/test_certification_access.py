"""Who may open which certification page: every URL of the namespace × every persona.

Out-of-scope objects answer 404 (their existence is not revealed); pages and actions a role has
no business with answer 403; anonymous visitors are sent to sign in, except on the public
verification pages. A URL added to the namespace without a row here fails
``tests/test_url_completeness.py``.
"""

import pytest
from django.urls import reverse

from accounts.permissions import Role
from assessments.models import Certificate, CertificationApplication, CertificationEvent
from assessments.services import add_participants

from .access import ROLES, only
from .factories import UserFactory
from .test_certification_fixtures import apply, approved, certified, complete_with, mine

pytestmark = pytest.mark.django_db

EVERYONE = {r: 200 for r in ROLES if r != "anonymous"} | {"anonymous": 302}
PUBLIC = dict.fromkeys(ROLES, 200)


TEAM_A_READERS = {"supervisor": 200, "city_head": 200, "hr": 200}

# (url name, object, method, post data, expected status per role); rows run in this order
MATRIX = [
    ("my-overview", None, "get", None, EVERYONE),
    (
        "application-create",
        "own",
        "post",
        {"grade": "G4"},
        only(
            {
                "manager": 302,
                "supervisor": 404,
                "city_head": 404,
                "outsider": 404,
                "outsider_supervisor": 404,
            },
            403,
        ),
    ),
    ("application-detail", "pending", "get", None, only(TEAM_A_READERS, 404)),
    (
        "approval-list",
        None,
        "get",
        None,
        only({"supervisor": 200, "city_head": 200, "outsider_supervisor": 200}, 403),
    ),
    # reject without a reason first (refused: 400), then approve, which succeeds
    (
        "application-reject",
        "pending",
        "post",
        {"reason": ""},
        only({"supervisor": 400, "city_head": 400, "outsider_supervisor": 404}, 403),
    ),
    (
        "application-approve",
        "pending",
        "post",
        {"note": ""},
        only({"supervisor": 302, "city_head": 302, "outsider_supervisor": 404}, 403),
    ),
    ("confirmation-list", None, "get", None, only({"hr": 200}, 403)),
    ("application-send-back", "approved", "post", {"reason": ""}, only({"hr": 400}, 403)),
    ("application-confirm", "approved", "post", {"note": "同意"}, only({"hr": 302}, 403)),
    ("application-bulk-create", None, "get", None, only({"hr": 200}, 403)),
    ("application-bulk-create", None, "post", "cycle", only({"hr": 302}, 403)),
    ("certificate-list", None, "get", None, only({"hr": 200}, 403)),
    ("certificate-export", None, "get", None, only({"hr": 200}, 403)),
    ("certificate-detail", "certificate", "get", None, only(TEAM_A_READERS, 404)),
    ("certificate-pdf", "certificate", "get", None, only(TEAM_A_READERS, 404)),
    (
        "certificate-revoke",
        "certificate",
        "post",
        {"reason": "材料不实"},
        only({"hr": 302}, 403),
    ),
    ("certificate-lookup", None, "get", None, PUBLIC),
    ("certificate-verify", "certificate", "get", None, PUBLIC),
]
# The URL keys this matrix covers; tests/test_url_completeness.py checks that every URL of
# the site is covered by exactly one matrix module.
COVERED = frozenset(f"certification:{row[0]}" for row in MATRIX)


@pytest.fixture
def world(open_cycle, personas, org):
    supervisor, hr = personas["supervisor"], personas["hr"]
    people = [
        UserFactory(username=f"colleague{i}", org_unit=org["A"], roles=[Role.MANAGER])
        for i in range(3)
    ]
    add_participants(cycle=open_cycle, people=people, by=hr)
    for person in [personas["manager"], *people]:
        complete_with(mine(open_cycle, person), supervisor)
    return {
        "own": mine(open_cycle, personas["manager"]),
        "pending": apply(open_cycle, people[0]),
        "approved": approved(open_cycle, people[1], supervisor),
        "certificate": certified(open_cycle, people[2], supervisor, hr),
        "cycle": open_cycle,
        "personas": personas,
    }


def request(client, world, role, name, obj, method, data):
    if role != "anonymous":
        client.force_login(world["personas"][role])
    args = []
    if obj is not None:
        target = world[obj]
        args = [target.number if name == "certificate-verify" else target.pk]
    url = reverse(f"certification:{name}", args=args)
    if method == "get":
        return client.get(url)
    if data == "cycle":
        data = {"cycle": world["cycle"].pk}
    return client.post(url, data or {})


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, world, role):
    failures = []
    for name, obj, method, data, expected in MATRIX:
        response = request(client, world, role, name, obj, method, data)
        if response.status_code != expected[role]:
            failures.append(
                f"{method.upper()} {name} as {role}: {response.status_code} != {expected[role]}"
            )
        client.logout()
    assert not failures, "\n".join(failures)


def snapshot():
    return (
        sorted(CertificationApplication.objects.values_list("pk", "status")),
        sorted(Certificate.objects.values_list("pk", "status")),
        CertificationEvent.objects.count(),
    )


@pytest.mark.parametrize("role", [r for r in ROLES if r != "hr"])
def test_denied_writes_change_nothing(client, world, role):
    before = snapshot()
    for name, obj, method, data, expected in MATRIX:
        denied = role == "anonymous" or expected[role] in {403, 404}
        if method == "post" and denied:
            request(client, world, role, name, obj, method, data)
            client.logout()
    assert snapshot() == before


def test_a_supervisor_cannot_approve_their_own_application_by_url(client, open_cycle, personas):
    supervisor = personas["supervisor"]
    complete_with(mine(open_cycle, supervisor), personas["city_head"])
    application = apply(open_cycle, supervisor)
    client.force_login(supervisor)
    url = reverse("certification:application-approve", args=[application.pk])
    assert client.post(url).status_code == 404
    application.refresh_from_db()
    assert application.status == CertificationApplication.Status.SUPERVISOR_PENDING


def test_hr_cannot_confirm_their_own_application_by_url(client, open_cycle, personas, org):
    hr_member = UserFactory(username="hr_in_team", org_unit=org["A"], roles=[Role.HR])
    add_participants(cycle=open_cycle, people=[hr_member], by=personas["hr"])
    complete_with(mine(open_cycle, hr_member), personas["supervisor"])
    application = approved(open_cycle, hr_member, personas["supervisor"])
    client.force_login(hr_member)
    url = reverse("certification:application-confirm", args=[application.pk])
    assert client.post(url).status_code == 403
    assert not Certificate.objects.exists()
