"""HR's cycles over the API: create and edit while draft, then open, add people, close — each
action an explicit POST that calls the service; state fields are never set directly."""

import pytest

from assessments.models import Assessment, Cycle

from .factories import UserFactory
from .test_api_support import client_for, error_of, url

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_api(api_settings, personas):
    return client_for(personas["hr"])


def body(version, org, **changes):
    return {
        "name": "2027 年度评估",
        "model_version": version.number,
        "self_deadline": "2027-03-01",
        "review_deadline": "2027-03-31",
        "participant_units": [org["A"].pk],
        **changes,
    }


def test_hr_creates_a_draft_cycle(hr_api, personas, model_version, org):
    extra = UserFactory(org_unit=org["B"])
    response = hr_api.post(
        url("cycle-list"),
        body(model_version, org, participant_people=[extra.pk], status="open", opened_at=None),
        format="json",
    )
    assert response.status_code == 201, response.content
    cycle = Cycle.objects.get(pk=response.json()["id"])
    assert (cycle.status, cycle.created_by, cycle.opened_at) == ("draft", personas["hr"], None)
    assert list(cycle.participant_units.all()) == [org["A"]]
    assert list(cycle.participant_people.all()) == [extra]
    assert response.json()["assessment_count"] == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"review_deadline": "2027-02-01"}, "review_deadline"),
        ({"final_rule": "weighted"}, "self_weight"),
        ({"final_rule": "weighted", "self_weight": "0"}, "self_weight"),
        ({"final_rule": "weighted", "self_weight": "1.5"}, "self_weight"),
        ({"model_version": 999}, "model_version"),
        ({"participant_units": [10**9]}, "participant_units"),
        ({"reminder_days": 31}, "reminder_days"),
        ({"name": "x" * 201}, "name"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_cycles_are_400(hr_api, model_version, org, changes, field):
    response = hr_api.post(url("cycle-list"), body(model_version, org, **changes), format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert not Cycle.objects.exists()


def test_cycles_use_published_versions_only(hr_api, model_version, org, personas):
    from competency.services import create_draft_from

    draft = create_draft_from(source=model_version, by=personas["admin"])
    response = hr_api.post(url("cycle-list"), body(model_version, org, model_version=draft.number))
    assert response.status_code == 400


def test_inactive_people_cannot_be_picked(hr_api, model_version, org):
    gone = UserFactory(org_unit=org["A"], is_active=False)
    changes = {"participant_people": [gone.pk]}
    response = hr_api.post(url("cycle-list"), body(model_version, org, **changes), format="json")
    assert "participant_people" in error_of(response)["fields"]


def test_weighted_rule_with_a_weight(hr_api, model_version, org):
    changes = {"final_rule": "weighted", "self_weight": "0.4"}
    response = hr_api.post(url("cycle-list"), body(model_version, org, **changes), format="json")
    assert response.status_code == 201
    assert response.json()["self_weight"] == "0.40"


def test_a_draft_is_edited_then_opened_then_closed(hr_api, draft_cycle, org):
    response = hr_api.patch(url("cycle-detail", draft_cycle.pk), {"name": "改名"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "改名"
    put = hr_api.put(
        url("cycle-detail", draft_cycle.pk),
        body(draft_cycle.model_version, org, name="整体替换"),
        format="json",
    )
    assert put.status_code == 200, put.content
    draft_cycle.refresh_from_db()
    assert list(draft_cycle.participant_units.all()) == [org["A"]]

    opened = hr_api.post(url("cycle-open", draft_cycle.pk))
    assert opened.status_code == 200, opened.content
    assert opened.json()["cycle"]["status"] == "open"
    created = Assessment.objects.filter(cycle=draft_cycle).count()
    assert opened.json()["count"] == created == opened.json()["cycle"]["assessment_count"] > 0

    refused = hr_api.patch(url("cycle-detail", draft_cycle.pk), {"name": "再改"}, format="json")
    assert refused.status_code == 409
    assert Cycle.objects.get(pk=draft_cycle.pk).name == "整体替换"
    assert hr_api.post(url("cycle-open", draft_cycle.pk)).status_code == 409

    closed = hr_api.post(url("cycle-close", draft_cycle.pk))
    assert closed.status_code == 200
    assert closed.json()["cycle"]["status"] == "closed"
    assert closed.json()["count"] == created
    assert hr_api.post(url("cycle-close", draft_cycle.pk)).status_code == 409


def test_a_cycle_without_participants_does_not_open(hr_api, model_version, org):
    created = hr_api.post(
        url("cycle-list"), body(model_version, org, participant_units=[]), format="json"
    ).json()
    response = hr_api.post(url("cycle-open", created["id"]))
    assert response.status_code == 409
    assert Cycle.objects.get(pk=created["id"]).status == "draft"


def test_adding_people_to_an_open_cycle(hr_api, open_cycle, org):
    newcomer = UserFactory(org_unit=org["B"])
    response = hr_api.post(
        url("cycle-participants", open_cycle.pk), {"people": [newcomer.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1
    assert Assessment.objects.filter(cycle=open_cycle, person=newcomer).exists()
    again = hr_api.post(
        url("cycle-participants", open_cycle.pk), {"people": [newcomer.pk]}, format="json"
    )
    assert again.json()["count"] == 0
    empty = hr_api.post(url("cycle-participants", open_cycle.pk), {"people": []}, format="json")
    assert empty.status_code == 400


def test_nobody_is_added_to_a_closed_cycle(hr_api, open_cycle, org, personas):
    from assessments.services import close_cycle

    close_cycle(cycle=open_cycle, by=personas["hr"])
    newcomer = UserFactory(org_unit=org["B"])
    response = hr_api.post(
        url("cycle-participants", open_cycle.pk), {"people": [newcomer.pk]}, format="json"
    )
    assert response.status_code == 409
    assert not Assessment.objects.filter(person=newcomer).exists()
