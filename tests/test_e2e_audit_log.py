"""In real Chromium: a failed sign-in lands in the audit log; HR opens the log from the menu,
filters it to failed sign-ins and downloads the filtered list as CSV, which is audited too.
Screenshots go to test-results/screenshots/audit-*.png."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.audit import AuditEvent

from .browser import sign_in
from .factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"audit-{name}.png"), full_page=True)


def test_hr_filters_the_audit_log_and_downloads_it_as_csv(live_server, page, personas):
    sign_in(page, live_server, "intruder", "not-the-password")
    expect(page.locator("#login-error")).to_be_visible()
    sign_in(page, live_server, "hr", DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")

    page.click("nav.mainnav >> text=审计日志")
    expect(page.locator("h1")).to_have_text("审计日志")
    expect(page.locator("#audit-table tbody tr[data-action=sign_in]").first).to_be_visible()
    shoot(page, "01-log")

    page.select_option("#id_action", "sign_in_failed")
    page.fill("#id_q", "intruder")
    page.click("#audit-filters button[type=submit]")
    rows = page.locator("#audit-table tbody tr[data-event]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("intruder")
    expect(rows.first).to_contain_text("登录失败")
    shoot(page, "02-filtered")

    with page.expect_download() as info:
        page.click("#audit-export-csv")
    download = info.value
    assert download.suggested_filename.startswith("audit-log-")
    text = Path(download.path()).read_bytes().decode("utf-8-sig")
    header, *body = list(csv.reader(io.StringIO(text)))
    assert header[:3] == ["时间", "事件", "操作人账号"]
    assert [(row[1], row[2]) for row in body] == [("登录失败", "intruder")]

    export = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert export.actor == personas["hr"]
    assert export.details["filters"] == {"action": "sign_in_failed", "q": "intruder"}
