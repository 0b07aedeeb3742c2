"""Report-shaped reads of stored gap report runs, shared by the pages, the exports and the PDF.

Who sees what is decided here once, from ``accounts.permissions``: HR (assessment data is HR
data) sees every unit; a head sees the units they head and everything below; nobody else sees
gap reports. Every read takes a fixed number of queries whatever the size of the organisation.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Collate
from django.http import Http404

from accounts.models import OrgUnit, subtree_q
from accounts.permissions import (
    ASSESSMENT_WIDE_ROLES,
    Capability,
    PeopleScope,
    has_capability,
    people_scope,
)

from ..models import (
    GapCategoryStat,
    GapIndustryStat,
    GapMemberRow,
    GapReportRun,
    GapUnitSummary,
)
from .computation import path_ids


def report_scope(user) -> PeopleScope:
    """Everyone for HR, the headed subtrees for a head with a team view, nobody otherwise."""
    if not (
        has_capability(user, Capability.VIEW_TEAM)
        or has_capability(user, Capability.EXPORT_REPORTS)
    ):
        return PeopleScope(nobody=True)
    return people_scope(user, ASSESSMENT_WIDE_ROLES)


def may_see_reports(user) -> bool:
    scope = report_scope(user)
    return not scope.nobody and (scope.everyone or bool(scope.units))


def may_start_runs(user) -> bool:
    """Starting a run computes every unit of a cycle: HR's, with the organisation-wide view."""
    return has_capability(user, Capability.EXPORT_REPORTS) and report_scope(user).everyone


def unit_visible(user, unit: OrgUnit) -> bool:
    scope = report_scope(user)
    if scope.nobody:
        return False
    return scope.everyone or any(unit.path.startswith(head.path) for head in scope.units)


def may_export(user, unit: OrgUnit) -> bool:
    return has_capability(user, Capability.EXPORT_REPORTS) and unit_visible(user, unit)


def _visible_units_q(user, field: str = "org_unit") -> Q:
    scope = report_scope(user)
    if scope.nobody:
        return Q(pk__in=[])
    if scope.everyone:
        return Q()
    return subtree_q(scope.units, f"{field}__path")


def visible_runs(user):
    """HR: every run. A head: the finished runs with a report on a unit they may see."""
    runs = GapReportRun.objects.select_related("cycle", "model_version", "requested_by")
    if report_scope(user).everyone:
        return runs
    units = GapUnitSummary.objects.filter(_visible_units_q(user)).values("run")
    return runs.filter(status=GapReportRun.Status.SUCCEEDED, pk__in=units)


def get_run(user, pk) -> GapReportRun:
    run = visible_runs(user).filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


def get_unit(user, run: GapReportRun, unit_id) -> OrgUnit:
    """A unit of the run the user may see (404 otherwise: its existence is not revealed)."""
    summary = (
        GapUnitSummary.objects.filter(run=run, org_unit_id=unit_id)
        .select_related("org_unit")
        .first()
    )
    if summary is None or not unit_visible(user, summary.org_unit):
        raise Http404
    return summary.org_unit


def _tree_order(rows, unit_of=lambda row: row.org_unit):
    # Sorting by the ids in the path keeps every subtree together under any database collation.
    return sorted(rows, key=lambda row: path_ids(unit_of(row).path))


def run_units(run: GapReportRun, user) -> list[GapUnitSummary]:
    """The run's unit summaries the user may see, in tree order (one query)."""
    rows = GapUnitSummary.objects.filter(run=run).filter(_visible_units_q(user))
    return _tree_order(rows.select_related("org_unit"))


def unit_summaries(run: GapReportRun, user):
    """The same rows as ``run_units`` as a queryset in path order (one query a page, for the API)."""
    return (
        GapUnitSummary.objects.filter(run=run)
        .filter(_visible_units_q(user))
        .select_related("org_unit")
        .order_by(_path_order())
    )


def largest_unit(run: GapReportRun) -> OrgUnit | None:
    """The unit with the most members in the run (for operator tools: commands, the benchmark)."""
    row = (
        GapUnitSummary.objects.filter(run=run)
        .select_related("org_unit")
        .order_by("-headcount", "org_unit__depth")
        .first()
    )
    return row.org_unit if row else None


def top_units(rows: list[GapUnitSummary]) -> list[GapUnitSummary]:
    """The highest units among ``rows`` (a head's own units; the province for HR)."""
    paths = [row.org_unit.path for row in rows]
    return [
        row
        for row in rows
        if not any(row.org_unit.path != p and row.org_unit.path.startswith(p) for p in paths)
    ]


@dataclass
class UnitReport:
    """Everything one unit's report shows, in model order, read in four queries."""

    run: GapReportRun
    unit: OrgUnit
    summary: GapUnitSummary
    categories: list[GapCategoryStat]
    industries: list[GapIndustryStat]

    @property
    def priorities(self) -> list[GapCategoryStat]:
        return sorted((c for c in self.categories if c.priority), key=lambda c: c.priority)

    @property
    def category_names(self) -> list[str]:
        return self.run.category_names()


def unit_report(run: GapReportRun, unit: OrgUnit) -> UnitReport:
    position = {c["id"]: i for i, c in enumerate(run.categories)}
    categories = sorted(
        GapCategoryStat.objects.filter(run=run, org_unit=unit).select_related("category"),
        key=lambda stat: position.get(stat.category_id, len(position)),
    )
    industries = list(
        GapIndustryStat.objects.filter(run=run, org_unit=unit)
        .select_related("industry")
        .order_by("industry__order", "industry_id")
    )
    summary = GapUnitSummary.objects.get(run=run, org_unit=unit)
    return UnitReport(run, unit, summary, categories, industries)


def _path_order():
    # A byte-wise order keeps each subtree's paths together ("/1/10/" never inside "/1/1/").
    if connection.vendor == "postgresql":
        return Collate(F("org_unit__path"), "C")
    return F("org_unit__path")


def member_rows(run: GapReportRun, unit: OrgUnit):
    """The members of the unit's subtree in the run, by unit then employee number."""
    return (
        GapMemberRow.objects.filter(run=run, org_unit__path__startswith=unit.path)
        .select_related("person", "org_unit")
        .order_by(_path_order(), "person__employee_no", "person__username", "pk")
    )


def member_values(run: GapReportRun, unit: OrgUnit):
    """The same members as plain tuples, streamed from a server-side cursor (for large exports)."""
    return (
        member_rows(run, unit)
        .values_list(
            "person__employee_no",
            "person__display_name",
            "person__username",
            "org_unit__name_zh",
            "org_unit__name_en",
            "grade",
            "status",
            "classification",
            "levels",
            "below",
            "shortfall",
            "best_depth",
        )
        .iterator(chunk_size=2000)
    )


@dataclass(frozen=True)
class HeatCell:
    """One member × category cell of the heatmap: the gap, its colour class and its details."""

    gap: int | None
    level: int | None
    target: int | None

    @property
    def text(self) -> str:
        if self.gap is None:
            return "" if self.level is None else str(self.level)
        return f"+{self.gap}" if self.gap > 0 else ("0" if self.gap == 0 else f"−{-self.gap}")

    @property
    def css(self) -> str:
        if self.gap is None:
            return "gap-none"
        if self.gap < 0:
            return f"gap-n{min(-self.gap, 3)}"
        return f"gap-p{min(self.gap, 2)}" if self.gap else "gap-0"


def heat_cells(member: GapMemberRow, targets: list[int | None]) -> list[HeatCell]:
    return [
        HeatCell(None if level is None or target is None else level - target, level, target)
        for level, target in zip(member.levels, targets, strict=False)
    ]
