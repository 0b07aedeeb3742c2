"""Who may open which profile URL: every URL of the feature × every persona, in and out of scope.

Out-of-scope people and goals answer 404; a role without the capability answers 403; anonymous
visitors are sent to sign in. A URL added to ``profiles`` without a row here fails
``tests/test_url_completeness.py``.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import DevelopmentGoal

from .access import ROLES, only
from .test_profile_reports import make_cycle, record

pytestmark = pytest.mark.django_db


EVERYONE = only({}, 200)
HEADS_AND_HR = {"supervisor": 200, "city_head": 200, "hr": 200}

# (url name, object, method, data) → expected status per role
MATRIX = [
    ("mine", None, "get", EVERYONE),
    ("person", "manager", "get", only({"manager": 200, **HEADS_AND_HR}, 404)),
    (
        "person",
        "outsider",
        "get",
        only({"outsider": 200, "outsider_supervisor": 200, "hr": 200}, 404),
    ),
    ("goal-add", None, "post", only({}, 302)),
    ("goal-edit", "goal", "get", only({"manager": 200}, 404)),
    ("goal-edit", "goal", "post", only({"manager": 302}, 404)),
    (
        "goal-comment",
        "goal",
        "post",
        only({"supervisor": 302, "city_head": 302, "manager": 403, "hr": 403}, 404),
    ),
    (
        "team",
        None,
        "get",
        only({"supervisor": 200, "city_head": 200, "outsider_supervisor": 200, "hr": 200}, 403),
    ),
    (
        "team",
        "unit_a",
        "get",
        only({"supervisor": 200, "city_head": 200, "hr": 200, "outsider_supervisor": 404}, 403),
    ),
]
# The URL keys this matrix covers; tests/test_url_completeness.py checks that every URL of
# the site is covered by exactly one matrix module.
COVERED = frozenset(f"profiles:{row[0]}" for row in MATRIX)


@pytest.fixture
def world(personas, org, model_version):
    cycle = make_cycle(model_version)
    record(cycle, personas["manager"], 2)
    goal = DevelopmentGoal.objects.create(
        person=personas["manager"],
        title="提升IT知识",
        category_code="1.3",
        due_date=timezone.localdate() + timedelta(days=30),
    )
    return {"goal": goal, "org": org, "personas": personas}


def _request(client, world, name, obj, method):
    personas = world["personas"]
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    data = {"title": "目标", "category_code": "1.3", "due_date": due, "status": "planned"}
    query = {}
    if name == "person":
        url = reverse("profiles:person", args=[personas[obj].pk])
    elif obj == "goal":
        url = reverse(f"profiles:{name}", args=[world["goal"].pk])
        data = data if name == "goal-edit" else {"note": "很好"}
    else:
        url = reverse(f"profiles:{name}")
        if obj == "unit_a":
            query = {"unit": world["org"]["A"].pk}
    if method == "post":
        return client.post(url, data)
    return client.get(url, query)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "obj", "method", "expected"), MATRIX)
def test_access_matrix(client, world, role, name, obj, method, expected):
    if role != "anonymous":
        client.force_login(world["personas"][role])
    response = _request(client, world, name, obj, method)
    assert response.status_code == expected[role], (role, name, obj, method)
    if response.status_code == 302 and role == "anonymous":
        assert response.url.startswith(reverse("login"))
