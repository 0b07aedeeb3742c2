"""In real Chromium: an admin drafts v2 from v1, rewrites one level description in both languages,
sees it in the diff, publishes with a note, and v2 shows as published."""

from pathlib import Path

import pytest

from competency.models import LevelDescription, ModelVersion

from .browser import sign_in
from .factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"
NEW_ZH = "能独立完成客户的需求调研，并写出客户视角的 SWOT 分析。"
NEW_EN = "Researches a customer's needs alone and writes a SWOT from the customer's side."


def shot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"model_editor_{name}.png"), full_page=True)


def test_admin_edits_a_level_description_and_publishes(
    live_server, page, admin_user, model_version
):
    sign_in(page, live_server, "admin", DEMO_PASSWORD)
    page.wait_for_selector("text=退出")
    page.goto(f"{live_server.url}/model/v1/")
    page.click("button:has-text('基于此版本新建草稿')")
    page.wait_for_selector("h1:has-text('编辑草稿 v2')")
    shot(page, "1_draft")

    page.click(".editor-nav >> text=能力类别")
    row = page.locator("tr", has=page.locator("input[value='1.2']"))
    row.get_by_role("link", name="编辑").click()
    page.wait_for_selector("#id_level_3_zh")
    page.fill("#id_level_3_zh", NEW_ZH)
    page.fill("#id_level_3_en", NEW_EN)
    shot(page, "2_category")
    page.click("form.editor-form button[type=submit]")
    page.wait_for_selector("text=已保存。")

    page.click(".editor-nav >> text=审阅并发布")
    page.wait_for_selector("table.diff")
    diff = page.locator("table.diff").inner_text()
    assert NEW_ZH in diff and NEW_EN in diff and "等级行为描述修改" in diff
    assert "与来源版本 v1 相比共有 1 处变化" in page.content()
    shot(page, "3_diff")

    page.fill("#publish-note", "2027 年度模型：细化顾问式销售 3 级")
    page.click("#publish-button")
    page.wait_for_selector("text=版本 2 已发布。")
    assert page.locator("h1 .badge").inner_text() == "已发布"
    assert "2027 年度模型：细化顾问式销售 3 级" in page.content()
    shot(page, "4_published")

    v2 = ModelVersion.objects.get(number=2)
    assert v2.status == ModelVersion.Status.PUBLISHED
    text = LevelDescription.objects.get(category__version=v2, category__code="1.2", level=3)
    assert (text.text_zh, text.text_en) == (NEW_ZH, NEW_EN)
    event = v2.events.get(action="published")
    assert event.actor == admin_user and event.details["diff"][0]["change"] == "level_text"


def test_admin_imports_a_moodle_framework_and_sees_the_grid(
    live_server, page, admin_user, model_version
):
    example = Path(__file__).resolve().parent.parent / "docs" / "examples" / "moodle_framework.csv"
    sign_in(page, live_server, "admin", DEMO_PASSWORD)
    page.wait_for_selector("text=退出")
    page.goto(f"{live_server.url}/model/")
    page.click("text=导入模型文件")
    page.set_input_files("#id_file", str(example))
    page.click("button:has-text('上传并预览')")
    page.wait_for_selector("table.import-tree")
    assert "MKT-NEGOTIATE" in page.locator("table.import-tree").inner_text()
    shot(page, "5_moodle_preview")
    page.click("#confirm-import")
    page.wait_for_selector("text=已创建草稿版本 2。")
    page.click(".editor-nav >> text=目标画像")
    page.wait_for_selector("table.target-grid")
    assert page.locator("table.target-grid tbody tr").count() == 5
    shot(page, "6_target_grid")
    page.click(".editor-nav >> text=能力领域")
    page.wait_for_selector("table.rows-domains")
    shot(page, "7_domains")
