"""Report-shaped reads about cycles: the cycle list, progress per org unit, who is late.

Each returns plain data (or a queryset) in a fixed number of queries whatever the number of
people or units, so the pages, exports and tasks can share them.
"""

from collections import defaultdict

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import PATH_SEPARATOR, OrgUnit

from .models import SELF_EDITABLE, Assessment, Cycle

# Progress columns, in the order the assessment moves through them.
PROGRESS_STATUSES = [
    Assessment.Status.NOT_STARTED,
    Assessment.Status.SELF_IN_PROGRESS,
    Assessment.Status.SUBMITTED,
    Assessment.Status.RETURNED,
    Assessment.Status.COMPLETED,
    Assessment.Status.NOT_COMPLETED,
]


def late_self_q(today) -> Q:
    """Still in the manager's hands after the self-phase deadline."""
    return Q(status__in=SELF_EDITABLE, cycle__self_deadline__lt=today)


def late_review_q(today) -> Q:
    """Submitted but not reviewed after the supervisor-phase deadline."""
    return Q(status=Assessment.Status.SUBMITTED, cycle__review_deadline__lt=today)


def _count_of(queryset, group: str):
    """A correlated COUNT(*) of ``queryset`` (already filtered on OuterRef), 0 when none."""
    counted = queryset.order_by().values(group).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def cycle_overview():
    """Every cycle with its model version, selection sizes, assessment and completion counts."""
    of_cycle = {"cycle": OuterRef("pk")}
    assessments = Assessment.objects.filter(**of_cycle)
    return Cycle.objects.select_related("model_version").annotate(
        assessment_count=_count_of(assessments, "cycle"),
        completed_count=_count_of(assessments.completed(), "cycle"),
        unit_count=_count_of(Cycle.participant_units.through.objects.filter(**of_cycle), "cycle"),
        people_count=_count_of(
            Cycle.participant_people.through.objects.filter(**of_cycle), "cycle"
        ),
    )


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]


def _empty_tally() -> dict:
    return {"counts": dict.fromkeys(PROGRESS_STATUSES, 0), "late_self": 0, "late_review": 0}


def _grouped_counts(cycle: Cycle):
    """ONE grouped query: assessments per (unit, status), with the late ones counted alongside."""
    today = timezone.localdate()
    return (
        Assessment.objects.filter(cycle=cycle)
        .order_by()
        .values("org_unit_id", "org_unit__path", "status")
        .annotate(
            n=Count("pk"),
            late_self=Count("pk", filter=late_self_q(today)),
            late_review=Count("pk", filter=late_review_q(today)),
        )
    )


def _row(unit, tally: dict) -> dict:
    counts = tally["counts"]
    total = sum(counts.values())
    completed = counts[Assessment.Status.COMPLETED]
    return {
        "unit": unit,
        "depth": unit.depth if unit else 0,
        "counts": counts,
        "status_counts": [counts[s] for s in PROGRESS_STATUSES],
        "total": total,
        "completed": completed,
        "unfinished": total - completed - counts[Assessment.Status.NOT_COMPLETED],
        "completion": round(100 * completed / total, 1) if total else 0.0,
        "late_self": tally["late_self"],
        "late_review": tally["late_review"],
        "late": tally["late_self"] + tally["late_review"],
    }


def cycle_progress(cycle: Cycle) -> list[dict]:
    """Counts per status, total, completion % and late counts for every org unit with
    participants in its subtree, in tree order; each unit's figures cover its whole subtree.

    Two queries whatever the size: the grouped counts, then the units they roll up into.
    People without a unit come last in a row whose ``unit`` is None.
    """
    tallies: dict = defaultdict(_empty_tally)
    for group in _grouped_counts(cycle):
        path = group["org_unit__path"]
        for unit_id in _path_ids(path) if path else [None]:
            tally = tallies[unit_id]
            tally["counts"][group["status"]] += group["n"]
            tally["late_self"] += group["late_self"]
            tally["late_review"] += group["late_review"]
    units = OrgUnit.objects.filter(pk__in=[pk for pk in tallies if pk is not None]).only(
        "pk", "code", "name_zh", "name_en", "kind", "path", "depth", "parent"
    )
    # Sorting by the ids in the path keeps every subtree together under any DB collation.
    rows = [_row(u, tallies[u.pk]) for u in sorted(units, key=lambda u: _path_ids(u.path))]
    if None in tallies:
        rows.append(_row(None, tallies[None]))
    return rows


def progress_total(rows: list[dict]) -> dict:
    """The whole cycle's figures: the sum of the top-level rows (and the row of people without unit)."""
    total = _empty_tally()
    for row in rows:
        if row["unit"] is None or row["unit"].parent_id is None:
            for status, n in row["counts"].items():
                total["counts"][status] += n
            total["late_self"] += row["late_self"]
            total["late_review"] += row["late_review"]
    return _row(None, total)


def late_assessments(cycle: Cycle, unit: OrgUnit | None = None):
    """Assessments waiting past the deadline of their phase (in ``unit``'s subtree when given).

    ``late_phase`` says which deadline was missed: "self" or "review".
    """
    today = timezone.localdate()
    late = (
        Assessment.objects.filter(cycle=cycle)
        .filter(late_self_q(today) | late_review_q(today))
        .select_related("person", "org_unit")
        .annotate(
            late_phase=Case(
                When(status=Assessment.Status.SUBMITTED, then=Value("review")),
                default=Value("self"),
            )
        )
        .order_by("org_unit__path", "person__employee_no", "pk")
    )
    if unit is not None:
        late = late.filter(org_unit__path__startswith=unit.path)
    return late


def late_counts(cycle: Cycle) -> dict:
    """How many assessments are late in each phase right now (one query)."""
    today = timezone.localdate()
    return Assessment.objects.filter(cycle=cycle).aggregate(
        late_self=Count("pk", filter=late_self_q(today)),
        late_review=Count("pk", filter=late_review_q(today)),
    )
