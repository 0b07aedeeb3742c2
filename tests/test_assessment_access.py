"""Who may open which assessment page: every URL of the app × every persona, in and out of scope.

Out-of-scope objects answer 404 (their existence is not revealed); pages a role has no business
with answer 403; anonymous visitors are sent to sign in. A URL added to the app without a row
here fails ``tests/test_url_completeness.py``.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.models import Assessment, Evidence

from .access import ROLES, only
from .assessment_helpers import submit
from .factories import UserFactory

pytestmark = pytest.mark.django_db

EVERYONE = {r: 200 for r in ROLES if r != "anonymous"} | {"anonymous": 302}


# (url name, object, method) → expected status per role
MATRIX = [
    ("my-list", None, "get", EVERYONE),
    (
        "detail",
        "own",
        "get",
        only({"manager": 200, "supervisor": 200, "city_head": 200, "hr": 200}, 404),
    ),
    ("self", "own", "get", only({"manager": 200}, 404)),
    ("self-submit", "own", "post", only({"manager": 400}, 404)),
    ("evidence-upload", "own", "post", only({"manager": 302}, 404)),
    (
        "evidence-download",
        "evidence",
        "get",
        only({"manager": 200, "supervisor": 200, "city_head": 200, "hr": 200}, 404),
    ),
    ("evidence-delete", "evidence", "post", only({"manager": 302}, 404)),
    (
        "review-list",
        None,
        "get",
        only({"supervisor": 200, "city_head": 200, "outsider_supervisor": 200}, 403),
    ),
    ("review", "submitted", "get", only({"supervisor": 200, "city_head": 200}, 404)),
    # complete first: incomplete, refused with 400; then return, which succeeds
    ("review-complete", "submitted", "post", only({"supervisor": 400, "city_head": 400}, 404)),
    ("review-return", "submitted", "post", only({"supervisor": 302, "city_head": 302}, 404)),
    ("cycle-list", None, "get", only({"hr": 200}, 403)),
    ("cycle-create", None, "get", only({"hr": 200}, 403)),
    ("cycle-detail", "cycle", "get", only({"hr": 200}, 403)),
    ("cycle-edit", "cycle", "get", only({"hr": 302}, 403)),
    ("cycle-open", "cycle", "post", only({"hr": 302}, 403)),
    ("cycle-close", "cycle", "post", only({"hr": 302}, 403)),
    ("cycle-remind", "cycle", "post", only({"hr": 302}, 403)),
    ("cycle-add-people", "cycle", "post", only({"hr": 200}, 403)),
]
# The URL keys this matrix covers; tests/test_url_completeness.py checks that every URL of
# the site is covered by exactly one matrix module.
COVERED = frozenset(f"assessments:{row[0]}" for row in MATRIX)


@pytest.fixture
def world(open_cycle, personas, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    own = Assessment.objects.get(cycle=open_cycle, person=personas["manager"])
    evidence = Evidence.objects.create(
        assessment=own,
        category=own.ratings.first().category,
        file=SimpleUploadedFile("swot.txt", b"SWOT"),
        original_name="swot.txt",
        content_type="text/plain",
        size=4,
        uploaded_by=personas["manager"],
    )
    colleague = UserFactory(username="colleague", org_unit=org["A"], roles=["manager"])
    from assessments.services import add_participants

    add_participants(cycle=open_cycle, people=[colleague], by=personas["hr"])
    submitted = submit(Assessment.objects.get(cycle=open_cycle, person=colleague))
    return {
        "own": own,
        "evidence": evidence,
        "submitted": submitted,
        "cycle": open_cycle,
        "personas": personas,
    }


def request(client, world, role, name, obj, method):
    if role != "anonymous":
        client.force_login(world["personas"][role])
    args = [] if obj is None else [world[obj].pk]
    url = reverse(f"assessments:{name}", args=args)
    if method == "get":
        return client.get(url)
    revision = (
        Assessment.objects.get(pk=world[obj].pk).revision if obj in {"own", "submitted"} else 0
    )
    data = {"reason": "请补充", "confirm": "on", "people": "", "revision": str(revision)}
    if name == "evidence-upload":
        data = {"file": SimpleUploadedFile("a.txt", b"x"), "category": "1.1"}
    return client.post(url, data)


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, world, role):
    failures = []
    for name, obj, method, expected in MATRIX:
        response = request(client, world, role, name, obj, method)
        if response.status_code != expected[role]:
            failures.append(
                f"{method.upper()} {name} as {role}: {response.status_code} != {expected[role]}"
            )
        client.logout()
    assert not failures, "\n".join(failures)


def test_denied_requests_change_nothing(client, world):
    before = (
        Assessment.objects.get(pk=world["submitted"].pk).status,
        Evidence.objects.count(),
        world["cycle"].status,
    )
    for role in ["outsider", "outsider_supervisor", "admin"]:
        client.force_login(world["personas"][role])
        for name, obj, method, _expected in MATRIX:
            if method == "post":
                request(client, world, role, name, obj, method)
    world["cycle"].refresh_from_db()
    after = (
        Assessment.objects.get(pk=world["submitted"].pk).status,
        Evidence.objects.count(),
        world["cycle"].status,
    )
    assert after == before
