"""The API of team gap reports: runs (HR starts and resumes them; HR and heads read them), each
run's unit rows and unit reports, the members of a unit, and the exports (HR asks for a unit's
report as a file, a worker builds it with ``exporters.EXPORTERS``, HR downloads it).

Scoping is ``reports``' (the pages' one rule): HR sees every unit; a head sees the units they
head and below, and only finished runs that report on one of them; nobody else reads gap
reports (403). A run, unit or export out of scope answers 404. Starting a run enqueues the same
Celery task the page does (``services.start_gap_report``).
"""

from .exports import GapReportExportViewSet
from .runs import GapReportRunViewSet
from .units import GapReportMemberViewSet, GapReportUnitViewSet

__all__ = [
    "GapReportExportViewSet",
    "GapReportMemberViewSet",
    "GapReportRunViewSet",
    "GapReportUnitViewSet",
]
