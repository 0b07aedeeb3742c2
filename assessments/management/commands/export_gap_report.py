"""Write a unit's gap report as a file: ``manage.py export_gap_report --run ID --format xlsx``.

The same exporter classes as the download and the worker (``EXPORTERS``).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.models import OrgUnit
from assessments.gap_reports.exporters import EXPORTERS
from assessments.gap_reports.reports import largest_unit
from assessments.models import GapReportRun, GapUnitSummary


class Command(BaseCommand):
    help = "Export one unit's team gap report of a finished run as xlsx, csv or pdf."

    def add_arguments(self, parser):
        parser.add_argument("--run", type=int, required=True)
        parser.add_argument("--format", choices=sorted(EXPORTERS), default="xlsx")
        parser.add_argument("--unit", default="", help="Unit code (default: the top unit).")
        parser.add_argument("--language", choices=["zh-hans", "en"], default="zh-hans")
        parser.add_argument("--output", default="", help="File to write (default: ./<name>).")

    def handle(self, *args, run, format, unit, language, output, **options):
        report_run = GapReportRun.objects.select_related("cycle", "model_version").filter(pk=run)
        report_run = report_run.first()
        if report_run is None or report_run.status != GapReportRun.Status.SUCCEEDED:
            raise CommandError(f"Run {run} does not exist or has not finished.")
        org_unit = self._unit(report_run, unit)
        exporter = EXPORTERS[format](report_run, org_unit)
        path = Path(output or exporter.filename())
        with translation.override(language), path.open("wb") as fh:
            exporter.write(fh)
        self.stdout.write(f"{path} ({path.stat().st_size} bytes)")

    def _unit(self, run: GapReportRun, code: str) -> OrgUnit:
        if code:
            summary = GapUnitSummary.objects.filter(run=run, org_unit__code=code)
            summary = summary.select_related("org_unit").first()
            if summary is None:
                raise CommandError(f"Unit {code} has no report in run {run.pk}.")
            return summary.org_unit
        unit = largest_unit(run)
        if unit is None:
            raise CommandError(f"Run {run.pk} has no units.")
        return unit
