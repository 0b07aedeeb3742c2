"""In real Chromium: the profile and team dashboards draw their ECharts SVG charts with the right
series, the tables print the charts' numbers, the plan takes goals and comments, and people
outside the subtree get 404."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .browser import sign_in
from .factories import DEMO_PASSWORD, UserFactory
from .test_profile_reports import CODES, make_cycle, record, resource

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"profile-{name}.png"), full_page=True)


def open_as(page, live_server, username: str, url: str):
    sign_in(page, live_server, username, DEMO_PASSWORD)
    page.wait_for_selector(".whoami")
    return page.goto(live_server.url + url)


def chart(page, element_id: str) -> dict:
    """What ECharts drew: the series count, each series' data, and how much SVG is there."""
    selector = f"#{element_id}"
    expect(page.locator(selector)).to_have_attribute("data-drawn", "true")
    return page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            const option = echarts.getInstanceByDom(el).getOption();
            return {
              series: option.series.map((s) => ({
                name: s.name,
                type: s.type,
                data: s.data.map((d) => (d && d.value !== undefined ? d.value : d)),
              })),
              svg: el.querySelectorAll("svg").length,
              paths: el.querySelectorAll("svg path").length,
              texts: Array.from(el.querySelectorAll("svg text")).map((t) => t.textContent),
            };
        }""",
        selector,
    )


def column(page, table_id: str, series: int) -> list:
    cells = page.locator(f'#{table_id} td[data-series="{series}"]').all_inner_texts()
    return [None if v.strip() == "—" else float(v) for v in cells]


@pytest.fixture
def history(model_version, personas):
    """The manager (G2) completed two cycles; in the newer one the supervisor (G3) and the
    outsider in team B did too."""
    manager = personas["manager"]
    record(
        make_cycle(model_version, "2024 年度评估", days_ago=400), manager, 2, depths={"finance": 2}
    )
    newer = make_cycle(model_version, "2025 年度评估", days_ago=30)
    finals = dict(zip(CODES, [3, 1, 1, 2, 3, 2, 3, 3, 2, 2, 2, 2], strict=True))
    record(
        newer,
        manager,
        finals,
        selfs={**finals, "1.2": 3, "2.1": 1},
        depths={"finance": 3, "education": 4},
    )
    record(newer, personas["supervisor"], {**dict.fromkeys(CODES, 3), "1.3": 1}, grade="G3")
    record(newer, personas["outsider"], 1)
    return finals


def test_the_manager_sees_their_t_shape_drawn_and_tabled(live_server, page, history, personas):
    resource("1.2", 3, "zh-hans", title="顾问式销售工作坊")
    open_as(page, live_server, "manager", reverse("profiles:mine"))
    expect(page.locator("h1")).to_have_text("我的T型画像")
    expect(page.locator(".shape-explanation")).to_contain_text("广度未达标")

    radar = chart(page, "chart-radar")
    assert radar["svg"] == 1 and radar["paths"] > 12
    assert [s["type"] for s in radar["series"]] == ["radar"] * 3
    assert radar["series"][0]["data"][0] == column(page, "table-breadth", 0)
    assert radar["series"][1]["data"][0] == column(page, "table-breadth", 1)
    # the axes in the model's domain order, labelled in the SVG
    labels = [t for t in radar["texts"] if re.match(r"^\d\.\d ", t)]
    assert [t.split(" ")[0] for t in labels] == CODES
    current = [
        float(v) for v in page.locator('#table-breadth td[data-target="current"]').all_inner_texts()
    ]
    assert radar["series"][2]["data"][0] == current

    page.check('input[name="radar-target"][value="1"]')
    expect(page.locator("#chart-radar")).to_have_attribute("data-target", "next")
    switched = chart(page, "chart-radar")
    following = [
        float(v) for v in page.locator('#table-breadth td[data-target="next"]').all_inner_texts()
    ]
    assert len(switched["series"]) == 3 and switched["series"][2]["data"][0] == following

    depth = chart(page, "chart-depth")
    assert len(depth["series"]) == 1 and depth["series"][0]["data"] == column(
        page, "table-depth", 0
    )
    growth = chart(page, "chart-history")
    assert len(growth["series"]) == 4
    for i, s in enumerate(growth["series"]):
        assert s["data"] == column(page, "table-history", i)

    expect(page.locator("#next-steps .gap-item")).to_have_count(3)
    expect(page.locator("#next-steps")).to_contain_text("顾问式销售工作坊")
    shoot(page, "manager")
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator("#goal-add-form")).to_be_hidden()
    for element_id in ("chart-radar", "chart-depth", "chart-history"):
        box = page.locator(f"#{element_id} svg").bounding_box()
        assert box and box["height"] > 100 and box["width"] > 300, element_id
    shoot(page, "manager-print")


def test_the_plan_takes_goals_and_supervisor_comments(live_server, page, history, personas):
    open_as(page, live_server, "manager", reverse("profiles:mine"))
    form = page.locator("#goal-add-form")
    form.locator("#id_title").fill("完成两个专线组网方案并与客户IT部门评审")
    form.locator("#id_category_code").select_option("1.3")
    form.locator("#id_due_date").fill("2030-06-30")
    form.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("已添加发展目标")
    goal = page.locator(".goal").first
    expect(goal).to_contain_text("1.3 IT知识")
    page.click("text=退出")

    open_as(
        page, live_server, "supervisor", reverse("profiles:person", args=[personas["manager"].pk])
    )
    page.locator(".goal-comment-form textarea").first.fill("先从政务客户的专线开始。")
    page.locator(".goal-comment-form button").first.click()
    expect(page.locator(".goal-comment")).to_contain_text("先从政务客户的专线开始。")
    shoot(page, "plan-commented")


def test_the_supervisor_reads_the_team_and_clicks_through(
    live_server, page, history, personas, org
):
    open_as(page, live_server, "supervisor", reverse("profiles:team"))
    expect(page.locator("h1")).to_contain_text("甲队")
    shapes = chart(page, "chart-shapes")
    assert len(shapes["series"]) == 1 and shapes["series"][0]["data"] == column(
        page, "table-shapes", 0
    )
    means = chart(page, "chart-means")
    assert len(means["series"]) == 2
    assert means["series"][0]["data"] == column(page, "table-means", 0)
    assert means["series"][1]["data"] == column(page, "table-means", 1)
    heat = chart(page, "chart-heatmap")
    assert len(heat["series"]) == 1 and len(heat["series"][0]["data"]) == 2 * 12
    finals = page.locator("#table-heatmap td.heat-cell").evaluate_all(
        "cells => cells.map(c => Number(c.dataset.final))"
    )
    assert sorted(cell[2] for cell in heat["series"][0]["data"]) == sorted(finals)
    # the manager (G2) is one short in 1.2 and 1.3; the supervisor (G3) two short in 1.3
    expect(page.locator("#table-heatmap td.cell-gap-1")).to_have_count(2)
    expect(page.locator("#table-heatmap td.cell-gap-2")).to_have_count(1)
    shoot(page, "team-supervisor")

    page.locator(f'#table-heatmap tr[data-person="{personas["manager"].pk}"] a').click()
    page.wait_for_url(re.compile(rf"/profile/people/{personas['manager'].pk}/$"))
    expect(page.locator("#chart-radar")).to_have_attribute("data-drawn", "true")


def test_names_in_tooltips_are_text_not_html(live_server, page, history, personas):
    personas["manager"].display_name = '<img id="xss" src="x">周婷'
    personas["manager"].save()
    open_as(page, live_server, "supervisor", reverse("profiles:team"))
    chart(page, "chart-heatmap")
    for index in (0, 12):  # one cell of each member's row
        page.evaluate(
            """(i) => echarts.getInstanceByDom(document.getElementById("chart-heatmap"))
                .dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: i})""",
            index,
        )
        expect(page.locator("#chart-heatmap")).to_contain_text("·")
        expect(page.locator("#xss")).to_have_count(0)
    expect(page.locator("#table-heatmap")).to_contain_text('<img id="xss" src="x">周婷')


def test_hr_drills_down_from_the_province_to_a_team(live_server, page, history, personas, org):
    open_as(page, live_server, "hr", reverse("profiles:team"))
    expect(page.locator("h1")).to_contain_text("省公司")
    expect(page.locator(".drilldown tbody tr")).to_have_count(2)
    expect(page.locator(".team-completion")).to_contain_text("已完成 3 / 3")
    shoot(page, "team-hr-province")
    page.click(".drilldown >> text=甲市分公司")
    expect(page.locator("h1")).to_contain_text("甲市分公司")
    page.click(".drilldown >> text=甲队")
    expect(page.locator("h1")).to_contain_text("甲队")
    expect(page.locator(".trail li")).to_have_count(3)
    assert len(chart(page, "chart-means")["series"]) == 2
    shoot(page, "team-hr-team")


def test_in_english_the_charts_speak_english(live_server, page, history, personas):
    personas["manager"].preferred_language = "en"
    personas["manager"].save()
    open_as(page, live_server, "manager", reverse("profiles:mine"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    radar = chart(page, "chart-radar")
    assert any(t.startswith("1.1 Information skills") for t in radar["texts"])
    shoot(page, "manager-en")


def test_outside_the_subtree_is_404(live_server, page, history, personas, org):
    sign_in(page, live_server, "outsidersup", DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")
    response = page.goto(
        live_server.url + reverse("profiles:person", args=[personas["manager"].pk])
    )
    assert response.status == 404
    response = page.goto(live_server.url + reverse("profiles:team") + f"?unit={org['A'].pk}")
    assert response.status == 404
    stranger = UserFactory(username="stranger", org_unit=org["C2"])
    response = page.goto(live_server.url + reverse("profiles:person", args=[stranger.pk]))
    assert response.status == 404
    shoot(page, "outsider-404")
