"""In real Chromium: a manager fills in the self-assessment over two sittings (autosave, reloads),
submits it; autosave survives a dropped connection and a reload before the server heard of it."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assessments.models import Assessment

from .assessment_helpers import codes, fill_self
from .browser import sign_in
from .factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"
SAVED = re.compile(r"^已保存 \d\d:\d\d:\d\d$")


@pytest.fixture
def mine(open_cycle, personas, settings, tmp_path) -> Assessment:
    settings.MEDIA_ROOT = tmp_path
    return Assessment.objects.get(cycle=open_cycle, person=personas["manager"])


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def rate(page, code: str, level: int) -> None:
    page.check(f'input[name="level-{code}"][value="{level}"]')


def expect_saved(page) -> None:
    expect(page.locator("#save-status")).to_have_text(SAVED, timeout=20_000)


def open_self_page(page, live_server, mine) -> None:
    sign_in(page, live_server, "manager", DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")
    page.goto(f"{live_server.url}/assessments/{mine.pk}/self/")
    page.wait_for_selector("#self-form")


def test_manager_fills_in_over_two_sittings_and_submits(live_server, page, mine):
    all_codes = codes(mine)
    sign_in(page, live_server, "manager", DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")
    page.click("nav.mainnav >> text=我的评估")
    expect(page.locator("h1")).to_have_text("我的评估")
    shoot(page, "self-01-my-list")
    page.click("text=开始自评")
    page.wait_for_selector("#self-form")
    expect(page.locator("#save-status")).to_have_text("尚未保存")
    shoot(page, "self-02-empty-page")

    # first sitting: the first domain, one comment, one file
    for code in all_codes[:5]:
        rate(page, code, 3)
    page.fill("#cat-1-1-comment", "为三家重点客户建立了信息档案")
    expect_saved(page)
    page.set_input_files("#upload-cat-1-2-file", files=[_pdf()])
    page.click('button[form="upload-cat-1-2"]')
    expect(page.locator(".messages")).to_contain_text("已上传“客户分析.pdf”")
    page.reload()
    for code in all_codes[:5]:
        expect(page.locator(f'input[name="level-{code}"][value="3"]')).to_be_checked()
    expect(page.locator("#cat-1-1-comment")).to_have_value("为三家重点客户建立了信息档案")
    expect(page.locator("#cat-1-2 .evidence-files")).to_contain_text("客户分析.pdf")
    shoot(page, "self-03-first-sitting")

    # second sitting: the rest, one industry with depth and evidence
    for code in all_codes[5:]:
        rate(page, code, 4)
    page.check('input[name="industry"][value="finance"]')
    page.check('input[name="depth-finance"][value="4"]')
    page.fill("#ind-finance-evidence", "某银行客户的SWOT分析")
    page.fill("#self_comment", "IT知识仍需加强")
    expect_saved(page)
    page.reload()
    for code in all_codes[5:]:
        expect(page.locator(f'input[name="level-{code}"][value="4"]')).to_be_checked()
    expect(page.locator('input[name="depth-finance"][value="4"]')).to_be_checked()
    expect(page.locator("#ind-finance-evidence")).to_have_value("某银行客户的SWOT分析")
    expect(page.locator("#self_comment")).to_have_value("IT知识仍需加强")
    shoot(page, "self-04-second-sitting")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[formaction$='/self/submit/']")
    page.wait_for_url(re.compile(rf"/assessments/{mine.pk}/$"))
    expect(page.locator("h1 .badge")).to_have_text("已提交")
    expect(page.locator(".messages")).to_contain_text("自评已提交")
    shoot(page, "self-05-submitted-detail")
    mine.refresh_from_db()
    assert mine.status == Assessment.Status.SUBMITTED
    assert mine.industry_ratings.get().self_depth == 4

    page.goto(f"{live_server.url}/assessments/my/")
    expect(page.locator(f'tr[data-assessment="{mine.pk}"]')).to_contain_text("已提交")
    shoot(page, "self-06-my-list-submitted")


def test_incomplete_submit_lists_what_is_missing(live_server, page, mine):
    open_self_page(page, live_server, mine)
    rate(page, "1.1", 2)
    page.fill("#self_comment", "先交一部分")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[formaction$='/self/submit/']")
    expect(page.locator("#missing")).to_contain_text("“顾问式销售”的自评等级")
    expect(page.locator("#self_comment")).to_have_value("先交一部分")
    expect(page.locator('input[name="level-1.1"][value="2"]')).to_be_checked()
    expect(page.locator("#cat-1-2")).to_have_class(re.compile("is-missing"))
    shoot(page, "self-07-incomplete-submit")
    mine.refresh_from_db()
    assert mine.status == Assessment.Status.SELF_IN_PROGRESS


def test_a_click_on_submit_right_after_typing_submits_what_was_typed(live_server, page, mine):
    """No Tab, no waiting for the autosave: the mouse goes from the text straight to the button,
    whose position must not move while the save status changes."""
    fill_self(mine)
    open_self_page(page, live_server, mine)
    box = page.locator("button[formaction$='/self/submit/']").bounding_box()
    page.fill("#cat-1-3-comment", "")
    page.click("#cat-1-3-comment")
    page.keyboard.type("主导了某医院的专线与安全方案交流")
    assert page.locator("button[formaction$='/self/submit/']").bounding_box() == box
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[formaction$='/self/submit/']")
    page.wait_for_url(re.compile(rf"/assessments/{mine.pk}/$"))
    expect(page.locator("h1 .badge")).to_have_text("已提交")
    mine.refresh_from_db()
    assert mine.status == Assessment.Status.SUBMITTED
    comment = mine.ratings.get(category__code="1.3").self_comment
    assert comment == "主导了某医院的专线与安全方案交流"


def test_autosave_survives_a_dropped_connection(live_server, page, mine):
    open_self_page(page, live_server, mine)
    rate(page, "1.1", 3)
    expect_saved(page)

    page.context.set_offline(True)
    page.fill("#cat-1-2-comment", "断网时写下的说明")
    expect(page.locator("#save-status")).to_have_text("未保存：网络连接中断，恢复后将自动重试")
    kept = page.evaluate(f"localStorage.getItem('tshape:self-assessment:{mine.pk}')")
    assert "断网时写下的说明" in kept
    shoot(page, "self-08-offline")

    page.context.set_offline(False)
    expect_saved(page)
    shoot(page, "self-09-back-online")
    page.reload()
    expect(page.locator("#cat-1-2-comment")).to_have_value("断网时写下的说明")
    assert mine.ratings.get(category__code="1.2").self_comment == "断网时写下的说明"
    assert page.evaluate(f"localStorage.getItem('tshape:self-assessment:{mine.pk}')") is None


def test_a_reload_restores_what_the_server_never_got(live_server, page, mine):
    open_self_page(page, live_server, mine)
    # every autosave fails as if the network dropped it
    page.route(
        "**/self/",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    rate(page, "2.1", 5)
    page.fill("#cat-2-1-comment", "服务器还没收到的说明")
    expect(page.locator("#save-status")).to_have_text("未保存：网络连接中断，恢复后将自动重试")
    page.unroute("**/self/")

    page.reload()
    expect_saved(page)
    expect(page.locator('input[name="level-2.1"][value="5"]')).to_be_checked()
    expect(page.locator("#cat-2-1-comment")).to_have_value("服务器还没收到的说明")
    rating = mine.ratings.get(category__code="2.1")
    assert (rating.self_level, rating.self_comment) == (5, "服务器还没收到的说明")


def test_a_stale_page_stops_autosaving_and_says_so(live_server, page, mine):
    open_self_page(page, live_server, mine)
    fill_self(mine, level=2)  # the same person saved from another window meanwhile
    rate(page, "1.1", 5)
    expect(page.locator("#save-status")).to_contain_text("已被修改")
    shoot(page, "self-10-stale")
    page.fill("#cat-1-1-comment", "不会再自动保存")
    page.wait_for_timeout(1500)
    expect(page.locator("#save-status")).to_contain_text("已被修改")
    assert mine.ratings.get(category__code="1.1").self_level == 2


def test_the_page_works_without_javascript(live_server, browser, mine):
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        open_self_page(page, live_server, mine)
        rate(page, "1.1", 4)
        page.fill("#cat-1-1-comment", "没有脚本也能保存")
        page.click("button[name=save]")
        expect(page.locator(".messages")).to_contain_text("已保存")
        expect(page.locator('input[name="level-1.1"][value="4"]')).to_be_checked()
        expect(page.locator("#cat-1-1-comment")).to_have_value("没有脚本也能保存")
        shoot(page, "self-11-no-javascript")
    finally:
        context.close()


def _pdf() -> dict:
    return {"name": "客户分析.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
