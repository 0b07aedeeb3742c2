"""The figures of a calibration session, each table from ONE grouped SQL query.

A session's ratings are the category ratings of the completed assessments of its cycle whose
unit (the snapshot taken when the cycle opened) lies in the session unit's subtree. The rater of
an assessment is its ``reviewer`` (who completed it).

Rater table (one query, grouped by reviewer): assessments rated, mean final level, that mean
minus the unit's mean final level, mean supervisor-minus-self difference (categories with both
levels), share of final levels 4 and 5, and the count of final levels per level.

Outlier rule (shown on the page too). A rater is flagged when all three hold:

1. they rated at least ``MIN_ASSESSMENTS`` (5) assessments in the session — fewer is too little to
   judge a rater by;
2. at least ``MIN_RATERS`` (3) raters meet rule 1 — with fewer there is no spread to compare with;
3. ``|rater mean − unit mean| > max(SD_FACTOR × SD, MIN_GAP)``, where SD is the population
   standard deviation of the mean final levels of the raters meeting rule 1, ``SD_FACTOR`` is 1
   and ``MIN_GAP`` is 0.25 level (raters who all agree closely are not flagged for noise).

Above the unit mean the rater is "lenient" (偏宽), below it "strict" (偏严). The unit mean is the
mean of all the session's final levels. A flag is a prompt to look, never an automatic change.

Category distribution (one query, grouped by category): the count and share of final levels per
level, against the optional guide distribution; a warning where the share of levels 4–5 exceeds
the guide's share of 4–5.
"""

from dataclasses import dataclass, field
from math import sqrt

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.i18n import active_language_is_english

from ..models import Assessment, CalibrationAdjustment, CalibrationSession, Rating
from ..models.calibration import GUIDE_LEVELS, TOP_LEVELS

MIN_ASSESSMENTS = 5
MIN_RATERS = 3
SD_FACTOR = 1.0
MIN_GAP = 0.25

LENIENT = "lenient"
STRICT = "strict"
FLAG_LABELS = {LENIENT: _("偏宽"), STRICT: _("偏严")}


def session_ratings(session: CalibrationSession) -> QuerySet:
    """The rating rows the session calibrates (its unit must be loaded)."""
    return Rating.objects.filter(
        assessment__cycle_id=session.cycle_id,
        assessment__status=Assessment.Status.COMPLETED,
        assessment__org_unit__path__startswith=session.org_unit.path,
    )


def _level_counts() -> dict:
    return {f"level_{v}": Count("pk", filter=Q(final_level=v)) for v in GUIDE_LEVELS}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _pct(share: float | None) -> float | None:
    """A share (0–1) as a percentage for display."""
    return None if share is None else 100 * share


# --- raters -------------------------------------------------------------------------------------


@dataclass
class RaterRow:
    """One rater's figures; ``flag`` is "", ``LENIENT`` or ``STRICT``."""

    reviewer_id: int | None
    name: str
    employee_no: str
    assessments: int
    ratings: int
    final_sum: int
    mean_final: float | None
    mean_supervisor_minus_self: float | None
    top: int
    levels: list[int]
    diff_to_unit: float | None = None
    eligible: bool = False
    flag: str = ""

    @property
    def top_share(self) -> float | None:
        return _share(self.top, self.ratings)

    @property
    def top_pct(self) -> float | None:
        return _pct(self.top_share)

    @property
    def level_shares(self) -> list[float | None]:
        return [_share(n, self.ratings) for n in self.levels]

    @property
    def level_cells(self) -> list[dict]:
        return [
            {"level": v, "count": n, "pct": _pct(_share(n, self.ratings))}
            for v, n in zip(GUIDE_LEVELS, self.levels, strict=True)
        ]

    @property
    def flag_label(self) -> str:
        return str(FLAG_LABELS.get(self.flag, ""))


@dataclass
class RaterTable:
    """The rater rows and the unit figures the rule compares them with."""

    rows: list[RaterRow] = field(default_factory=list)
    unit_mean: float | None = None
    unit_ratings: int = 0
    unit_assessments: int = 0
    unit_top: int = 0
    unit_levels: list[int] = field(default_factory=lambda: [0] * len(GUIDE_LEVELS))
    eligible_raters: int = 0
    spread: float | None = None
    threshold: float | None = None

    @property
    def unit_top_share(self) -> float | None:
        return _share(self.unit_top, self.unit_ratings)

    @property
    def unit_top_pct(self) -> float | None:
        return _pct(self.unit_top_share)

    @property
    def unit_level_shares(self) -> list[float | None]:
        return [_share(n, self.unit_ratings) for n in self.unit_levels]

    @property
    def unit_level_cells(self) -> list[dict]:
        return [
            {"level": v, "count": n, "pct": _pct(_share(n, self.unit_ratings))}
            for v, n in zip(GUIDE_LEVELS, self.unit_levels, strict=True)
        ]

    @property
    def flagged(self) -> list[RaterRow]:
        return [row for row in self.rows if row.flag]


def _rater_query(session: CalibrationSession):
    return (
        session_ratings(session)
        .order_by()
        .values(
            "assessment__reviewer_id",
            "assessment__reviewer__display_name",
            "assessment__reviewer__username",
            "assessment__reviewer__employee_no",
        )
        .annotate(
            assessments=Count("assessment_id", distinct=True),
            ratings=Count("final_level"),
            final_sum=Sum("final_level"),
            mean_final=Avg("final_level", output_field=FloatField()),
            mean_diff=Avg(F("supervisor_level") - F("self_level"), output_field=FloatField()),
            top=Count("pk", filter=Q(final_level__in=TOP_LEVELS)),
            **_level_counts(),
        )
    )


def _rater_row(group: dict) -> RaterRow:
    name = group["assessment__reviewer__display_name"] or group["assessment__reviewer__username"]
    return RaterRow(
        reviewer_id=group["assessment__reviewer_id"],
        name=name or "",
        employee_no=group["assessment__reviewer__employee_no"] or "",
        assessments=group["assessments"],
        ratings=group["ratings"],
        final_sum=group["final_sum"] or 0,
        mean_final=group["mean_final"],
        mean_supervisor_minus_self=group["mean_diff"],
        top=group["top"],
        levels=[group[f"level_{v}"] for v in GUIDE_LEVELS],
    )


def population_sd(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def apply_outlier_rule(table: RaterTable) -> None:
    """Set ``eligible`` and ``flag`` on every row (the rule in this module's docstring)."""
    for row in table.rows:
        row.eligible = row.assessments >= MIN_ASSESSMENTS and row.mean_final is not None
    means = [row.mean_final for row in table.rows if row.eligible]
    table.eligible_raters = len(means)
    if len(means) < MIN_RATERS or table.unit_mean is None:
        return
    table.spread = population_sd(means)
    table.threshold = max(SD_FACTOR * table.spread, MIN_GAP)
    for row in table.rows:
        if row.eligible and abs(row.diff_to_unit) > table.threshold:
            row.flag = LENIENT if row.diff_to_unit > 0 else STRICT


def rater_statistics(session: CalibrationSession) -> RaterTable:
    """Per rater (the assessment's reviewer) figures and flags, from one grouped query."""
    table = RaterTable(rows=[_rater_row(group) for group in _rater_query(session)])
    for row in table.rows:
        table.unit_ratings += row.ratings
        table.unit_assessments += row.assessments
        table.unit_top += row.top
        table.unit_levels = [a + b for a, b in zip(table.unit_levels, row.levels, strict=True)]
    if table.unit_ratings:
        table.unit_mean = sum(row.final_sum for row in table.rows) / table.unit_ratings
    for row in table.rows:
        if row.mean_final is not None and table.unit_mean is not None:
            row.diff_to_unit = row.mean_final - table.unit_mean
    apply_outlier_rule(table)
    table.rows.sort(key=lambda r: (-(r.mean_final or 0), r.employee_no, r.reviewer_id or 0))
    return table


# --- categories ---------------------------------------------------------------------------------


@dataclass
class CategoryRow:
    """One category's distribution of final levels in the unit, against the guide."""

    code: str
    name: str
    total: int
    mean: float | None
    levels: list[int]
    guide: dict[int, int] | None

    @property
    def shares(self) -> list[float | None]:
        return [_share(n, self.total) for n in self.levels]

    @property
    def top(self) -> int:
        return sum(self.levels[v - 1] for v in TOP_LEVELS)

    @property
    def top_share(self) -> float | None:
        return _share(self.top, self.total)

    @property
    def top_pct(self) -> float | None:
        return _pct(self.top_share)

    @property
    def guide_top_share(self) -> float | None:
        if self.guide is None:
            return None
        return sum(self.guide[v] for v in TOP_LEVELS) / 100

    @property
    def guide_top_pct(self) -> float | None:
        return _pct(self.guide_top_share)

    @property
    def cells(self) -> list[dict]:
        """Per level: count, share and guide share (for the template)."""
        return [
            {
                "level": v,
                "count": self.levels[i],
                "share": self.shares[i],
                "pct": _pct(self.shares[i]),
                "guide": None if self.guide is None else self.guide[v] / 100,
                "guide_pct": None if self.guide is None else self.guide[v],
            }
            for i, v in enumerate(GUIDE_LEVELS)
        ]

    @property
    def top_warning(self) -> bool:
        """More levels 4–5 than the guide expects (never without a guide or without ratings)."""
        guide, share = self.guide_top_share, self.top_share
        return guide is not None and share is not None and share > guide + 1e-9


def category_distribution(session: CalibrationSession) -> list[CategoryRow]:
    """Per category of the cycle's model, in model order: the final levels' distribution."""
    english = active_language_is_english()
    groups = (
        session_ratings(session)
        .order_by()
        .values(
            "category_id",
            "category__code",
            "category__name_zh",
            "category__name_en",
            "category__domain__order",
            "category__order",
        )
        .annotate(
            total=Count("final_level"),
            mean=Avg("final_level", output_field=FloatField()),
            **_level_counts(),
        )
        .order_by("category__domain__order", "category__order")
    )
    guide = session.guide
    return [
        CategoryRow(
            code=g["category__code"],
            name=(g["category__name_en"] if english else "") or g["category__name_zh"],
            total=g["total"],
            mean=g["mean"],
            levels=[g[f"level_{v}"] for v in GUIDE_LEVELS],
            guide=guide,
        )
        for g in groups
    ]


# --- the grid -----------------------------------------------------------------------------------


def grid_assessments(session: CalibrationSession, *, unit=None, reviewer_id=None) -> QuerySet:
    """The session's assessments in team order, optionally one team's subtree or one rater's."""
    assessments = (
        session.assessments()
        .select_related("person", "org_unit", "reviewer")
        .order_by("org_unit__path", "person__employee_no", "pk")
    )
    if unit is not None:
        assessments = assessments.filter(org_unit__path__startswith=unit.path)
    if reviewer_id is not None:
        assessments = assessments.filter(reviewer_id=reviewer_id)
    return assessments


def grid_ratings(assessments: list[Assessment]) -> dict[int, list[Rating]]:
    """The ratings of ``assessments`` (ONE query), in model order, each marked ``adjusted``."""
    adjusted = CalibrationAdjustment.objects.filter(rating=OuterRef("pk"))
    rows: dict[int, list[Rating]] = {a.pk: [] for a in assessments}
    ratings = (
        Rating.objects.filter(assessment__in=[a.pk for a in assessments])
        .select_related("category")
        .annotate(adjusted=Exists(adjusted))
        .order_by("assessment_id", "category__domain__order", "category__order")
    )
    for rating in ratings:
        rows[rating.assessment_id].append(rating)
    return rows


def assessment_ratings(assessment: Assessment) -> tuple[list[Rating], list[CalibrationAdjustment]]:
    """One assessment's ratings in model order (each marked ``adjusted``) and every adjustment
    of it in any session, newest first (two queries)."""
    history = list(
        CalibrationAdjustment.objects.filter(assessment=assessment)
        .select_related("actor", "category", "session__org_unit")
        .order_by("-at", "-pk")
    )
    adjusted = {a.rating_id for a in history}
    ratings = list(
        assessment.ratings.select_related("category").order_by(
            "category__domain__order", "category__order"
        )
    )
    for rating in ratings:
        rating.adjusted = rating.pk in adjusted
    return ratings, history


# --- the list of sessions -----------------------------------------------------------------------


def session_overview(user) -> QuerySet:
    """The sessions ``user`` may see, newest first, with their completed assessments and
    adjustments counted in the same query."""
    completed = Assessment.objects.filter(
        cycle=OuterRef("cycle"),
        status=Assessment.Status.COMPLETED,
        org_unit__path__startswith=OuterRef("org_unit__path"),
    )
    counted = completed.order_by().values("cycle").annotate(n=Count("pk")).values("n")
    return (
        CalibrationSession.objects.visible_to(user)
        .select_related("cycle", "org_unit")
        .annotate(
            assessment_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0),
            adjustment_count=Count("adjustments"),
        )
        .order_by("-created_at", "-pk")
    )
