"""In real Chromium with a real Celery worker: HR starts a gap report run, watches the progress
bar reach 100 %, opens the province's report and downloads it as Excel.
Screenshots go to test-results/screenshots/gap-*.png."""

import re
from pathlib import Path

import openpyxl
import psycopg2
import pytest
from django.db import connection
from playwright.sync_api import expect

from assessments.models import GapReportRun

from . import test_gap_report_fixtures as data
from .browser import sign_in
from .factories import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

gap_org, gap_cycle = data.gap_org, data.gap_cycle
SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"gap-{name}.png"), full_page=True)


@pytest.fixture
def worker_media(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _hold_the_industry_table():
    """Another session holds a table the run writes last: the run waits, visibly, at 0 %."""
    db = connection.settings_dict
    blocker = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432
    )
    with blocker.cursor() as cursor:
        cursor.execute("LOCK TABLE assessments_gapindustrystat IN EXCLUSIVE MODE")
    return blocker


def test_hr_runs_a_gap_report_watches_it_finish_and_downloads_excel(
    live_server, page, gap_cycle, personas, worker_media, celery_worker, tmp_path
):
    sign_in(page, live_server, "hr", DEMO_PASSWORD)
    page.wait_for_selector("text=我的信息")
    page.goto(f"{live_server.url}/reports/")
    expect(page.locator("h1")).to_have_text("团队差距报告")
    page.select_option("#id_cycle", str(gap_cycle.pk))
    shoot(page, "01-start")

    blocker = _hold_the_industry_table()
    try:
        page.click("#gap-start")
        page.wait_for_url(re.compile(r"/reports/runs/\d+/$"))
        bar = page.locator("#gap-progress-bar")
        expect(bar).to_be_visible()
        expect(page.locator("[data-progress-status]")).to_have_text(re.compile("计算中|排队中"))
        shoot(page, "02-progress")
    finally:
        blocker.rollback()
        blocker.close()

    # the page polls the JSON endpoint: the bar reaches 100 %, then the units appear
    expect(bar).to_have_attribute("value", "100", timeout=30_000)
    expect(page.locator("[data-progress-percent]")).to_have_text("100%")
    shoot(page, "03-complete")
    expect(page.locator('tr[data-unit="P"]')).to_be_visible(timeout=15_000)
    run = GapReportRun.objects.get()
    assert run.status == GapReportRun.Status.SUCCEEDED and run.requested_by == personas["hr"]
    shoot(page, "04-units")

    page.click('tr[data-unit="P"] a')
    expect(page.locator("#gap-priorities-title")).to_be_visible()
    expect(page.locator(".gap-heatmap tbody tr").first).to_be_visible()
    shoot(page, "05-province")

    page.click('button[data-export="xlsx"]')
    page.wait_for_url(re.compile(r"/reports/exports/\d+/$"))
    link = page.locator("#gap-download")
    expect(link).to_be_visible(timeout=30_000)  # revealed by the polling script when ready
    shoot(page, "06-export-ready")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    target = tmp_path / "report.xlsx"
    download.save_as(target)
    assert download.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["概览", "能力类别", "成员差距", "行业深度", "培训优先级"]
    assert book["概览"]["B2"].value == "省公司"
