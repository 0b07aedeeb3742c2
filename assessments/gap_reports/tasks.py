"""Celery tasks of the team gap reports (discovered by config.celery_app).

Thin: ids in, a small JSON answer out; the work and its exactly-once rules live in ``services``.
Their names start with ``compute_`` so they go to the "reports" queue. Late acknowledgement (set
for every task in settings) plus row claims make a redelivered message harmless.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

# A lost database connection or a deadlock is worth another try; anything else fails the run.
RETRYABLE = (OperationalError, InterfaceError)
LIMITS = {"soft_time_limit": 20 * 60, "time_limit": 25 * 60, "max_retries": 5}
BUSY_RETRY_SECONDS = 10


def _guard(task, run_id: int, work):
    try:
        return work()
    except RETRYABLE as exc:
        if task.request.retries >= task.max_retries:
            services.fail_run(run_id=run_id, error=str(exc))
            raise
        raise task.retry(exc=exc, countdown=2 ** (task.request.retries + 1)) from exc
    except Exception as exc:
        services.fail_run(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(bind=True, **LIMITS)
def compute_gap_report(self, run_id: int) -> dict:
    """Plan the run into chunks, queue all but the first, compute the first one here.

    A redelivered message (its worker died) finds the run planned and still owes chunk 1: no
    other message carries it, so the first chunk is computed whether or not this call planned.
    """

    def work():
        planned = services.plan_run(run_id=run_id)
        first = services.compute_chunk(run_id=run_id, number=1)
        if planned and first == "inactive":  # nothing to compute: no participants with a unit
            services.finish_run(run_id=run_id)
        return {"run": run_id, "planned": planned, "chunk": first}

    outcome = _guard(self, run_id, work)
    if outcome["chunk"] == "busy":
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    return outcome


@shared_task(bind=True, **LIMITS)
def compute_gap_report_chunk(self, run_id: int, number: int) -> dict:
    """One chunk of units; a chunk another transaction holds is tried again a little later."""
    outcome = _guard(self, run_id, lambda: services.compute_chunk(run_id=run_id, number=number))
    if outcome == "busy":
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    return {"run": run_id, "chunk": number, "outcome": outcome}


@shared_task(bind=True, **LIMITS)
def compute_gap_report_finish(self, run_id: int) -> dict:
    """The last step alone (queued by a resume when every chunk is done but the run is not)."""
    return {
        "run": run_id,
        "finished": _guard(self, run_id, lambda: services.finish_run(run_id=run_id)),
    }


@shared_task(bind=True, **LIMITS)
def compute_gap_report_export(self, export_id: int) -> dict:
    """Build one export file (xlsx, csv or pdf) in constant memory."""
    try:
        outcome = services.build_export(export_id=export_id)
    except RETRYABLE as exc:
        if self.request.retries >= self.max_retries:
            services.fail_export(export_id=export_id, error=str(exc))
            raise
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
    except Exception as exc:
        services.fail_export(export_id=export_id, error=f"{type(exc).__name__}: {exc}")
        raise
    if outcome == "busy":
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    return {"export": export_id, "outcome": outcome}


@shared_task(bind=True, max_retries=3, soft_time_limit=5 * 60, time_limit=6 * 60)
def compute_nightly_gap_reports(self) -> dict:
    """Beat, nightly: a run for every open cycle; runs left behind by a lost worker resumed."""
    return {"runs": services.start_nightly_runs()}
