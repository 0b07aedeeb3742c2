"""The profile page: the person's T shape, its charts' data and tables, and the development plan."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AuditRecordImmutable
from assessments.models import DevelopmentGoal, GoalComment

from .test_profile_reports import CODES, make_cycle, record, resource

pytestmark = pytest.mark.django_db


def chart_data(response, element_id: str) -> dict:
    html = response.content.decode()
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, f"no {element_id} on the page"
    return json.loads(match.group(1))


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def results(model_version, personas):
    """The manager (G2) has two completed cycles; the newer one has gaps to G3."""
    manager = personas["manager"]
    record(make_cycle(model_version, "2024 年度评估", days_ago=400), manager, 2)
    finals = dict(zip(CODES, [3, 1, 1, 2, 3, 2, 3, 3, 2, 2, 2, 2], strict=True))
    record(
        make_cycle(model_version, "2025 年度评估", days_ago=30),
        manager,
        finals,
        selfs={**finals, "1.2": 3},
        depths={"finance": 3},
    )
    return finals


def goal(person, **extra) -> DevelopmentGoal:
    values = {
        "title": "完成两个IT专线方案",
        "category_code": "1.3",
        "due_date": timezone.localdate() + timedelta(days=60),
    }
    return DevelopmentGoal.objects.create(person=person, **(values | extra))


# --- what the page shows -----------------------------------------------------------------------


def test_own_profile_shows_the_t_shape_with_chart_data_in_model_order(client, results, personas):
    response = as_user(client, personas["manager"]).get(reverse("profiles:mine"))
    assert response.status_code == 200
    radar = chart_data(response, "radar-data")
    assert [a["code"] for a in radar["axes"]] == CODES
    assert [a["domain"] for a in radar["axes"]] == [1] * 5 + [2] * 2 + [3] * 2 + [4] * 3
    assert radar["max"] == 5
    assert radar["series"][0]["values"] == [results[c] for c in CODES]
    assert radar["series"][1]["values"][1] == 3  # the self rating of 1.2
    assert [t["key"] for t in radar["targets"]] == ["current", "next"]
    assert radar["targets"][0]["values"] == [2] * 12
    assert radar["targets"][1]["values"] == [3] * 7 + [2] * 5
    depth = chart_data(response, "depth-data")
    assert depth["series"][0]["values"] == [3] and depth["marks"][0]["value"] == 4
    history = chart_data(response, "history-data")
    assert history["cycles"] == ["2024 年度评估", "2025 年度评估"]
    assert len(history["series"]) == 4 and history["series"][0]["values"][0] == 2.0
    html = response.content.decode()
    assert "发展中" in html and "广度未达标" in html  # the class with its explanation
    assert 'data-code="1.2"' in html and "自评偏高" in html  # self 3 vs supervisor 1


def test_the_breadth_table_prints_the_charts_numbers(client, results, personas):
    response = as_user(client, personas["manager"]).get(reverse("profiles:mine"))
    html = response.content.decode()
    table = html[
        html.index('id="table-breadth"') : html.index("</table>", html.index('id="table-breadth"'))
    ]
    finals = re.findall(r'<td class="num" data-series="0">(\d)</td>', table)
    assert [int(v) for v in finals] == [results[c] for c in CODES]
    assert table.count('data-target="next"') == 12


def test_next_steps_list_the_three_largest_gaps_with_resources(client, results, personas):
    resource("1.2", 3, "zh-hans", title="顾问式销售进阶")
    resource("1.2", 3, "en", title="Consultative selling")
    resource("1.3", 1, "zh-hans", title="太浅的IT入门")
    response = as_user(client, personas["manager"]).get(reverse("profiles:mine"))
    html = response.content.decode()
    steps = html[html.index('id="next-steps"') : html.index('id="history"')]
    assert re.findall(r'class="gap-item domain-\d" data-code="([\d.]+)"', steps) == [
        "1.2",
        "1.3",
        "1.4",
    ]
    assert steps.index("顾问式销售进阶") < steps.index("C-1.2-3-en")
    assert "太浅的IT入门" not in steps


def test_a_profile_without_results_says_so_and_loads_no_chart_script(client, personas):
    response = as_user(client, personas["outsider"]).get(reverse("profiles:mine"))
    html = response.content.decode()
    assert "您还没有已完成的评估" in html
    assert "echarts.min.js" not in html and "radar-data" not in html
    assert 'id="plan"' in html  # the plan is there from the start


def test_pages_carry_no_inline_code(client, results, personas):
    response = as_user(client, personas["manager"]).get(reverse("profiles:mine"))
    html = response.content.decode()
    tags = re.findall(r"<script[^>]*>", html)
    assert len(tags) == 5  # three chart data blocks, ECharts, our script
    for tag in tags:
        assert 'type="application/json"' in tag or ('src="/static/' in tag and "defer" in tag), tag
    assert not re.search(r"\son[a-z]+=", html)


def test_the_page_follows_the_language(client, results, personas):
    client = as_user(client, personas["manager"])
    client.cookies["django_language"] = "en"
    response = client.get(reverse("profiles:mine"))
    assert '<html lang="en">' in response.content.decode()
    radar = chart_data(response, "radar-data")
    assert radar["axes"][0]["name"] == "1.1 Information skills"


def test_a_supervisor_sees_the_members_profile_read_only_with_comment_boxes(
    client, results, personas
):
    goal(personas["manager"])
    url = reverse("profiles:person", args=[personas["manager"].pk])
    html = as_user(client, personas["supervisor"]).get(url).content.decode()
    assert "goal-comment-form" in html and "goal-add-form" not in html and "goal-edit" not in html
    html = as_user(client, personas["hr"]).get(url).content.decode()
    assert "goal-comment-form" not in html and "完成两个IT专线方案" in html


def test_the_profile_page_takes_a_fixed_number_of_queries(client, results, personas, model_version):
    goal(personas["manager"])
    client = as_user(client, personas["supervisor"])
    url = reverse("profiles:person", args=[personas["manager"].pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(3):
        record(make_cycle(model_version, f"追加 {n}", days_ago=5 - n), personas["manager"], 2)
        goal(personas["manager"], title=f"目标 {n}")
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(few) == len(more) <= 16, [q["sql"][:90] for q in more]


# --- the development plan ----------------------------------------------------------------------


def goal_post(**extra) -> dict:
    return {
        "title": "主导一个政务云项目",
        "category_code": "2.1",
        "due_date": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "status": "planned",
    } | extra


def test_the_manager_adds_a_goal_to_their_own_plan(client, results, personas):
    client = as_user(client, personas["manager"])
    response = client.post(reverse("profiles:goal-add"), goal_post())
    assert response.status_code == 302 and response.url == reverse("profiles:mine")
    added = DevelopmentGoal.objects.get()
    assert (added.person, added.category_code, added.status) == (
        personas["manager"],
        "2.1",
        "planned",
    )
    html = client.get(reverse("profiles:mine")).content.decode()
    assert "主导一个政务云项目" in html and "2.1 项目管理" in html


@pytest.mark.parametrize(
    ("field", "value"),
    [("due_date", "2000-01-01"), ("category_code", "9.9"), ("title", ""), ("status", "won")],
)
def test_an_invalid_goal_is_refused_with_the_reason(client, results, personas, field, value):
    response = as_user(client, personas["manager"]).post(
        reverse("profiles:goal-add"), goal_post(**{field: value})
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not DevelopmentGoal.objects.exists()


def test_the_manager_edits_status_and_an_old_due_date_may_stay(client, personas):
    mine = goal(personas["manager"])
    DevelopmentGoal.objects.filter(pk=mine.pk).update(
        due_date=timezone.localdate() - timedelta(days=3)
    )
    client = as_user(client, personas["manager"])
    url = reverse("profiles:goal-edit", args=[mine.pk])
    assert client.get(url).status_code == 200
    data = goal_post(
        title=mine.title,
        category_code="1.3",
        due_date=(timezone.localdate() - timedelta(days=3)).isoformat(),
        status="done",
    )
    assert client.post(url, data).status_code == 302
    mine.refresh_from_db()
    assert mine.status == "done"


def test_nobody_edits_someone_elses_goal(client, personas):
    theirs = goal(personas["manager"])
    for who in ("supervisor", "hr", "outsider"):
        response = as_user(client, personas[who]).post(
            reverse("profiles:goal-edit", args=[theirs.pk]), goal_post(status="dropped")
        )
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "planned"


def test_the_supervisor_comments_and_comments_are_append_only(client, personas):
    target = goal(personas["manager"])
    url = reverse("profiles:goal-comment", args=[target.pk])
    response = as_user(client, personas["supervisor"]).post(url, {"note": "先从专线组网开始。"})
    assert response.status_code == 302
    assert response.url.endswith(f"#goal-{target.pk}")
    as_user(client, personas["city_head"]).post(url, {"note": "同意，季度末复盘。"})
    comments = list(GoalComment.objects.filter(goal=target))
    assert [(c.actor, c.note) for c in comments] == [
        (personas["supervisor"], "先从专线组网开始。"),
        (personas["city_head"], "同意，季度末复盘。"),
    ]
    first = comments[0]
    first.note = "改写"
    with pytest.raises(AuditRecordImmutable):
        first.save()
    with pytest.raises(AuditRecordImmutable):
        first.delete()
    with pytest.raises(AuditRecordImmutable):
        GoalComment.objects.filter(goal=target).update(note="x")
    with pytest.raises(AuditRecordImmutable):
        GoalComment.objects.filter(goal=target).delete()
    html = as_user(client, personas["manager"]).get(reverse("profiles:mine")).content.decode()
    assert "先从专线组网开始。" in html and "同意，季度末复盘。" in html


def test_an_empty_comment_adds_nothing(client, personas):
    target = goal(personas["manager"])
    response = as_user(client, personas["supervisor"]).post(
        reverse("profiles:goal-comment", args=[target.pk]), {"note": "   "}, follow=True
    )
    assert "评语不能为空" in response.content.decode()
    assert not GoalComment.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("manager", 403), ("hr", 403), ("outsider_supervisor", 404)]
)
def test_only_supervisors_comment(client, personas, who, status):
    target = goal(personas["manager"])
    response = as_user(client, personas[who]).post(
        reverse("profiles:goal-comment", args=[target.pk]), {"note": "看起来不错"}
    )
    assert response.status_code == status
    assert not GoalComment.objects.exists()


@pytest.mark.parametrize(
    ("grade", "targets", "text"),
    [
        ("G5", ["current"], "已是最高职级"),
        ("", ["next"], "距离下一职级 G1"),
        ("G9", ["next"], "G1"),
    ],
)
def test_the_top_grade_and_no_grade_render(client, model_version, personas, grade, targets, text):
    manager = personas["manager"]
    manager.job_grade = grade
    manager.save()
    record(make_cycle(model_version), manager, 3)
    response = as_user(client, manager).get(reverse("profiles:mine"))
    assert [t["key"] for t in chart_data(response, "radar-data")["targets"]] == targets
    html = response.content.decode()
    assert text in html and 'data-chart-switch="chart-radar"' not in html
