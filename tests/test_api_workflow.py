"""The assessment workflow over the API: save → submit → return → resubmit → complete, stale
revisions, replays, incomplete steps, and the fields a manager may never set."""

import pytest

from accounts.models import User
from assessments.models import Assessment, AssessmentEvent, Rating

from .assessment_helpers import codes
from .test_api_support import client_for, error_of, url

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def own(api_settings, open_cycle, personas):
    return Assessment.objects.get(cycle=open_cycle, person=personas["manager"])


def post(user, name, assessment, body):
    return client_for(user).post(url(name, assessment.pk), body, format="json")


def full_self_body(assessment, revision, level=3):
    return {
        "revision": revision,
        "ratings": {code: {"level": level, "comment": "例"} for code in codes(assessment)},
        "industries": {"finance": {"depth": 4, "evidence": "SWOT"}},
        "comment": "总结",
    }


def review_body(assessment, revision, level=4):
    return {
        "revision": revision,
        "ratings": {code: {"level": level} for code in codes(assessment)},
        "depths": {"finance": 4},
        "comment": "好",
    }


def snapshot(assessment):
    fresh = Assessment.objects.get(pk=assessment.pk)
    ratings = list(
        Rating.objects.filter(assessment=assessment)
        .order_by("pk")
        .values_list("self_level", "supervisor_level", "final_level", "self_comment")
    )
    return (
        fresh.status,
        fresh.revision,
        fresh.self_comment,
        fresh.supervisor_comment,
        fresh.classification,
        fresh.reviewer_id,
        fresh.target_grade,
        ratings,
        AssessmentEvent.objects.filter(assessment=assessment).count(),
    )


def test_workflow_end_to_end(own, personas):
    manager, supervisor = personas["manager"], personas["supervisor"]
    read = client_for(manager).get(url("assessment-detail", own.pk)).json()
    assert read["status"] == "not_started"

    saved = post(manager, "assessment-self", own, full_self_body(own, read["revision"]))
    assert saved.status_code == 200, saved.content
    assert saved.json()["status"] == "self_in_progress"
    assert {r["self_level"] for r in saved.json()["ratings"]} == {3}

    submitted = post(manager, "assessment-submit", own, {"revision": saved.json()["revision"]})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"

    reviewed = post(
        supervisor, "assessment-review", own, review_body(own, submitted.json()["revision"])
    )
    assert reviewed.status_code == 200, reviewed.content
    returned = post(
        supervisor,
        "assessment-return",
        own,
        {"revision": reviewed.json()["revision"], "reason": "请补充行业分析"},
    )
    assert returned.status_code == 200, returned.content
    assert returned.json()["status"] == "returned"

    # The person reads the reason, but not the supervisor's draft levels.
    mine = client_for(manager).get(url("assessment-detail", own.pk)).json()
    assert mine["events"][-1]["action"] == "returned"
    assert mine["events"][-1]["note"] == "请补充行业分析"
    assert {r["supervisor_level"] for r in mine["ratings"]} == {None}
    assert mine["supervisor_comment"] is None

    again = post(manager, "assessment-self", own, full_self_body(own, mine["revision"], level=4))
    resubmitted = post(manager, "assessment-submit", own, {"revision": again.json()["revision"]})
    assert resubmitted.json()["status"] == "submitted"

    completed = post(
        supervisor,
        "assessment-complete",
        own,
        {"revision": resubmitted.json()["revision"]},
    )
    assert completed.status_code == 200, completed.content
    body = completed.json()
    assert body["status"] == "completed"
    assert body["reviewer"] == supervisor.pk
    assert {r["final_level"] for r in body["ratings"]} == {4}
    assert body["classification"]
    actions = list(
        AssessmentEvent.objects.filter(assessment=own).order_by("at", "pk").values_list("action")
    )
    assert [a for (a,) in actions] == ["self_submitted", "returned", "self_submitted", "completed"]

    # Final: now the person sees the supervisor's levels.
    mine = client_for(manager).get(url("assessment-detail", own.pk)).json()
    assert {r["supervisor_level"] for r in mine["ratings"]} == {4}


def test_stale_revision_is_409_and_changes_nothing(own, personas):
    manager = personas["manager"]
    first = post(manager, "assessment-self", own, full_self_body(own, own.revision))
    assert first.status_code == 200
    before = snapshot(own)
    stale = post(manager, "assessment-self", own, full_self_body(own, own.revision, level=5))
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "stale"
    assert snapshot(own) == before


def test_incomplete_submit_is_400_with_the_missing_list(own, personas):
    manager = personas["manager"]
    before = snapshot(own)
    response = post(manager, "assessment-submit", own, {"revision": own.revision})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "incomplete"
    fields = [item["field"] for item in error["missing"]]
    assert fields[:2] == ["level-1.1", "level-1.2"]
    assert "industry" in fields
    assert all(item["message"] for item in error["missing"])
    assert set(error["fields"]) == set(fields)
    assert snapshot(own) == before


def test_incomplete_complete_lists_the_supervisor_gaps(own, personas):
    manager, supervisor = personas["manager"], personas["supervisor"]
    saved = post(manager, "assessment-self", own, full_self_body(own, own.revision)).json()
    submitted = post(manager, "assessment-submit", own, {"revision": saved["revision"]}).json()
    response = post(supervisor, "assessment-complete", own, {"revision": submitted["revision"]})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "incomplete"
    assert {"level-1.1", "depth-finance"} <= {item["field"] for item in error["missing"]}
    assert Assessment.objects.get(pk=own.pk).status == "submitted"


def test_a_replayed_submit_stores_one_result(own, personas):
    manager = personas["manager"]
    saved = post(manager, "assessment-self", own, full_self_body(own, own.revision)).json()
    body = {"revision": saved["revision"]}
    assert post(manager, "assessment-submit", own, body).status_code == 200
    replay = post(manager, "assessment-submit", own, body)
    assert replay.status_code == 409
    assert error_of(replay)["code"] == "stale"
    events = AssessmentEvent.objects.filter(assessment=own, action="self_submitted")
    assert events.count() == 1


def test_a_replayed_complete_stores_one_result(own, personas):
    manager, supervisor = personas["manager"], personas["supervisor"]
    saved = post(manager, "assessment-self", own, full_self_body(own, own.revision)).json()
    submitted = post(manager, "assessment-submit", own, {"revision": saved["revision"]}).json()
    reviewed = post(
        supervisor, "assessment-review", own, review_body(own, submitted["revision"])
    ).json()
    body = {"revision": reviewed["revision"]}
    assert post(supervisor, "assessment-complete", own, body).status_code == 200
    assert post(supervisor, "assessment-complete", own, body).status_code == 409
    assert AssessmentEvent.objects.filter(assessment=own, action="completed").count() == 1


def test_a_save_retried_with_its_token_is_accepted_once(own, personas):
    manager = personas["manager"]
    body = {**full_self_body(own, own.revision), "save_token": "tok-1"}
    assert post(manager, "assessment-self", own, body).status_code == 200
    retry = post(manager, "assessment-self", own, body)
    assert retry.status_code == 200, retry.content
    assert Rating.objects.filter(assessment=own).count() == len(codes(own))
    other = post(manager, "assessment-self", own, {**body, "save_token": "tok-2"})
    assert other.status_code == 409


def test_a_rating_left_out_keeps_its_value(own, personas):
    manager = personas["manager"]
    saved = post(manager, "assessment-self", own, full_self_body(own, own.revision)).json()
    body = {"revision": saved["revision"], "ratings": {"1.1": {"level": 5}}}
    response = post(manager, "assessment-self", own, body)
    assert response.status_code == 200
    rating = Rating.objects.get(assessment=own, category__code="1.1")
    assert (rating.self_level, rating.self_comment) == (5, "例")
    assert Rating.objects.get(assessment=own, category__code="1.2").self_level == 3


def test_unknown_codes_are_400(own, personas):
    body = {"revision": own.revision, "ratings": {"9.9": {"level": 3}}, "industries": {"x": {}}}
    response = post(personas["manager"], "assessment-self", own, body)
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"ratings", "industries"}


@pytest.mark.parametrize("level", [0, 6, "three", True])
def test_levels_out_of_range_are_400(own, personas, level):
    body = {"revision": own.revision, "ratings": {"1.1": {"level": level}}}
    response = post(personas["manager"], "assessment-self", own, body)
    assert response.status_code == 400
    assert error_of(response)["fields"]["ratings"]["1.1"]["level"]


# --- fields a manager may never set ---------------------------------------------------------------

FORBIDDEN_TOP = {
    "status": "completed",
    "supervisor_comment": "自己写的主管评语",
    "classification": "t",
    "reviewer": 1,
    "target_grade": "G5",
    "completed_at": "2026-01-01T00:00:00Z",
    "revision_override": 99,
}
FORBIDDEN_RATING = {"supervisor_level": 5, "final_level": 5, "supervisor_comment": "好"}


@pytest.mark.parametrize("field", sorted(FORBIDDEN_TOP))
def test_manager_cannot_set_protected_fields_in_self(own, personas, field):
    before = snapshot(own)
    body = {**full_self_body(own, own.revision), field: FORBIDDEN_TOP[field]}
    response = post(personas["manager"], "assessment-self", own, body)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert snapshot(own) == before


@pytest.mark.parametrize("field", sorted(FORBIDDEN_RATING))
def test_manager_cannot_set_supervisor_or_final_levels(own, personas, field):
    before = snapshot(own)
    body = {
        "revision": own.revision,
        "ratings": {"1.1": {"level": 2, field: FORBIDDEN_RATING[field]}},
    }
    response = post(personas["manager"], "assessment-self", own, body)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]["ratings"]["1.1"]
    assert snapshot(own) == before


def test_manager_cannot_review_complete_or_return_their_own(own, personas):
    manager = personas["manager"]
    saved = post(manager, "assessment-self", own, full_self_body(own, own.revision)).json()
    submitted = post(manager, "assessment-submit", own, {"revision": saved["revision"]}).json()
    before = snapshot(own)
    revision = submitted["revision"]
    assert post(manager, "assessment-review", own, review_body(own, revision)).status_code == 404
    assert post(manager, "assessment-complete", own, {"revision": revision}).status_code == 404
    body = {"revision": revision, "reason": "x"}
    assert post(manager, "assessment-return", own, body).status_code == 404
    assert snapshot(own) == before


def test_supervisor_cannot_review_their_own(api_settings, open_cycle, personas):
    supervisor = personas["supervisor"]
    mine = Assessment.objects.get(cycle=open_cycle, person=supervisor)
    response = post(supervisor, "assessment-review", mine, {"revision": mine.revision})
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_assessments_have_no_generic_writes(own, personas, method):
    before = snapshot(own)
    client = client_for(personas["manager"])
    body = {"status": "completed", "classification": "t", "target_grade": "G5"}
    response = getattr(client, method)(url("assessment-detail", own.pk), body, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert snapshot(own) == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_people_cannot_change_their_grade_or_unit(own, personas, method):
    manager = personas["manager"]
    client = client_for(manager)
    body = {"job_grade": "G5", "org_unit": None, "is_active": False}
    response = getattr(client, method)(url("person-detail", manager.pk), body, format="json")
    assert response.status_code == 405
    manager = User.objects.get(pk=manager.pk)
    assert (manager.job_grade, manager.is_active, manager.org_unit.code) == ("G2", True, "A")


def test_supervisor_cannot_write_final_levels_through_review(own, personas):
    manager, supervisor = personas["manager"], personas["supervisor"]
    saved = post(manager, "assessment-self", own, full_self_body(own, own.revision)).json()
    submitted = post(manager, "assessment-submit", own, {"revision": saved["revision"]}).json()
    before = snapshot(own)
    body = {"revision": submitted["revision"], "ratings": {"1.1": {"level": 3, "final_level": 5}}}
    response = post(supervisor, "assessment-review", own, body)
    assert response.status_code == 400
    body = {"revision": submitted["revision"], "status": "completed"}
    assert post(supervisor, "assessment-review", own, body).status_code == 400
    assert snapshot(own) == before


def test_workflow_step_the_state_forbids_is_409(own, personas):
    manager = personas["manager"]
    saved = post(manager, "assessment-self", own, full_self_body(own, own.revision)).json()
    submitted = post(manager, "assessment-submit", own, {"revision": saved["revision"]}).json()
    before = snapshot(own)
    response = post(manager, "assessment-self", own, full_self_body(own, submitted["revision"]))
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert snapshot(own) == before


def test_closed_cycle_refuses_every_step(own, personas, open_cycle):
    from assessments.services import close_cycle

    close_cycle(cycle=open_cycle, by=personas["hr"])
    own.refresh_from_db()
    response = post(personas["manager"], "assessment-self", own, full_self_body(own, own.revision))
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
