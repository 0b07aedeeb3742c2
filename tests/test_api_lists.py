"""Pagination, filters (django-filter) and ordering on every API list, and lists that cost a
fixed number of queries whatever their length."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import OrgUnit, User
from assessments.models import Assessment, Cycle
from assessments.services import add_participants

from .factories import UserFactory
from .test_api_support import assessment_of, client_for, error_of, ids, url

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db

LISTS = [
    ("org-unit-list", "hr", "code"),
    ("person-list", "hr", "username"),
    ("model-version-list", "admin", "number"),
    ("cycle-list", "hr", "name"),
    ("assessment-list", "hr", "id"),
]


@pytest.mark.parametrize(("name", "role", "field"), LISTS)
def test_every_list_paginates_and_orders(world, name, role, field):
    client = client_for(world["personas"][role])
    Cycle.objects.create(
        name="另一个周期",
        model_version=world["version"],
        self_deadline=date(2027, 1, 1),
        review_deadline=date(2027, 2, 1),
    )
    everything = client.get(url(name), {"page_size": 200}).json()
    assert everything["count"] >= 2
    first = client.get(url(name), {"page_size": 1, "ordering": field}).json()
    assert first["count"] == everything["count"]
    assert len(first["results"]) == 1 and first["next"]
    last = client.get(url(name), {"page_size": 1, "ordering": f"-{field}"}).json()
    values = sorted(row[field] for row in everything["results"])
    assert (first["results"][0][field], last["results"][0][field]) == (values[0], values[-1])
    second = client.get(url(name), {"page_size": 1, "page": 2, "ordering": field}).json()
    assert second["results"][0][field] == values[1]


@pytest.mark.parametrize(("name", "role", "field"), LISTS)
def test_unknown_ordering_is_ignored_and_bad_pages_are_404(world, name, role, field):
    client = client_for(world["personas"][role])
    assert client.get(url(name), {"ordering": "password"}).status_code == 200
    response = client.get(url(name), {"page": 999})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_page_size_is_capped(world):
    client = client_for(world["personas"]["hr"])
    for _n in range(3):
        UserFactory(org_unit=world["org"]["B"])
    response = client.get(url("person-list"), {"page_size": 100000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == response.json()["count"] <= 200


# --- filters --------------------------------------------------------------------------------------


def usernames(response):
    assert response.status_code == 200, response.content
    return {row["username"] for row in response.json()["results"]}


def test_people_filters(world):
    hr = client_for(world["personas"]["hr"])
    org = world["org"]
    assert usernames(hr.get(url("person-list"), {"org_unit": org["B"].pk})) == {
        "outsidersup",
        "outsider",
    }
    assert usernames(hr.get(url("person-list"), {"within": org["C1"].pk})) == {
        "cityhead",
        "supervisor",
        "manager",
        "colleague",
        "extra",
    }
    assert usernames(hr.get(url("person-list"), {"role": "supervisor"})) == {
        "cityhead",
        "supervisor",
        "outsidersup",
    }
    assert usernames(hr.get(url("person-list"), {"job_grade": "G2"})) == {"manager"}
    assert usernames(hr.get(url("person-list"), {"q": "outsider"})) == {"outsider", "outsidersup"}
    manager = world["personas"]["manager"]
    found = hr.get(url("person-list"), {"employee_no": manager.employee_no})
    assert usernames(found) == {"manager"}
    User.objects.filter(username="extra").update(is_active=False)
    assert usernames(hr.get(url("person-list"), {"is_active": "false"})) == {"extra"}


def test_within_a_unit_one_cannot_see_is_empty(world):
    supervisor = client_for(world["personas"]["supervisor"])
    province = world["org"]["P"].pk
    assert usernames(supervisor.get(url("person-list"), {"within": province})) == set()
    assert ids(supervisor.get(url("org-unit-list"), {"within": province})) == set()
    assert ids(supervisor.get(url("assessment-list"), {"within": province})) == set()


def test_filter_values_of_the_wrong_type_are_400(world):
    hr = client_for(world["personas"]["hr"])
    for name, params in [
        ("person-list", {"within": "x"}),
        ("person-list", {"role": "king"}),
        ("org-unit-list", {"kind": "planet"}),
        ("assessment-list", {"status": "done"}),
        ("assessment-list", {"relation": "cousin"}),
        ("cycle-list", {"status": "later"}),
    ]:
        response = hr.get(url(name), params)
        assert response.status_code == 400, (name, params)
        assert set(params) <= set(error_of(response)["fields"])


def test_unit_filters(world):
    hr = client_for(world["personas"]["hr"])
    org = world["org"]

    def codes(params):
        return set(
            OrgUnit.objects.filter(pk__in=ids(hr.get(url("org-unit-list"), params))).values_list(
                "code", flat=True
            )
        )

    assert codes({"kind": "city"}) == {"C1", "C2"}
    assert codes({"parent": org["P"].pk}) == {"C1", "C2"}
    assert codes({"within": org["C2"].pk}) == {"C2", "B"}
    assert codes({"code": "A"}) == {"A"}


def test_assessment_filters(world):
    personas = world["personas"]
    hr = client_for(personas["hr"])
    cycle = world["cycle"]

    def who(client, params):
        found = Assessment.objects.filter(pk__in=ids(client.get(url("assessment-list"), params)))
        return set(found.values_list("person__username", flat=True))

    assert who(hr, {"status": "submitted"}) == {"colleague"}
    assert who(hr, {"cycle": cycle.pk, "within": world["org"]["B"].pk}) == {
        "outsidersup",
        "outsider",
    }
    assert who(hr, {"person": personas["manager"].pk}) == {"manager"}
    assert who(hr, {"org_unit": world["org"]["A"].pk}) == {"supervisor", "manager", "colleague"}
    assert who(hr, {"target_grade": "G2"}) == {"manager"}
    assert who(hr, {"cycle": cycle.pk + 1000}) == set()
    supervisor = client_for(personas["supervisor"])
    assert who(supervisor, {"relation": "own"}) == {"supervisor"}
    assert who(supervisor, {"relation": "reviewed"}) == {"manager", "colleague"}
    city_head = client_for(personas["city_head"])
    assert who(city_head, {"relation": "reviewed"}) == {"supervisor", "manager", "colleague"}


def test_cycle_and_version_filters(world):
    hr = client_for(world["personas"]["hr"])
    cycle = world["cycle"]
    assert ids(hr.get(url("cycle-list"), {"status": "open"})) == {cycle.pk}
    assert ids(hr.get(url("cycle-list"), {"status": "draft"})) == set()
    number = world["version"].number
    assert ids(hr.get(url("cycle-list"), {"model_version": number})) == {cycle.pk}
    admin = client_for(world["personas"]["admin"])
    assert ids(admin.get(url("model-version-list"), {"status": "draft"})) == {world["draft"].number}
    assert ids(admin.get(url("model-version-list"), {"status": "published"})) == {number}


def test_lists_do_not_show_content_but_details_do(world):
    admin = client_for(world["personas"]["admin"])
    listed = admin.get(url("model-version-list")).json()["results"]
    assert {row["content"] is None for row in listed} == {True}
    detail = admin.get(url("model-version-detail", world["version"].number)).json()
    content = detail["content"]
    assert [d["code"] for d in content["domains"]] == ["1", "2", "3", "4"]
    categories = [c["code"] for d in content["domains"] for c in d["categories"]]
    assert categories[:3] == ["1.1", "1.2", "1.3"]
    assert {len(c["levels"]) for d in content["domains"] for c in d["categories"]} == {5}
    assert len(content["grades"][0]["targets"]) == len(categories)


# --- fixed query counts ---------------------------------------------------------------------------


def _queries(client, name):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(name), {"page_size": 200}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["assessment-list", "person-list", "org-unit-list"])
def test_list_query_count_does_not_grow_with_rows(world, name):
    hr = client_for(world["personas"]["hr"])
    before = _queries(hr, name)
    people = [UserFactory(org_unit=world["org"]["B"], roles=["manager"]) for _n in range(5)]
    add_participants(cycle=world["cycle"], people=people, by=world["personas"]["hr"])
    assert _queries(hr, name) == before


def test_assessment_detail_reads_in_order(world):
    manager = client_for(world["personas"]["manager"])
    own = assessment_of(world, "manager")
    body = manager.get(url("assessment-detail", own.pk)).json()
    assert [r["category"] for r in body["ratings"]][:3] == ["1.1", "1.2", "1.3"]
    assert body["person"]["username"] == "manager"
