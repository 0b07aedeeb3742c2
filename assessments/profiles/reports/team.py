"""A unit's picture in one cycle: completion, classes, category means, gaps, the heatmap."""

from collections import defaultdict
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Avg, Case, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest, NullIf

from accounts.i18n import active_language_is_english
from accounts.models import PATH_SEPARATOR, OrgUnit, subtree_q
from accounts.permissions import ASSESSMENT_WIDE_ROLES, people_scope, person_visibility_q
from competency.profiles import GradeProfile, Shape

from ...models import Assessment, Cycle, Rating
from .axes import Axis, axes_of, domains_of, grade_profiles_of, shortfall

LARGEST_GAP_MEMBERS = 10
HEATMAP_PAGE_SIZE = 50
SHAPES = [Shape.T, Shape.PI, Shape.GENERALIST, Shape.SPECIALIST, Shape.DEVELOPING]


def dashboard_units(user):
    """Units whose dashboard ``user`` may open: every unit for HR, else the headed subtrees.

    Assessments are HR data (``ASSESSMENT_WIDE_ROLES``): the admin role sees a unit only as its head.
    """
    scope = people_scope(user, ASSESSMENT_WIDE_ROLES)
    if scope.nobody:
        return OrgUnit.objects.none()
    if scope.everyone:
        return OrgUnit.objects.all()
    return OrgUnit.objects.filter(subtree_q(scope.units, "path"))


def dashboard_roots(user) -> list[OrgUnit]:
    """Where the user's dashboards start: the top units for HR, else the headed units that are
    not inside another headed unit (one query)."""
    scope = people_scope(user, ASSESSMENT_WIDE_ROLES)
    if scope.nobody:
        return []
    if scope.everyone:
        return list(OrgUnit.objects.filter(parent__isnull=True).order_by("code", "pk"))
    paths = [u.path for u in scope.units]
    tops = [
        u.pk for u in scope.units if not any(u.path != p and u.path.startswith(p) for p in paths)
    ]
    return list(OrgUnit.objects.filter(pk__in=tops).order_by("path"))


def dashboard_cycles():
    """Cycles that have assessments (open or closed), newest first."""
    return Cycle.objects.exclude(status=Cycle.Status.DRAFT).order_by(
        F("opened_at").desc(nulls_last=True), "-created_at", "-pk"
    )


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]


def _empty_tally() -> dict:
    return {"total": 0, "completed": 0, "shapes": dict.fromkeys([s.value for s in SHAPES], 0)}


def _tally_row(unit, tally: dict) -> dict:
    total, completed = tally["total"], tally["completed"]
    shapes = tally["shapes"]
    return {
        "unit": unit,
        "total": total,
        "completed": completed,
        "completion": round(100 * completed / total, 1) if total else 0.0,
        "shapes": [{"shape": s, "label": s.label, "n": shapes.get(s.value, 0)} for s in SHAPES],
        "unclassified": completed - sum(shapes.values()),
    }


def _grade_expr():
    """The member's grade: the one recorded when the cycle opened, else the person's current one."""
    return Coalesce(
        NullIf(F("assessment__target_grade"), Value("")), F("assessment__person__job_grade")
    )


def _target_expr(axes: list[Axis], profiles: list[GradeProfile]):
    """The member's minimum level in a rating's category, as SQL (NULL when the grade is unknown)."""
    # The grade is tested once per grade, not once per (grade, category): the grade expression
    # (a COALESCE over two tables) is then compiled a few times instead of sixty, which was most
    # of the team page's time.
    whens = []
    for g in profiles:
        by_category = [
            When(category_id=a.pk, then=Value(g.minimums[a.code]))
            for a in axes
            if a.code in g.minimums
        ]
        if by_category:
            inner = Case(*by_category, default=None, output_field=IntegerField())
            whens.append(When(grade=g.code, then=inner))
    return Case(*whens, default=None, output_field=IntegerField())


@dataclass
class TeamReport:
    """A unit's picture in one cycle: completion and classes (also per sub-unit), category means
    against target, the members with the largest total gap, and one page of the heatmap."""

    cycle: Cycle
    unit: OrgUnit
    axes: list[Axis]
    summary: dict
    children: list[dict]
    means: list[dict]
    largest_gaps: list[dict]
    heatmap_page: object
    heatmap: list[dict]

    @property
    def domains(self) -> list[dict]:
        return domains_of(self.axes)


def team_report(*, cycle: Cycle, unit: OrgUnit, user, page=None) -> TeamReport:
    """The unit's subtree in ``cycle``, limited to the assessments ``user`` may see.

    Members belong to the unit they were in when the cycle opened (``Assessment.org_unit``), as in
    the cycle's progress; each is measured against their own grade. Nine queries whatever the size.
    """
    version = cycle.model_version
    axes = axes_of(version)
    profiles = grade_profiles_of([version.pk])[version.pk]
    members = Assessment.objects.filter(
        person_visibility_q(user, "person", ASSESSMENT_WIDE_ROLES),
        cycle=cycle,
        org_unit__path__startswith=unit.path,
    )
    summary, children = _tallies(members, unit)
    completed = members.filter(status=Assessment.Status.COMPLETED)
    ratings = (
        Rating.objects.filter(assessment__in=completed.values("pk"))
        .annotate(grade=_grade_expr())
        .annotate(target=_target_expr(axes, profiles))
    )
    heatmap_page = Paginator(
        completed.select_related("person", "org_unit").order_by(
            "org_unit__path", "person__employee_no", "person__username", "pk"
        ),
        HEATMAP_PAGE_SIZE,
    ).get_page(page)
    return TeamReport(
        cycle=cycle,
        unit=unit,
        axes=axes,
        summary=summary,
        children=children,
        means=_category_means(ratings, axes),
        largest_gaps=_largest_gap_members(ratings),
        heatmap_page=heatmap_page,
        heatmap=_heatmap_rows(list(heatmap_page), axes, profiles),
    )


def _tallies(members, unit: OrgUnit) -> tuple[dict, list[dict]]:
    """ONE grouped query (per unit path, status, class), rolled up into the unit and its children."""
    unit_tally, tallies = _empty_tally(), defaultdict(_empty_tally)
    rows = members.order_by().values("org_unit__path", "status", "classification")
    depth = len(_path_ids(unit.path))
    for row in rows.annotate(n=Count("pk")):
        ids = _path_ids(row["org_unit__path"])
        child = ids[depth] if len(ids) > depth else None
        for tally in (unit_tally, tallies[child]):
            tally["total"] += row["n"]
            if row["status"] == Assessment.Status.COMPLETED:
                tally["completed"] += row["n"]
                if row["classification"] in tally["shapes"]:
                    tally["shapes"][row["classification"]] += row["n"]
    children = [
        _tally_row(child, tallies[child.pk])
        for child in OrgUnit.objects.filter(parent=unit).order_by("code", "pk")
        if child.pk in tallies
    ]
    if None in tallies and children:
        children.insert(0, _tally_row(None, tallies[None]))
    return _tally_row(unit, unit_tally), children


def _category_means(ratings, axes: list[Axis]) -> list[dict]:
    """Per category (ONE grouped query): members rated, mean final level, mean target, how many below."""
    grouped = {
        row["category_id"]: row
        for row in ratings.order_by()
        .values("category_id")
        .annotate(
            n=Count("final_level"),
            mean=Avg("final_level"),
            mean_target=Avg("target"),
            below=Count("pk", filter=Q(final_level__lt=F("target"))),
        )
    }
    means = []
    for axis in axes:
        row = grouped.get(axis.pk, {})
        mean, target = row.get("mean"), row.get("mean_target")
        means.append(
            {
                "axis": axis,
                "n": row.get("n", 0),
                "mean": round(float(mean), 2) if mean is not None else None,
                "target": round(float(target), 2) if target is not None else None,
                "gap": round(float(mean) - float(target), 2)
                if mean is not None and target is not None
                else None,
                "below": row.get("below", 0),
            }
        )
    return means


def _largest_gap_members(ratings) -> list[dict]:
    """The members furthest below their grade, summed over categories (ONE grouped query)."""
    short_by = Greatest(
        Coalesce(F("target"), Value(0)) - Coalesce(F("final_level"), Value(0)),
        Value(0),
        output_field=IntegerField(),
    )
    rows = (
        ratings.order_by()
        .values(
            "assessment_id",
            "assessment__person_id",
            "assessment__person__username",
            "assessment__person__display_name",
            "assessment__org_unit__name_zh",
            "assessment__org_unit__name_en",
            "grade",
        )
        .annotate(total=Sum(short_by), below=Count("pk", filter=Q(final_level__lt=F("target"))))
        .filter(total__gt=0)
        .order_by("-total", "-below", "assessment__person__username")[:LARGEST_GAP_MEMBERS]
    )
    english = active_language_is_english()
    return [
        {
            "person_id": row["assessment__person_id"],
            "name": row["assessment__person__display_name"] or row["assessment__person__username"],
            "unit": (english and row["assessment__org_unit__name_en"])
            or row["assessment__org_unit__name_zh"]
            or "",
            "grade": row["grade"],
            "total": row["total"],
            "below": row["below"],
        }
        for row in rows
    ]


def _cell_class(gap: int | None, final: int | None) -> str:
    if final is None:
        return "cell-missing"
    if gap is None:
        return "cell-no-target"
    return "cell-met" if gap >= 0 else ("cell-gap-1" if gap == -1 else "cell-gap-2")


def _heatmap_rows(page_members: list[Assessment], axes: list[Axis], profiles) -> list[dict]:
    """The page's members × categories: final level, the member's target, the difference."""
    levels: dict[int, dict[int, int | None]] = defaultdict(dict)
    for assessment_id, category_id, final in Rating.objects.filter(
        assessment_id__in=[a.pk for a in page_members]
    ).values_list("assessment_id", "category_id", "final_level"):
        levels[assessment_id][category_id] = final
    by_code = {g.code: g for g in profiles}
    rows = []
    for a in page_members:
        grade = by_code.get(a.target_grade or a.person.job_grade)
        cells = []
        for axis in axes:
            final = levels[a.pk].get(axis.pk)
            target = grade.minimums.get(axis.code) if grade else None
            diff = final - target if final is not None and target is not None else None
            cells.append(
                {
                    "axis": axis,
                    "final": final,
                    "target": target,
                    "diff": diff,
                    "css": _cell_class(diff, final),
                }
            )
        rows.append(
            {
                "assessment": a,
                "person": a.person,
                "grade": grade,
                "cells": cells,
                "total_gap": sum(shortfall(c["target"], c["final"]) or 0 for c in cells),
            }
        )
    return rows
