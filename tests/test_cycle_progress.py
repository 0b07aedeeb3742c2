"""Progress per org unit, who is late, reminders, and the fixed query counts behind them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.permissions import Role
from assessments import reports
from assessments import tasks as assessment_tasks
from assessments.models import Assessment, Cycle
from assessments.services import close_cycle, return_assessment
from assessments.services import open_cycle as open_cycle_service

from .assessment_helpers import complete, fill_self, submit
from .factories import OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

# status columns: not started, self in progress, submitted, returned, completed, not completed
EXPECTED = {
    "P": [2, 1, 1, 1, 2, 0],
    "C1": [1, 1, 1, 1, 1, 0],
    "A": [1, 0, 1, 1, 1, 0],
    "C2": [1, 0, 0, 0, 1, 0],
    "B": [1, 0, 0, 0, 1, 0],
}


def mine(cycle, user):
    return Assessment.objects.get(cycle=cycle, person=user)


def set_deadlines(cycle, self_days: int, review_days: int):
    """Deadlines relative to today (negative: in the past)."""
    today = timezone.localdate()
    Cycle.objects.filter(pk=cycle.pk).update(
        self_deadline=today + timedelta(days=self_days),
        review_deadline=today + timedelta(days=review_days),
    )


@pytest.fixture
def busy_cycle(draft_cycle, personas, org, hr):
    """Seven people over the province, in every state but "not completed".

    A: manager (returned), supervisor (completed), extra (submitted), idle (not started);
    C1: city head (self in progress); B: outsider (completed), outsider's head (not started).
    """
    extra = UserFactory(username="extra", org_unit=org["A"], roles=[Role.MANAGER])
    UserFactory(username="idle", org_unit=org["A"], roles=[Role.MANAGER], preferred_language="en")
    OrgUnitFactory(code="D", name_zh="丙队", parent=org["C2"])  # no participants: no row
    open_cycle_service(cycle=draft_cycle, by=hr)
    returned = submit(mine(draft_cycle, personas["manager"]))
    return_assessment(
        assessment=returned, by=personas["supervisor"], revision=returned.revision, reason="补充"
    )
    submit(mine(draft_cycle, extra))
    complete(submit(mine(draft_cycle, personas["supervisor"])), personas["city_head"])
    fill_self(mine(draft_cycle, personas["city_head"]))
    complete(submit(mine(draft_cycle, personas["outsider"])), personas["outsider_supervisor"])
    draft_cycle.refresh_from_db()
    return draft_cycle


def by_code(rows):
    return {row["unit"].code: row for row in rows}


def test_counts_per_unit_cover_the_subtree_in_tree_order(busy_cycle):
    rows = reports.cycle_progress(busy_cycle)
    assert [row["unit"].code for row in rows] == ["P", "C1", "A", "C2", "B"]
    for code, row in by_code(rows).items():
        assert row["status_counts"] == EXPECTED[code], code
        assert row["total"] == sum(EXPECTED[code])
        assert row["late"] == 0
    rows = by_code(rows)
    assert rows["P"]["completion"] == 28.6  # 2 of 7
    assert rows["C1"]["completion"] == 20.0 and rows["A"]["completion"] == 25.0
    assert rows["B"]["completed"] == 1 and rows["B"]["completion"] == 50.0
    assert rows["A"]["counts"][Assessment.Status.RETURNED] == 1
    total = reports.progress_total(reports.cycle_progress(busy_cycle))
    assert total["total"] == 7 and total["completed"] == 2 and total["unfinished"] == 5


def test_late_after_the_self_deadline_only_the_self_phase(busy_cycle):
    set_deadlines(busy_cycle, self_days=-3, review_days=5)
    rows = by_code(reports.cycle_progress(busy_cycle))
    # not started, in progress and returned are late; submitted still has time
    assert {code: row["late"] for code, row in rows.items()} == {
        "P": 4,
        "C1": 3,
        "A": 2,
        "C2": 1,
        "B": 1,
    }
    assert rows["P"]["late_review"] == 0
    late = reports.late_assessments(busy_cycle)
    assert {a.person.username for a in late} == {"manager", "idle", "cityhead", "outsidersup"}
    assert {a.late_phase for a in late} == {"self"}


def test_late_after_both_deadlines_includes_the_waiting_reviews(busy_cycle, org):
    set_deadlines(busy_cycle, self_days=-3, review_days=-1)
    rows = by_code(reports.cycle_progress(busy_cycle))
    assert (rows["P"]["late_self"], rows["P"]["late_review"], rows["P"]["late"]) == (4, 1, 5)
    assert rows["A"]["late"] == 3
    in_a = reports.late_assessments(busy_cycle, unit=org["A"])
    assert {(a.person.username, a.late_phase) for a in in_a} == {
        ("manager", "self"),
        ("idle", "self"),
        ("extra", "review"),
    }


def test_nobody_is_late_on_the_deadline_day_itself(busy_cycle):
    set_deadlines(busy_cycle, self_days=0, review_days=0)
    assert reports.progress_total(reports.cycle_progress(busy_cycle))["late"] == 0
    assert not reports.late_assessments(busy_cycle).exists()


def test_closing_counts_the_unfinished_as_not_completed(busy_cycle, hr):
    set_deadlines(busy_cycle, self_days=-3, review_days=-1)
    assert close_cycle(cycle=busy_cycle, by=hr) == 5
    rows = by_code(reports.cycle_progress(busy_cycle))
    assert rows["P"]["status_counts"] == [0, 0, 0, 0, 2, 5]
    assert rows["P"]["completion"] == 28.6 and rows["P"]["late"] == 0


def test_people_without_a_unit_get_their_own_row(draft_cycle, personas, hr):
    loner = UserFactory(username="loner", org_unit=None, roles=[Role.MANAGER])
    draft_cycle.participant_people.add(loner)
    open_cycle_service(cycle=draft_cycle, by=hr)
    rows = reports.cycle_progress(draft_cycle)
    assert rows[-1]["unit"] is None and rows[-1]["total"] == 1
    assert reports.progress_total(rows)["total"] == 6


@pytest.mark.parametrize("extra_people", [0, 45])
def test_progress_takes_two_queries_whatever_the_size(
    draft_cycle, personas, org, hr, extra_people, django_assert_num_queries
):
    UserFactory.create_batch(extra_people, org_unit=org["B"], roles=[Role.MANAGER])
    open_cycle_service(cycle=draft_cycle, by=hr)
    set_deadlines(draft_cycle, self_days=-1, review_days=1)
    with django_assert_num_queries(2):
        rows = reports.cycle_progress(draft_cycle)
    assert rows[0]["total"] == 5 + extra_people and rows[0]["late"] == 5 + extra_people


def test_the_detail_page_shows_progress_and_filters_the_late_list(client, busy_cycle, hr, org):
    set_deadlines(busy_cycle, self_days=-3, review_days=-1)
    client.force_login(hr)
    url = reverse("assessments:cycle-detail", args=[busy_cycle.pk])
    response = client.get(url)
    page = response.content.decode()
    assert f"{url}?unit={org['A'].pk}#late" in page  # each row links to its late people
    a_row = page.split('data-unit="A"')[1].split("</tr>")[0]
    assert "25.0%" in a_row and ">3</a>" in a_row
    assert response.context["late_page"].paginator.count == 5
    response = client.get(url, {"unit": org["B"].pk})
    assert [a.person.username for a in response.context["late_page"]] == ["outsidersup"]
    assert client.get(url, {"unit": "x"}).context["late_page"].paginator.count == 5


def test_the_late_list_is_paginated(client, draft_cycle, org, hr):
    UserFactory.create_batch(30, org_unit=org["B"], roles=[Role.MANAGER])
    open_cycle_service(cycle=draft_cycle, by=hr)
    set_deadlines(draft_cycle, self_days=-1, review_days=1)
    client.force_login(hr)
    url = reverse("assessments:cycle-detail", args=[draft_cycle.pk])
    first = client.get(url).context["late_page"]
    assert first.paginator.count == 30 and len(first) == 25
    assert len(client.get(url, {"page": 2}).context["late_page"]) == 5


@pytest.mark.parametrize("extra_people", [0, 45])
def test_the_detail_page_takes_a_fixed_number_of_queries(
    client, draft_cycle, personas, org, hr, extra_people
):
    UserFactory.create_batch(extra_people, org_unit=org["B"], roles=[Role.MANAGER])
    open_cycle_service(cycle=draft_cycle, by=hr)
    set_deadlines(draft_cycle, self_days=-1, review_days=1)
    client.force_login(hr)
    url = reverse("assessments:cycle-detail", args=[draft_cycle.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.context["total"]["total"] == 5 + extra_people
    # session, user, roles, cycle, grouped counts, units, late count + page, units, people
    assert len(queries) == 10, [q["sql"][:80] for q in queries]


def test_the_draft_detail_page_takes_a_fixed_number_of_queries(
    client, draft_cycle, personas, org, hr, django_assert_max_num_queries
):
    client.force_login(hr)
    url = reverse("assessments:cycle-detail", args=[draft_cycle.pk])
    client.get(url)
    UserFactory.create_batch(30, org_unit=org["B"], roles=[Role.MANAGER])
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert response.context["participant_count"] == 35


def test_remind_queues_the_task_and_mails_the_late_in_their_language(
    client,
    busy_cycle,
    personas,
    hr,
    mailoutbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    set_deadlines(busy_cycle, self_days=-3, review_days=-1)
    rendered = []
    real_render = assessment_tasks.render_to_string

    def spy(template, context=None, *args, **kwargs):
        rendered.append((context["person"].username, translation.get_language()))
        return real_render(template, context, *args, **kwargs)

    monkeypatch.setattr(assessment_tasks, "render_to_string", spy)
    client.force_login(hr)
    url = reverse("assessments:cycle-remind", args=[busy_cycle.pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, follow=True)
    assert len(callbacks) == 1
    assert "4 人自评逾期" in response.content.decode()
    assert "1 份评估的主管评价逾期" in response.content.decode()
    recipients = {m.to[0] for m in mailoutbox}
    late_people = ["manager", "idle", "cityhead", "outsidersup"]
    # self phase: the late people themselves; review phase: the supervisor of "extra"
    assert recipients == {f"{u}@example.com" for u in [*late_people, "supervisor"]}
    languages = dict(rendered)
    assert languages["idle"] == "en"
    assert {languages[u] for u in late_people if u != "idle"} == {"zh-hans"}
    idle_mail = next(m for m in mailoutbox if m.to == ["idle@example.com"])
    assert busy_cycle.name in idle_mail.subject


def test_remind_with_nobody_late_queues_nothing(
    client, busy_cycle, hr, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(hr)
    url = reverse("assessments:cycle-remind", args=[busy_cycle.pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, follow=True)
    assert not callbacks and not mailoutbox
    assert "目前没有逾期的评估" in response.content.decode()


def test_remind_is_only_for_open_cycles(
    client, draft_cycle, hr, django_capture_on_commit_callbacks
):
    client.force_login(hr)
    url = reverse("assessments:cycle-remind", args=[draft_cycle.pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, follow=True)
    assert not callbacks and "只有进行中的评估周期可以发送提醒" in response.content.decode()
