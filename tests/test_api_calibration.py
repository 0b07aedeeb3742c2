"""The calibration API: sessions (open, guide, close, reopen) with their statistics and records,
and adjustments of final levels — with a reason, never of one's own assessment, never touching
the supervisor's level — scoped like the pages, errors in the API's shape and language."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from assessments.models import (
    Assessment,
    CalibrationAdjustment,
    CalibrationSession,
    Cycle,
    Rating,
)
from assessments.services import StaleAssessment

from .test_api_support import client_for, error_of, ids, url
from .test_calibration_helpers import ADJUSTED, calibration_world_fixture  # noqa: F401  (fixture)

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def cal(api_settings, calibration_world):
    return calibration_world


def as_(world, role, language=None):
    return client_for(world["personas"][role], language)


def adjust(client, world, target=None, **changes):
    assessment = Assessment.objects.get(pk=(target or world["manager"]).pk)
    body = {
        "assessment": assessment.pk,
        "category": ADJUSTED,
        "level": 5,
        "reason": "跨部门项目表现突出",
        "revision": assessment.revision,
        **changes,
    }
    return client.post(url("calibration-adjustment-list", world["session"].pk), body, format="json")


def rating(world, assessment=None) -> Rating:
    return Rating.objects.get(assessment=(assessment or world["manager"]), category__code=ADJUSTED)


# --- adjustments ----------------------------------------------------------------------------------


def test_an_adjustment_records_from_and_to_and_keeps_the_supervisors_level(cal):
    response = adjust(as_(cal, "supervisor"), cal)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["from_level"], body["to_level"], body["supervisor_level"]) == (3, 5, 3)
    assert (body["category"], body["reason"]) == (ADJUSTED, "跨部门项目表现突出")
    assert body["actor"] == cal["personas"]["supervisor"].pk
    assert body["person"]["username"] == "manager"
    stored = rating(cal)
    assert (stored.final_level, stored.supervisor_level) == (5, 3)
    listed = as_(cal, "hr").get(url("calibration-adjustment-list", cal["session"].pk)).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    session = as_(cal, "hr").get(url("calibration-session-detail", cal["session"].pk)).json()
    assert session["adjustment_count"] == 1


def test_an_adjustment_needs_a_reason_a_level_and_a_fresh_revision(cal):
    supervisor = as_(cal, "supervisor")
    for changes, field in [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"level": 6}, "level"),
        ({"level": None}, "level"),
        ({"supervisor_level": 5}, "supervisor_level"),
        ({"assessment": cal["outsider"].pk}, "assessment"),
    ]:
        response = adjust(supervisor, cal, **changes)
        assert response.status_code == 400, changes
        assert field in error_of(response)["fields"], changes
    stale = adjust(supervisor, cal, revision=cal["manager"].revision - 1)
    assert stale.status_code == 409 and error_of(stale)["code"] == "stale"
    same = adjust(supervisor, cal, level=3)
    assert same.status_code == 409 and error_of(same)["code"] == "conflict"
    assert not CalibrationAdjustment.objects.exists()
    assert rating(cal).final_level == 3


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_stale_revision_is_answered_in_the_callers_language(cal, language):
    response = adjust(as_(cal, "hr", language), cal, revision=0)
    with translation.override(language):
        expected = str(StaleAssessment())
    assert error_of(response) == {"code": "stale", "message": expected, "fields": {}}


def test_heads_adjust_only_the_people_they_rate(cal):
    own = adjust(as_(cal, "supervisor"), cal, target=cal["head"])
    assert own.status_code == 403 and error_of(own)["code"] == "permission_denied"
    assert adjust(as_(cal, "outsider_supervisor"), cal).status_code == 404
    assert adjust(as_(cal, "manager"), cal).status_code == 403
    assert not CalibrationAdjustment.objects.exists()
    above = adjust(as_(cal, "city_head"), cal, target=cal["head"])
    assert above.status_code == 201
    assert rating(cal, cal["head"]).final_level == 5


# --- sessions -------------------------------------------------------------------------------------


def test_opening_sessions_is_scoped_like_the_page(cal):
    org, cycle = cal["org"], cal["cycle"].pk
    sessions = url("calibration-session-list")
    hr, supervisor = as_(cal, "hr"), as_(cal, "supervisor")
    created = hr.post(sessions, {"cycle": cycle, "org_unit": org["B"].pk}, format="json")
    assert created.status_code == 201 and created.json()["org_unit"] == org["B"].pk
    again = hr.post(sessions, {"cycle": cycle, "org_unit": org["B"].pk}, format="json")
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"
    outside = supervisor.post(sessions, {"cycle": cycle, "org_unit": org["B"].pk}, format="json")
    assert outside.status_code == 400 and "org_unit" in error_of(outside)["fields"]
    draft_cycle = Cycle.objects.create(
        name="草稿",
        model_version=cal["cycle"].model_version,
        self_deadline=date(2027, 1, 1),
        review_deadline=date(2027, 2, 1),
    )
    draft = hr.post(sessions, {"cycle": draft_cycle.pk, "org_unit": org["C2"].pk}, format="json")
    assert draft.status_code == 400 and "cycle" in error_of(draft)["fields"]
    city = as_(cal, "city_head").post(
        sessions, {"cycle": cycle, "org_unit": org["C1"].pk}, format="json"
    )
    assert city.status_code == 201
    assert CalibrationSession.objects.count() == 3


def test_guide_close_and_reopen_are_recorded(cal):
    hr, supervisor = as_(cal, "hr"), as_(cal, "supervisor")
    pk = cal["session"].pk

    def step(client, name, body):
        return client.post(url(f"calibration-session-{name}", pk), body, format="json")

    assert step(hr, "guide", {"shares": [10, 20, 40, 20, 10]}).json()["guide"] == [
        10,
        20,
        40,
        20,
        10,
    ]
    wrong = step(hr, "guide", {"shares": [10, 10, 10, 10, 10]})
    assert wrong.status_code == 400 and "shares" in error_of(wrong)["fields"]
    assert step(hr, "guide", {"shares": None}).json()["guide"] is None
    assert step(supervisor, "guide", {"shares": None}).status_code == 403
    closed = step(supervisor, "close", {"note": "评审会结论"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    locked = adjust(hr, cal)
    assert locked.status_code == 409 and error_of(locked)["code"] == "conflict"
    assert step(supervisor, "reopen", {"reason": "复核"}).status_code == 403
    assert step(hr, "reopen", {}).status_code == 400
    reopened = step(hr, "reopen", {"reason": "复核"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    events = [(e["action"], e["note"]) for e in reopened.json()["events"]]
    assert events == [
        ("opened", ""),
        ("guide_set", ""),
        ("guide_set", ""),
        ("closed", "评审会结论"),
        ("reopened", "复核"),
    ]


def test_the_session_reads_its_statistics_outside_lists(cal):
    hr = as_(cal, "hr")
    detail = hr.get(url("calibration-session-detail", cal["session"].pk)).json()
    raters = {row["reviewer"]: row for row in detail["raters"]["rows"]}
    assert raters[cal["personas"]["supervisor"].pk]["assessments"] == 1  # the manager
    assert raters[cal["personas"]["city_head"].pk]["assessments"] == 1  # the supervisor
    assert len(detail["categories"]) == 12 and detail["categories"][0]["code"] == "1.1"
    assert detail["assessment_count"] == 2
    listed = hr.get(url("calibration-session-list")).json()["results"]
    assert {(row["raters"], row["categories"], row["events"]) for row in listed} == {
        (None, None, None)
    }


def test_session_filters(cal):
    hr, org = as_(cal, "hr"), cal["org"]
    other = hr.post(
        url("calibration-session-list"),
        {"cycle": cal["cycle"].pk, "org_unit": org["B"].pk},
        format="json",
    ).json()["id"]
    sessions = url("calibration-session-list")
    assert ids(hr.get(sessions, {"within": org["C2"].pk})) == {other}
    assert ids(hr.get(sessions, {"org_unit": org["A"].pk})) == {cal["session"].pk}
    assert ids(hr.get(sessions, {"status": "closed"})) == set()
    assert ids(hr.get(sessions, {"cycle": cal["cycle"].pk})) == {other, cal["session"].pk}
    assert ids(as_(cal, "supervisor").get(sessions, {"within": org["C2"].pk})) == set()
    bad = hr.get(sessions, {"status": "half"})
    assert bad.status_code == 400 and "status" in error_of(bad)["fields"]


def _queries(client, path, size) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"page_size": size})
        assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_list_query_counts_do_not_grow_with_rows(cal):
    hr = as_(cal, "hr")
    hr.post(
        url("calibration-session-list"),
        {"cycle": cal["cycle"].pk, "org_unit": cal["org"]["B"].pk},
        format="json",
    )
    assert adjust(hr, cal).status_code == 201
    assert adjust(hr, cal, target=cal["head"]).status_code == 201
    for path in (
        url("calibration-session-list"),
        url("calibration-adjustment-list", cal["session"].pk),
    ):
        _queries(hr, path, 1)  # warm up: one-time lookups are not per-row costs
        small, one = _queries(hr, path, 1)
        large, many = _queries(hr, path, 200)
        assert (one, many, small) == (1, 2, large), path
