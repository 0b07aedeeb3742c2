"""Start (or resume) a cycle's team gap report run: ``manage.py compute_gap_reports --cycle ID``.

The run is computed by the Celery workers (or right here when no broker is configured);
``--wait`` follows its progress until it has finished.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from assessments.gap_reports import services
from assessments.models import Cycle, GapReportRun


class Command(BaseCommand):
    help = "Compute the team gap reports of a cycle (every org unit), through the Celery workers."

    def add_arguments(self, parser):
        parser.add_argument("--cycle", type=int, help="The cycle's id.")
        parser.add_argument("--grade", default="", help="Measure everyone against this grade.")
        parser.add_argument("--resume", type=int, metavar="RUN", help="Resume an unfinished run.")
        parser.add_argument("--chunk-members", type=int, default=None)
        parser.add_argument("--wait", action="store_true", help="Follow the run until it ends.")
        parser.add_argument("--timeout", type=float, default=3600)

    def handle(self, *args, cycle, grade, resume, chunk_members, wait, timeout, **options):
        if resume:
            run = self._resume(resume)
        elif cycle:
            run = self._start(cycle, grade, chunk_members)
        else:
            raise CommandError("Give --cycle ID (or --resume RUN).")
        self.stdout.write(f"run {run.pk}: {run.get_status_display()} ({run.rule_label})")
        if wait:
            self._follow(run, timeout)

    def _start(self, cycle_id, grade, chunk_members) -> GapReportRun:
        cycle = Cycle.objects.filter(pk=cycle_id).first()
        if cycle is None:
            raise CommandError(f"No cycle {cycle_id}.")
        rule = GapReportRun.TargetRule.FIXED_GRADE if grade else GapReportRun.TargetRule.OWN_GRADE
        try:
            run = services.start_gap_report(
                cycle=cycle,
                target_rule=rule,
                target_grade=grade,
                trigger=GapReportRun.Trigger.COMMAND,
                chunk_members=chunk_members,
            )
        except services.GapReportError as exc:
            raise CommandError(str(exc)) from exc
        run.refresh_from_db()
        return run

    def _resume(self, run_id) -> GapReportRun:
        run = GapReportRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"No run {run_id}.")
        sent = services.resume_gap_report(run=run)
        self.stdout.write(f"{sent} message(s) queued again")
        run.refresh_from_db()
        return run

    def _follow(self, run: GapReportRun, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        shown = None
        while time.monotonic() < deadline:
            run.refresh_from_db()
            state = (run.status, run.progress)
            if state != shown:
                self.stdout.write(
                    f"  {run.progress:3d}%  {run.units_done}/{run.units_total} units  "
                    f"{run.get_status_display()}"
                )
                shown = state
            if not run.is_active:
                break
            time.sleep(0.5)
        else:
            raise CommandError(f"run {run.pk} still {run.status} after {timeout:.0f} s")
        if run.status == GapReportRun.Status.FAILED:
            raise CommandError(f"run {run.pk} failed: {run.error}")
        seconds = (run.finished_at - run.created_at).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                f"run {run.pk} succeeded: {run.units_total} units in {seconds:.1f} s"
            )
        )
