"""The team dashboard: a supervisor's subtree, HR's drill-down from the province, fixed queries."""

import re

import pytest
from django.urls import reverse

from assessments.models import Cycle
from assessments.profiles import reports

from .test_profile_pages import as_user, chart_data
from .test_profile_reports import CODES, bulk_team, make_cycle, record

pytestmark = pytest.mark.django_db

TEAM = reverse("profiles:team")


@pytest.fixture
def cycle(model_version, personas):
    """A closed cycle: manager (G2) and supervisor completed in team A, outsider in team B."""
    cycle = make_cycle(model_version)
    record(cycle, personas["manager"], {**dict.fromkeys(CODES, 2), "1.3": 1})
    record(cycle, personas["supervisor"], 3, grade="G3")
    record(cycle, personas["outsider"], 1)
    return cycle


def test_the_supervisor_opens_their_team_by_default(client, cycle, personas, org):
    response = as_user(client, personas["supervisor"]).get(TEAM)
    assert response.status_code == 200
    assert response.context["unit"] == org["A"] and response.context["cycle"] == cycle
    html = response.content.decode()
    assert f'data-person="{personas["manager"].pk}"' in html
    assert f'data-person="{personas["outsider"].pk}"' not in html
    link = reverse("profiles:person", args=[personas["manager"].pk])
    assert f'href="{link}"' in html  # click a member → their profile


def test_the_charts_data_equals_the_tables(client, cycle, personas):
    response = as_user(client, personas["supervisor"]).get(TEAM)
    report = response.context["report"]
    shapes = chart_data(response, "shapes-data")
    assert shapes["series"][0]["values"] == [row["n"] for row in report.summary["shapes"]]
    means = chart_data(response, "means-data")
    assert [a["code"] for a in means["axes"]] == CODES
    assert means["series"][0]["values"] == [m["mean"] for m in report.means]
    assert means["series"][0]["values"][2] == 2.0  # 1.3: manager 1, supervisor 3
    assert means["series"][1]["values"][2] == 2.5  # targets G2 = 2 and G3 = 3
    heatmap = chart_data(response, "heatmap-data")
    assert len(heatmap["members"]) == 2 and len(heatmap["series"][0]["cells"]) == 24
    html = response.content.decode()
    table = html[html.index('id="table-means"') :]
    table = table[: table.index("</table>")]
    printed = re.findall(r'data-series="0">([\d.]+)</td>', table)
    assert [float(v) for v in printed] == means["series"][0]["values"]


def test_hr_starts_at_the_province_and_drills_down_to_a_team(client, cycle, personas, org):
    client = as_user(client, personas["hr"])
    response = client.get(TEAM)
    assert response.context["unit"] == org["P"]
    children = {row["unit"].code: row for row in response.context["report"].children}
    assert set(children) == {"C1", "C2"}
    assert (children["C1"]["total"], children["C1"]["completion"]) == (2, 100.0)
    html = response.content.decode()
    assert f'href="?unit={org["C1"].pk}&amp;cycle={cycle.pk}"' in html
    response = client.get(TEAM, {"unit": org["C1"].pk, "cycle": cycle.pk})
    assert [u.code for u in response.context["trail"]] == ["P", "C1"]
    response = client.get(TEAM, {"unit": org["A"].pk, "cycle": cycle.pk})
    assert [u.code for u in response.context["trail"]] == ["P", "C1", "A"]
    assert response.context["report"].summary["total"] == 2


def test_completion_counts_unfinished_assessments(client, cycle, personas, org):
    from assessments.models import Assessment

    Assessment.objects.create(cycle=cycle, person=personas["city_head"], org_unit=org["C1"])
    response = as_user(client, personas["hr"]).get(TEAM, {"unit": org["C1"].pk})
    summary = response.context["report"].summary
    assert (summary["total"], summary["completed"], summary["completion"]) == (3, 2, 66.7)
    assert "已完成 2 / 3（66.7%）" in response.content.decode()


def test_the_city_head_sees_the_trail_only_from_their_own_unit(client, cycle, personas, org):
    response = as_user(client, personas["city_head"]).get(TEAM, {"unit": org["A"].pk})
    assert [u.code for u in response.context["trail"]] == ["C1", "A"]


@pytest.mark.parametrize(
    ("who", "unit", "status"),
    [
        ("supervisor", "C1", 404),
        ("supervisor", "B", 404),
        ("outsider_supervisor", "A", 404),
        ("city_head", "P", 404),
        ("city_head", "A", 200),
        ("hr", "B", 200),
    ],
)
def test_a_unit_outside_the_subtree_is_404(client, cycle, personas, org, who, unit, status):
    response = as_user(client, personas[who]).get(TEAM, {"unit": org[unit].pk})
    assert response.status_code == status


@pytest.mark.parametrize("value", ["999999", "x"])
def test_an_unknown_unit_or_cycle_is_404(client, cycle, personas, value):
    client = as_user(client, personas["hr"])
    assert client.get(TEAM, {"unit": value}).status_code == 404
    assert client.get(TEAM, {"cycle": value}).status_code == 404


def test_draft_cycles_are_not_offered(client, cycle, personas, model_version):
    draft = make_cycle(model_version, "草稿周期", status=Cycle.Status.DRAFT)
    response = as_user(client, personas["hr"]).get(TEAM, {"cycle": draft.pk})
    assert response.status_code == 404


def test_without_any_cycle_the_page_says_so(client, personas, model_version):
    response = as_user(client, personas["supervisor"]).get(TEAM)
    assert response.status_code == 200
    assert "还没有开始过评估周期" in response.content.decode()


def test_an_earlier_cycle_can_be_chosen(client, cycle, personas, model_version):
    older = make_cycle(model_version, "2024 年度评估", days_ago=400)
    record(older, personas["manager"], 1)
    client = as_user(client, personas["supervisor"])
    assert client.get(TEAM).context["cycle"] == cycle
    response = client.get(TEAM, {"cycle": older.pk})
    assert response.context["report"].summary["completed"] == 1


def test_the_heatmap_is_paged(client, model_version, personas, org):
    cycle = make_cycle(model_version)
    bulk_team(cycle, org["A"], reports.HEATMAP_PAGE_SIZE + 3)
    client = as_user(client, personas["supervisor"])
    first = client.get(TEAM)
    assert len(first.context["report"].heatmap) == reports.HEATMAP_PAGE_SIZE
    second = client.get(TEAM, {"cycle": cycle.pk, "unit": org["A"].pk, "page": 2})
    assert len(second.context["report"].heatmap) == 3
    assert second.context["report"].summary["total"] == reports.HEATMAP_PAGE_SIZE + 3


def test_the_team_page_in_english(client, cycle, personas):
    client = as_user(client, personas["hr"])
    client.cookies["django_language"] = "en"
    response = client.get(TEAM)
    assert '<html lang="en">' in response.content.decode()
    assert chart_data(response, "means-data")["axes"][0]["name"] == "1.1 Information skills"
    assert "Province" in response.content.decode()


@pytest.mark.parametrize("members", [5, 500])
def test_the_team_page_takes_a_fixed_number_of_queries(
    client, model_version, personas, org, members, django_assert_max_num_queries
):
    cycle = make_cycle(model_version)
    bulk_team(cycle, org["A"], members)
    make_cycle(model_version, "2024 年度评估", days_ago=400)
    supervisor = as_user(client, personas["supervisor"])
    supervisor.get(TEAM)
    # session, user, roles, headed units, their subtrees' unit ids, roots, unit, cycles, trail and
    # the report's ten
    with django_assert_max_num_queries(19):
        response = supervisor.get(TEAM, {"unit": org["A"].pk, "cycle": cycle.pk})
    assert response.context["report"].summary["total"] == members
    hr = as_user(client, personas["hr"])
    with django_assert_max_num_queries(17):
        response = hr.get(TEAM, {"unit": org["P"].pk, "cycle": cycle.pk, "page": 2})
    assert response.context["report"].summary["total"] == members


def test_a_head_of_several_units_starts_at_the_first_and_may_switch(client, cycle, personas, org):
    head = personas["supervisor"]
    org["B"].heads.add(head)
    org["C1"].heads.add(personas["city_head"])
    org["A"].heads.add(personas["city_head"])  # inside C1: not a separate starting point
    response = as_user(client, head).get(TEAM)
    assert [u.code for u in response.context["roots"]] == ["A", "B"]
    assert response.context["unit"] == org["A"]
    assert f'href="?unit={org["B"].pk}&amp;cycle={cycle.pk}"' in response.content.decode()
    assert as_user(client, head).get(TEAM, {"unit": org["B"].pk}).status_code == 200
    city = as_user(client, personas["city_head"]).get(TEAM)
    assert [u.code for u in city.context["roots"]] == ["C1"]
