"""Workflows of team gap reports: start a run, compute each chunk exactly once, finish the run,
resume it after a lost worker, and build export files.

Exactly once, without trusting the broker: every step claims its database row inside the one
transaction that writes its results (``select_for_update(skip_locked=True)``) and flips the row's
status in that same transaction. A worker killed mid-step leaves nothing behind (the transaction
rolls back, the row stays pending); a duplicate message finds the row done or busy. Writes are
upserts under natural keys, so a repeated computation leaves the same rows. Messages are sent only
after the deciding transaction commits.
"""

import logging
from datetime import timedelta
from pathlib import Path
from tempfile import NamedTemporaryFile

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import OrgUnit
from competency.models import Grade

from ..models import Cycle, GapReportChunk, GapReportExport, GapReportRun
from . import computation

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_MEMBERS = 2000
STALE_AFTER = timedelta(minutes=30)


class GapReportError(Exception):
    """A request the current state forbids; the message is translated and shown as it is."""


def _queue(run_id: int | None, task, *args) -> None:
    """Send one task message after the commit, counted on its run (the benchmark reads it)."""

    def send():
        if run_id is not None:
            GapReportRun.objects.filter(pk=run_id).update(messages=F("messages") + 1)
        task.delay(*args)

    transaction.on_commit(send)


def _tasks():
    from . import tasks

    return tasks


# --- starting -----------------------------------------------------------------------------------


def start_gap_report(
    *,
    cycle: Cycle,
    by=None,
    target_rule: str = GapReportRun.TargetRule.OWN_GRADE,
    target_grade: str = "",
    trigger: str = GapReportRun.Trigger.BROWSER,
    chunk_members: int | None = None,
) -> GapReportRun:
    """A new run over the cycle, queued after the commit; the active run for the same rule if any."""
    with transaction.atomic():
        cycle = (
            Cycle.objects.select_for_update(of=("self",))
            .select_related("model_version")
            .get(pk=cycle.pk)
        )
        if cycle.status == Cycle.Status.DRAFT:
            raise GapReportError(_("草稿状态的评估周期还没有评估数据，不能计算差距报告。"))
        grade = target_grade if target_rule == GapReportRun.TargetRule.FIXED_GRADE else ""
        if target_rule == GapReportRun.TargetRule.FIXED_GRADE and not (
            Grade.objects.filter(version=cycle.model_version_id, code=grade).exists()
        ):
            raise GapReportError(_("所选职级不属于该评估周期使用的模型版本。"))
        active = GapReportRun.objects.active().filter(
            cycle=cycle, target_rule=target_rule, target_grade=grade
        )
        if existing := active.first():
            return existing
        categories, targets = computation.snapshot(cycle.model_version)
        try:
            with transaction.atomic():
                run = GapReportRun.objects.create(
                    cycle=cycle,
                    model_version=cycle.model_version,
                    target_rule=target_rule,
                    target_grade=grade,
                    trigger=trigger,
                    requested_by=by,
                    chunk_members=chunk_members or DEFAULT_CHUNK_MEMBERS,
                    categories=categories,
                    targets=targets,
                )
        except IntegrityError:
            # Another start won the race between the check and the insert: join its run.
            return active.get()
        _queue(run.pk, _tasks().compute_gap_report, run.pk)
    return run


# --- computing (called by the tasks) ------------------------------------------------------------


def plan_run(*, run_id: int) -> bool:
    """Pending → running: split the units into chunks and queue all but the first (one commit).

    Returns False when the run is not pending (planned already, or being planned right now).
    """
    with transaction.atomic():
        run = (
            GapReportRun.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=run_id, status=GapReportRun.Status.PENDING)
            .order_by()
            .first()
        )
        if run is None:
            return False
        plan = computation.plan_run(run.cycle_id, run.chunk_members)
        GapReportChunk.objects.bulk_create(
            GapReportChunk(run=run, number=n, **chunk) for n, chunk in enumerate(plan.chunks, 1)
        )
        now = timezone.now()
        run.status = GapReportRun.Status.RUNNING
        run.started_at = run.heartbeat_at = now
        run.units_total = plan.units_total
        run.chunks_total = len(plan.chunks)
        run.upper_ids = plan.upper_ids
        run.save(
            update_fields=[
                "status",
                "started_at",
                "heartbeat_at",
                "units_total",
                "chunks_total",
                "upper_ids",
            ]
        )
        # The first chunk is computed by the task that planned: one message fewer per run.
        for number in range(2, len(plan.chunks) + 1):
            _queue(run.pk, _tasks().compute_gap_report_chunk, run.pk, number)
    return True


def compute_chunk(*, run_id: int, number: int) -> str:
    """Write one chunk's rows and count it in one transaction; then finish the run if it was last.

    Answers "computed", "done" (someone did it), "busy" (another transaction holds it: retry
    later) or "inactive" (the run failed or does not exist).
    """
    with transaction.atomic():
        chunk = (
            # of=self and no ordering: the model's default ordering would join (and lock) the run.
            GapReportChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(run_id=run_id, number=number)
            .order_by()
            .first()
        )
        if chunk is None:
            exists = GapReportChunk.objects.filter(run_id=run_id, number=number).exists()
            return "busy" if exists else "inactive"
        if chunk.status == GapReportChunk.Status.DONE:
            return "done"
        run = GapReportRun.objects.select_related("model_version").get(pk=run_id)
        if run.status != GapReportRun.Status.RUNNING:
            return "inactive"
        computation.write_scope(run, computation.Scope(root_ids=tuple(chunk.root_ids)))
        chunk.status = GapReportChunk.Status.DONE
        chunk.done_at = timezone.now()
        chunk.save(update_fields=["status", "done_at"])
        GapReportRun.objects.filter(pk=run_id).update(
            units_done=F("units_done") + chunk.units,
            chunks_done=F("chunks_done") + 1,
            heartbeat_at=chunk.done_at,
        )
    finish_run(run_id=run_id)
    return "computed"


def finish_run(*, run_id: int) -> bool:
    """Running → succeeded once every chunk is done: the upper units, from the chunk roots' rows.

    Whoever sees the last chunk done claims the run row; a concurrent caller skips it.
    """
    with transaction.atomic():
        run = (
            GapReportRun.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("model_version")
            .filter(pk=run_id, status=GapReportRun.Status.RUNNING)
            .order_by()
            .first()
        )
        if run is None or run.chunks_done < run.chunks_total:
            return False
        if run.upper_ids:
            roots = [r for ids in run.chunks.values_list("root_ids", flat=True) for r in ids]
            scope = computation.Scope(upper_ids=tuple(run.upper_ids), stored_ids=tuple(roots))
            computation.write_scope(run, scope)
        run.status = GapReportRun.Status.SUCCEEDED
        run.finished_at = run.heartbeat_at = timezone.now()
        run.units_done = run.units_total
        run.save(update_fields=["status", "finished_at", "heartbeat_at", "units_done"])
    logger.info("gap report run %s succeeded (%s units)", run_id, run.units_total)
    return True


def fail_run(*, run_id: int, error: str) -> None:
    """Mark an active run failed (HR sees the reason and may resume it)."""
    GapReportRun.objects.filter(pk=run_id, status__in=GapReportRun.ACTIVE).update(
        status=GapReportRun.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


# --- resuming -----------------------------------------------------------------------------------


def resume_gap_report(*, run: GapReportRun) -> int:
    """Queue again what a lost worker left undone; returns the number of messages sent.

    Safe to call at any time: each step claims its own row, so a duplicate does nothing.
    """
    with transaction.atomic():
        run = GapReportRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
        if run.status == GapReportRun.Status.SUCCEEDED:
            return 0
        if run.status == GapReportRun.Status.FAILED:
            run.status = (
                GapReportRun.Status.RUNNING if run.chunks_total else GapReportRun.Status.PENDING
            )
            run.error = ""
            run.finished_at = None
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "heartbeat_at"])
        tasks = _tasks()
        if run.status == GapReportRun.Status.PENDING:
            _queue(run.pk, tasks.compute_gap_report, run.pk)
            return 1
        pending = list(
            run.chunks.filter(status=GapReportChunk.Status.PENDING).values_list("number", flat=True)
        )
        for number in pending:
            _queue(run.pk, tasks.compute_gap_report_chunk, run.pk, number)
        if not pending:
            _queue(run.pk, tasks.compute_gap_report_finish, run.pk)
        return len(pending) or 1


def resume_stale_runs(*, older_than: timedelta = STALE_AFTER) -> list[int]:
    """Resume every active run without progress for ``older_than`` (a worker died under it)."""
    resumed = []
    for run in GapReportRun.objects.active():
        if run.is_stale(older_than):
            resume_gap_report(run=run)
            resumed.append(run.pk)
    return resumed


def start_nightly_runs() -> list[int]:
    """Nightly: a run for every open cycle (joining one already active), and stale runs resumed."""
    runs = [
        start_gap_report(cycle=cycle, trigger=GapReportRun.Trigger.SCHEDULE).pk
        for cycle in Cycle.objects.filter(status=Cycle.Status.OPEN)
    ]
    resume_stale_runs()
    return runs


# --- exports ------------------------------------------------------------------------------------


def request_export(
    *, run: GapReportRun, unit: OrgUnit, file_format: str, language: str, by
) -> GapReportExport:
    """The unit's report as a file: the one already built or being built, else a new one queued."""
    if run.status != GapReportRun.Status.SUCCEEDED:
        raise GapReportError(_("报告尚未计算完成，暂不能导出。"))
    with transaction.atomic():
        export, created = GapReportExport.objects.select_for_update(of=("self",)).get_or_create(
            run=run,
            org_unit=unit,
            file_format=file_format,
            language=language,
            defaults={"requested_by": by},
        )
        if export.status == GapReportExport.Status.FAILED:
            export.status = GapReportExport.Status.PENDING
            export.error = ""
            export.save(update_fields=["status", "error"])
            created = True
        if created:
            _queue(None, _tasks().compute_gap_report_export, export.pk)
    return export


def build_export(*, export_id: int) -> str:
    """Write the export file (streaming, constant memory) and mark it ready, exactly once."""
    from .exporters import EXPORTERS

    with transaction.atomic():
        export = (
            GapReportExport.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("run", "run__cycle", "run__model_version", "org_unit")
            .filter(pk=export_id)
            .order_by()
            .first()
        )
        if export is None:
            return "busy"
        if export.status != GapReportExport.Status.PENDING:
            return "done"
        exporter = EXPORTERS[export.file_format](export.run, export.org_unit)
        with translation.override(export.language), NamedTemporaryFile(suffix=".tmp") as tmp:
            exporter.write(tmp)
            tmp.flush()
            tmp.seek(0)
            export.file.save(Path(exporter.filename()).name, File(tmp), save=False)
            export.size = export.file.size
        export.status = GapReportExport.Status.READY
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "file", "size", "finished_at"])
    return "built"


def fail_export(*, export_id: int, error: str) -> None:
    GapReportExport.objects.filter(pk=export_id, status=GapReportExport.Status.PENDING).update(
        status=GapReportExport.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )
