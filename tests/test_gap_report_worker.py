"""Gap report runs on a real Celery worker process: the figures, the message count, and a worker
killed (SIGKILL) in the middle of a chunk whose run a retry then finishes exactly once."""

import time

import psycopg2
import pytest
from django.db import connection

from assessments.gap_reports import services, tasks
from assessments.models import (
    GapIndustryStat,
    GapMemberRow,
    GapReportChunk,
    GapReportExport,
    GapReportRun,
)

from . import test_gap_report_fixtures as data
from .worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

gap_org, gap_cycle = data.gap_org, data.gap_cycle


def finished(run_id):
    run = GapReportRun.objects.get(pk=run_id)
    return run if not run.is_active else None


def assert_matches_plain_computation(run, cycle):
    expected = data.expected_report(cycle)
    actual = data.stored(run)
    data.assert_cells_equal(actual["summary"], expected.summary, "summary")
    data.assert_cells_equal(actual["categories"], expected.categories, "category")
    data.assert_cells_equal(actual["industries"], expected.industries, "industry")
    data.assert_cells_equal(actual["members"], expected.members, "member")


def test_a_run_on_the_worker_fans_out_by_chunks_of_units(gap_cycle, celery_worker):
    run = services.start_gap_report(cycle=gap_cycle, chunk_members=4)
    run = wait_for(lambda: finished(run.pk), timeout=60)
    assert run.status == GapReportRun.Status.SUCCEEDED, run.error
    assert run.chunks_total > 1 and run.chunks_done == run.chunks_total
    # one message per chunk (the first chunk is computed by the task that planned): never one
    # per person, never more than one per unit
    assert run.messages == run.chunks_total <= run.units_total
    assert_matches_plain_computation(run, gap_cycle)


@pytest.fixture
def worker_media(monkeypatch, settings, tmp_path):
    """The worker (started after this fixture) and the test share a temporary MEDIA_ROOT."""
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_an_export_is_built_by_the_worker(gap_cycle, gap_org, worker_media, celery_worker):
    run = services.start_gap_report(cycle=gap_cycle)
    run = wait_for(lambda: finished(run.pk), timeout=60)
    export = services.request_export(
        run=run, unit=gap_org["P"], file_format="xlsx", language="en", by=None
    )
    export = wait_for(
        lambda: GapReportExport.objects.filter(pk=export.pk, status="ready").first(), timeout=60
    )
    assert export.size > 5000 and export.file.name.endswith(".xlsx")
    assert (worker_media / export.file.name).exists()


def _database_dsn() -> str:
    db = connection.settings_dict
    return f"dbname={db['NAME']} user={db['USER']} host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432}"


def _worker_waiting_on_the_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE %s",
            ["%scope_units%"],
        )
        return cursor.fetchone()[0] > 0


def _no_backend_inside_a_chunk() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state <> 'idle'"
        )
        return cursor.fetchone()[0] == 0


def test_a_worker_killed_mid_chunk_leaves_a_run_that_a_retry_finishes_once(
    gap_cycle, celery_worker
):
    # Another session holds the industry table: the chunk's last statement has to wait, with
    # the members, summaries and categories of the chunk already written (not committed).
    blocker = psycopg2.connect(_database_dsn())
    blocker.autocommit = False
    with blocker.cursor() as cursor:
        cursor.execute("LOCK TABLE assessments_gapindustrystat IN EXCLUSIVE MODE")
    try:
        run = services.start_gap_report(cycle=gap_cycle, chunk_members=6)
        wait_for(_worker_waiting_on_the_lock, timeout=60)
        run.refresh_from_db()
        assert run.status == GapReportRun.Status.RUNNING and run.chunks_total > 2
        celery_worker.kill()  # SIGKILL, in the middle of chunk 1
    finally:
        blocker.rollback()
        blocker.close()
    wait_for(_no_backend_inside_a_chunk, timeout=30)

    # Nothing of the interrupted chunk was kept; the run is still running, not finished.
    run.refresh_from_db()
    assert run.status == GapReportRun.Status.RUNNING and run.finished_at is None
    assert run.chunks_done == 0
    assert GapReportChunk.objects.get(run=run, number=1).status == GapReportChunk.Status.PENDING
    assert not GapMemberRow.objects.filter(run=run).exists()
    assert not GapIndustryStat.objects.filter(run=run).exists()

    # The retry: a new worker, and the run resumed (as HR's button or the nightly job does).
    # Chunks whose messages are still queued are queued again too: each duplicate finds its
    # chunk done (or being done) and changes nothing.
    celery_worker.start()
    sent = services.resume_gap_report(run=run)
    assert 1 <= sent <= run.chunks_total
    run = wait_for(lambda: finished(run.pk), timeout=90)
    assert run.status == GapReportRun.Status.SUCCEEDED, run.error
    assert run.chunks_done == run.chunks_total  # each chunk counted exactly once
    assert run.units_done == run.units_total
    assert not GapReportChunk.objects.filter(run=run).exclude(status="done").exists()
    assert_matches_plain_computation(run, gap_cycle)
    first_finish = run.finished_at

    # A late redelivery of any message is harmless too.
    tasks.compute_gap_report.delay(run.pk)
    tasks.compute_gap_report_chunk.delay(run.pk, 1)
    tasks.compute_gap_report_finish.delay(run.pk)
    time.sleep(2)
    run.refresh_from_db()
    assert run.finished_at == first_finish and run.chunks_done == run.chunks_total
    assert GapReportChunk.objects.filter(run=run).count() == run.chunks_total
