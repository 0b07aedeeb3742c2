"""In real Chromium, the whole workflow across three people: the manager rates over two sittings
and submits; the supervisor returns it; the manager fixes and resubmits; the supervisor completes;
HR sees it counted. A screenshot of every page goes to test-results/screenshots/flow-*.png."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assessments.models import Assessment

from .assessment_helpers import codes
from .browser import sign_in
from .factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"
SAVED = re.compile(r"^已保存 \d\d:\d\d:\d\d$")


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"flow-{name}.png"), full_page=True)


def as_user(browser, live_server, username):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, live_server, username, DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")
    return page


def test_self_assessment_return_resubmit_complete_and_counted(
    live_server, browser, open_cycle, personas
):
    assessment = Assessment.objects.get(cycle=open_cycle, person=personas["manager"])
    all_codes = codes(assessment)
    self_url = f"{live_server.url}/assessments/{assessment.pk}/self/"

    # 1. the manager, first sitting: half the categories, autosaved; reload loses nothing
    manager = as_user(browser, live_server, "manager")
    manager.goto(self_url)
    for code in all_codes[:6]:
        manager.check(f'input[name="level-{code}"][value="3"]')
    expect(manager.locator("#save-status")).to_have_text(SAVED)
    manager.reload()
    for code in all_codes[:6]:
        expect(manager.locator(f'input[name="level-{code}"][value="3"]')).to_be_checked()
    shoot(manager, "01-manager-first-sitting")

    # second sitting: the rest and one industry, then submit
    for code in all_codes[6:]:
        manager.check(f'input[name="level-{code}"][value="3"]')
    manager.check('input[name="industry"][value="government"]')
    manager.check('input[name="depth-government"][value="4"]')
    expect(manager.locator("#save-status")).to_have_text(SAVED)
    manager.reload()
    expect(manager.locator(f'input[name="level-{all_codes[-1]}"][value="3"]')).to_be_checked()
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.click("button[formaction$='/self/submit/']")
    manager.wait_for_url(re.compile(rf"/assessments/{assessment.pk}/$"))
    expect(manager.locator("h1 .badge")).to_have_text("已提交")
    shoot(manager, "02-manager-submitted")

    # 2. the supervisor returns it with a reason
    supervisor = as_user(browser, live_server, "supervisor")
    supervisor.goto(f"{live_server.url}/assessments/review/")
    shoot(supervisor, "03-supervisor-list")
    supervisor.goto(f"{live_server.url}/assessments/{assessment.pk}/review/")
    supervisor.fill("#return-reason", "请为“IT知识”补充一个项目案例。")
    supervisor.click(".review-return-button")
    expect(supervisor.locator(".messages")).to_be_visible()
    shoot(supervisor, "04-supervisor-returned")
    assert Assessment.objects.get(pk=assessment.pk).status == Assessment.Status.RETURNED

    # 3. the manager sees why, fixes and resubmits
    manager.goto(f"{live_server.url}/assessments/{assessment.pk}/")
    expect(manager.locator("main")).to_contain_text("请为“IT知识”补充一个项目案例。")
    manager.goto(self_url)
    manager.fill("#cat-1-3-comment", "主导了某医院的专线与安全方案交流")
    manager.press("#cat-1-3-comment", "Tab")
    expect(manager.locator("#save-status")).to_have_text(SAVED)
    shoot(manager, "05-manager-fixing")
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.click("button[formaction$='/self/submit/']")
    manager.wait_for_url(re.compile(rf"/assessments/{assessment.pk}/$"))
    expect(manager.locator("h1 .badge")).to_have_text("已提交")

    # 4. the supervisor completes the review
    supervisor.goto(f"{live_server.url}/assessments/{assessment.pk}/review/")
    for code in all_codes:
        supervisor.check(f'#review-form input[name="level-{code}"][value="3"]')
    supervisor.check('#review-form input[name="depth-government"][value="4"]')
    shoot(supervisor, "06-supervisor-review")
    supervisor.click("#review-complete")
    supervisor.wait_for_url(re.compile(rf"/assessments/{assessment.pk}/$"))
    expect(supervisor.locator("main")).to_contain_text("已完成")
    shoot(supervisor, "07-supervisor-completed")
    done = Assessment.objects.get(pk=assessment.pk)
    assert done.status == Assessment.Status.COMPLETED and done.classification == "t"

    # 5. HR sees it counted in the team's progress
    hr = as_user(browser, live_server, "hr")
    hr.goto(f"{live_server.url}/assessments/cycles/{open_cycle.pk}/")
    row = hr.locator("tr", has_text="甲队").first
    expect(row).to_be_visible()
    shoot(hr, "08-hr-progress")
    assert "1" in row.inner_text().split()
    completed_cells = hr.locator('[data-status="completed"]')
    if completed_cells.count():
        expect(completed_cells.first).to_contain_text("1")
