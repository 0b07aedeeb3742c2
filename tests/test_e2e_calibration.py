"""In real Chromium: HR opens a calibration session, adjusts one level with a reason, and sees
the change in the grid and in the history."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assessments.models import CalibrationAdjustment, CalibrationSession, Rating

from .browser import sign_in
from .factories import DEMO_PASSWORD
from .test_calibration_helpers import complete_with, mine

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"
CODE = "1.3"
REASON = "主导两个专线组网项目，已能与客户IT部门深入对话。"


def by_id(page, element_id: str):
    """Category codes contain a dot, so ids are matched as attributes, not as #selectors."""
    return page.locator(f'[id="{element_id}"]')


def test_hr_adjusts_a_level_with_a_reason(live_server, page, open_cycle, personas, org):
    SHOTS.mkdir(parents=True, exist_ok=True)
    manager = complete_with(mine(open_cycle, personas["manager"]), personas["supervisor"])
    complete_with(mine(open_cycle, personas["supervisor"]), personas["city_head"], 4)

    sign_in(page, live_server, "hr", DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(live_server.url + reverse("calibration:session-list"))
    page.click("#calib-new")
    page.select_option("#id_cycle", str(open_cycle.pk))
    page.select_option("#id_unit", str(org["A"].pk))
    page.click("#session-form button[type=submit]")
    expect(page.locator("main")).to_contain_text("已发起")
    session = CalibrationSession.objects.get()
    expect(page.locator(f'tr[data-rater="{personas["supervisor"].pk}"]')).to_be_visible()
    expect(page.locator('tr[data-person="manager"]')).to_be_visible()
    page.screenshot(path=SHOTS / "calibration-session.png", full_page=True)

    page.locator('tr[data-person="manager"] th a').click()
    form = page.locator(f'form.calib-adjust[data-category="{CODE}"]')
    expect(form).to_be_visible()
    by_id(page, f"level-{CODE}").select_option("5")
    # the reason is required: the browser keeps the form until it is given
    form.locator("button[type=submit]").click()
    assert not CalibrationAdjustment.objects.exists()
    by_id(page, f"reason-{CODE}").fill(REASON)
    page.screenshot(path=SHOTS / "calibration-adjust.png", full_page=True)
    form.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("调整为 5")
    row = by_id(page, f"rating-{CODE}")
    expect(row).to_contain_text("已调整")
    expect(page.locator("#history")).to_contain_text(REASON)
    page.screenshot(path=SHOTS / "calibration-adjusted.png", full_page=True)

    page.goto(live_server.url + reverse("calibration:session-detail", args=[session.pk]))
    cell = page.locator(f'tr[data-person="manager"] td[data-category="{CODE}"]')
    expect(cell).to_have_class(re.compile("calib-adjusted"))
    expect(cell.locator(".calib-final")).to_contain_text("5")
    expect(cell.locator(".calib-sub")).to_contain_text("3 / 3")  # self / supervisor kept
    expect(page.locator("#recent")).to_contain_text(REASON)
    page.screenshot(path=SHOTS / "calibration-grid.png", full_page=True)

    page.goto(live_server.url + reverse("calibration:session-history", args=[session.pk]))
    expect(page.locator("#history")).to_contain_text(REASON)
    expect(page.locator("#history")).to_contain_text("3 → 5")
    page.screenshot(path=SHOTS / "calibration-history.png", full_page=True)

    rating = Rating.objects.get(assessment=manager, category__code=CODE)
    assert (rating.supervisor_level, rating.final_level) == (3, 5)
    adjustment = CalibrationAdjustment.objects.get()
    assert (adjustment.actor, adjustment.note) == (personas["hr"], REASON)
