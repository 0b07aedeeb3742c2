"""In real Chromium: a supervisor reviews a submitted self-assessment and completes it."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from assessments.models import Assessment

from .assessment_helpers import codes, submit
from .browser import sign_in
from .factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"
APART = "1.3"  # the category the supervisor rates two levels above the self rating


def by_id(page, element_id: str):
    """Category codes contain a dot, so ids are matched as attributes, not as #selectors."""
    return page.locator(f'[id="{element_id}"]')


def test_supervisor_reviews_and_completes(live_server, page, open_cycle, personas):
    SHOTS.mkdir(parents=True, exist_ok=True)
    assessment = submit(Assessment.objects.get(cycle=open_cycle, person=personas["manager"]))

    sign_in(page, live_server, "supervisor", DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")
    page.goto(live_server.url + reverse("assessments:review-list"))
    row = page.locator('tr[data-person="manager"]')
    expect(row).to_contain_text("已提交")
    expect(page.locator('tr[data-person="outsider"]')).to_have_count(0)
    page.screenshot(path=SHOTS / "review-list.png", full_page=True)

    row.locator("a.review-action").click()
    expect(page.locator("#review-form")).to_be_visible()
    for code in codes(assessment):
        level = 5 if code == APART else 3
        page.check(f'input[name="level-{code}"][value="{level}"]')
    page.check('input[name="depth-finance"][value="4"]')
    # the optional script marks the difference as the supervisor clicks
    expect(by_id(page, f"category-{APART}")).to_have_class(re.compile("review-gap"))
    expect(by_id(page, f"compare-{APART}").locator(".compare-diff")).to_have_text("+2")
    page.fill("#id_supervisor_comment", "客户关系扎实，IT知识明显提升。")
    page.screenshot(path=SHOTS / "review-filled.png", full_page=True)

    page.click("#review-complete")
    missing = page.locator("#review-missing")
    expect(missing).to_contain_text("IT知识")
    expect(by_id(page, f"category-{APART}")).to_have_class(re.compile("review-missing"))
    # everything typed is still there
    expect(page.locator(f'input[name="level-{APART}"][value="5"]')).to_be_checked()
    expect(page.locator("#id_supervisor_comment")).to_have_value("客户关系扎实，IT知识明显提升。")
    page.screenshot(path=SHOTS / "review-comment-required.png", full_page=True)
    assert Assessment.objects.get(pk=assessment.pk).status == Assessment.Status.SUBMITTED

    by_id(page, f"comment-{APART}").fill("主导了两个专线组网项目，能与客户IT部门对话。")
    page.click("#review-complete")
    page.wait_for_url(re.compile(rf"/assessments/{assessment.pk}/$"))
    expect(page.locator("main")).to_contain_text("评价已完成")
    expect(page.locator("main")).to_contain_text("已完成")
    page.screenshot(path=SHOTS / "review-completed-detail.png", full_page=True)

    done = Assessment.objects.get(pk=assessment.pk)
    assert done.status == Assessment.Status.COMPLETED
    assert done.ratings.get(category__code=APART).final_level == 5
