"""HR's and the heads' gap report pages, the commands and the nightly job; the pages take a fixed
number of queries whatever the number of people."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Role
from assessments.gap_reports import services, tasks
from assessments.models import Cycle, GapReportRun

from . import test_gap_report_fixtures as data
from .factories import UserFactory

pytestmark = pytest.mark.django_db

gap_org, gap_cycle = data.gap_org, data.gap_cycle


@pytest.fixture
def run(gap_cycle, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_gap_report(cycle=gap_cycle, by=personas["hr"], chunk_members=5)
    run.refresh_from_db()
    return run


def test_hr_starts_a_run_from_the_page_and_it_completes(
    client, gap_cycle, personas, django_capture_on_commit_callbacks
):
    client.force_login(personas["hr"])
    page = client.get(reverse("reports:run-list")).content.decode()
    assert "开始计算" in page and gap_cycle.name in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:run-start"), {"cycle": gap_cycle.pk, "target_rule": "own_grade"}
        )
    run = GapReportRun.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "reports:run-detail", args=[run.pk]
    )
    assert run.requested_by == personas["hr"] and run.trigger == "browser"
    progress = client.get(reverse("reports:run-progress", args=[run.pk])).json()
    assert (
        progress["progress"] == 100 and progress["finished"] and progress["status"] == "succeeded"
    )
    detail = client.get(reverse("reports:run-detail", args=[run.pk])).content.decode()
    assert 'data-unit="P"' in detail and "gap-progress-bar" not in detail


def test_a_pending_run_shows_the_progress_bar_and_its_script(client, gap_cycle, personas):
    run = services.start_gap_report(cycle=gap_cycle, by=personas["hr"])  # not yet picked up
    client.force_login(personas["hr"])
    page = client.get(reverse("reports:run-detail", args=[run.pk])).content.decode()
    assert 'id="gap-progress-bar"' in page and "js/gap_reports.js" in page
    assert reverse("reports:run-progress", args=[run.pk]) in page
    assert "<script>" not in page  # no inline script: the polling lives in a static file


def test_the_start_form_explains_its_errors(client, gap_cycle, personas, model_version):
    client.force_login(personas["hr"])
    response = client.post(
        reverse("reports:run-start"), {"cycle": gap_cycle.pk, "target_rule": "fixed_grade"}
    )
    assert response.status_code == 200 and "请选择统一对照的职级" in response.content.decode()
    draft = Cycle.objects.create(
        name="还在草稿",
        model_version=model_version,
        self_deadline=gap_cycle.self_deadline,
        review_deadline=gap_cycle.review_deadline,
    )
    response = client.post(
        reverse("reports:run-start"), {"cycle": draft.pk, "target_rule": "own_grade"}
    )
    assert response.status_code == 200 and not GapReportRun.objects.exists()


def test_a_fixed_grade_run_from_the_form(client, gap_cycle, personas):
    client.force_login(personas["hr"])
    client.post(
        reverse("reports:run-start"),
        {"cycle": gap_cycle.pk, "target_rule": "fixed_grade", "target_grade": "G4"},
    )
    run = GapReportRun.objects.get()
    assert (run.target_rule, run.target_grade) == ("fixed_grade", "G4")
    assert "G4" in client.get(reverse("reports:run-list")).content.decode()


def test_the_unit_page_shows_figures_priorities_charts_and_the_heatmap(
    client, run, gap_org, personas
):
    client.force_login(personas["hr"])
    page = client.get(reverse("reports:unit", args=[run.pk, gap_org["P"].pk])).content.decode()
    for text in [
        "培训优先级",
        "各能力类别",
        "成员差距热力图",
        "T型分类与行业研究深度",
        "导出 Excel",
    ]:
        assert text in page, text
    assert 'font-family="WenQuanYi Micro Hei"' in page  # server-rendered SVG charts
    assert "gap-cell gap-n" in page and 'data-priority="1"' in page
    client.force_login(personas["supervisor"])
    page = client.get(reverse("reports:unit", args=[run.pk, gap_org["A"].pk])).content.decode()
    assert "成员差距热力图" in page and "导出 Excel" not in page  # a head reads, HR exports


def test_members_are_paginated(client, run, gap_org, personas, settings):
    from assessments.gap_reports import views

    views.MEMBERS_PER_PAGE, saved = 5, views.MEMBERS_PER_PAGE
    try:
        client.force_login(personas["hr"])
        url = reverse("reports:unit", args=[run.pk, gap_org["P"].pk])
        first = client.get(url).content.decode()
        assert "第 1 / " in first and "?page=2" in first
        assert client.get(url + "?page=2").status_code == 200
    finally:
        views.MEMBERS_PER_PAGE = saved


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_pages_take_a_fixed_number_of_queries(
    client, gap_cycle, gap_org, personas, django_capture_on_commit_callbacks
):
    def measure():
        with django_capture_on_commit_callbacks(execute=True):
            run = services.start_gap_report(
                cycle=gap_cycle,
                by=personas["hr"],
                target_rule=GapReportRun.TargetRule.FIXED_GRADE,
                target_grade="G3",
            )
        client.force_login(personas["hr"])
        return [
            _queries(client, reverse("reports:run-list")),
            _queries(client, reverse("reports:run-detail", args=[run.pk])),
            _queries(client, reverse("reports:run-progress", args=[run.pk])),
            _queries(client, reverse("reports:unit", args=[run.pk, gap_org["P"].pk])),
            _queries(client, reverse("reports:unit", args=[run.pk, gap_org["A"].pk])),
        ]

    small = measure()
    from assessments.services import add_participants

    more = [
        UserFactory(org_unit=gap_org[code], roles=[Role.MANAGER], job_grade="G2")
        for code in ["A", "A2", "B2"]
        for _ in range(8)
    ]
    add_participants(cycle=gap_cycle, people=more, by=personas["hr"])
    data.fill_ratings(gap_cycle, seed=9)
    big = measure()
    assert small == big, (small, big)
    # run list, run page, progress, unit pages: a handful each, never per person or unit
    assert max(big) <= 16, big


def test_resume_queues_a_failed_run_again(
    client, run, personas, django_capture_on_commit_callbacks
):
    GapReportRun.objects.filter(pk=run.pk).update(status="failed", error="boom")
    client.force_login(personas["hr"])
    page = client.get(reverse("reports:run-detail", args=[run.pk])).content.decode()
    assert "boom" in page and "重试" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:run-resume", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "succeeded" and run.error == ""


@pytest.mark.django_db(transaction=True)
def test_compute_gap_reports_command_waits_for_the_run(gap_cycle, capsys):
    call_command("compute_gap_reports", cycle=gap_cycle.pk, wait=True, chunk_members=4)
    out = capsys.readouterr().out
    run = GapReportRun.objects.get()
    assert run.status == "succeeded" and run.trigger == "command"
    assert f"run {run.pk} succeeded" in out and "100%" in out
    call_command("compute_gap_reports", cycle=gap_cycle.pk, grade="G5", wait=True)
    assert GapReportRun.objects.filter(target_grade="G5", status="succeeded").exists()
    call_command("compute_gap_reports", resume=run.pk)
    assert "0 message(s)" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_export_gap_report_command_writes_the_file(gap_cycle, tmp_path, capsys):
    call_command("compute_gap_reports", cycle=gap_cycle.pk)
    run = GapReportRun.objects.get()
    for fmt in ["xlsx", "csv", "pdf"]:
        target = tmp_path / f"out.{fmt}"
        call_command("export_gap_report", run=run.pk, format=fmt, output=str(target), unit="A")
        assert target.stat().st_size > 100
    call_command("export_gap_report", run=run.pk, format="csv", output=str(tmp_path / "top.csv"))
    assert "省公司" in (tmp_path / "top.csv").read_text(encoding="utf-8-sig")


def test_the_nightly_job_covers_open_cycles_and_resumes_stale_runs(
    gap_cycle, personas, django_capture_on_commit_callbacks
):
    stale = services.start_gap_report(
        cycle=gap_cycle,
        target_rule=GapReportRun.TargetRule.FIXED_GRADE,
        target_grade="G2",
    )  # never picked up: its message was lost
    GapReportRun.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = tasks.compute_nightly_gap_reports()
    nightly = GapReportRun.objects.get(pk=result["runs"][0])
    assert nightly.cycle == gap_cycle and nightly.trigger == "schedule"
    assert len(queued) == 2  # the nightly run's first message, and the stale run's again
    stale.refresh_from_db()
    assert stale.heartbeat_at is not None
    # a second night while the first is still pending joins it instead of starting another
    assert tasks.compute_nightly_gap_reports()["runs"] == [nightly.pk]
