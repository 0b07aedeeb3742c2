"""One person's T shape: the latest result against their grades, history, gaps, the plan."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Q, When
from django.db.models.functions import Coalesce

from accounts.i18n import active_language_is_english
from accounts.models import User
from competency.models import ModelVersion
from competency.profiles import (
    Classification,
    GradeCheck,
    GradeProfile,
    Thresholds,
    check_grade,
    classify,
)

from ...models import (
    Assessment,
    Cycle,
    DevelopmentGoal,
    GoalComment,
    IndustryRating,
    LearningResource,
    Rating,
)
from .axes import Axis, axes_of, domains_of, grade_and_next, grade_profiles_of, shortfall

TOP_GAPS = 3
RESOURCES_PER_GAP = 3


@dataclass
class CycleFigures:
    """One completed assessment as figures: levels per category, depths, class, gap to its grade."""

    assessment: Assessment
    final: dict[str, int | None]
    self_levels: dict[str, int | None]
    supervisor: dict[str, int | None]
    depths: list[dict]
    classification: Classification
    grade: GradeProfile | None = None
    total_gap: int | None = None

    @property
    def cycle(self) -> Cycle:
        return self.assessment.cycle


@dataclass
class GapItem:
    """A category below the next grade's minimum, with what to learn for it."""

    axis: Axis
    actual: int | None
    required: int
    resources: list = field(default_factory=list)

    @property
    def gap(self) -> int:
        return self.required - (self.actual or 0)


@dataclass
class Profile:
    """Everything the profile page shows about one person (``latest`` is None before any result)."""

    person: User
    axes: list[Axis]
    history: list[CycleFigures]
    current_grade: GradeProfile | None = None
    next_grade: GradeProfile | None = None
    next_check: GradeCheck | None = None
    gaps: list[GapItem] = field(default_factory=list)
    version: ModelVersion | None = None

    @property
    def latest(self) -> CycleFigures | None:
        return self.history[-1] if self.history else None

    @property
    def domains(self) -> list[dict]:
        return domains_of(self.axes)

    def targets(self, grade: GradeProfile | None) -> list[int | None]:
        return [grade.minimums.get(a.code) if grade else None for a in self.axes]

    def domain_means(self) -> list[dict]:
        """Per domain, its mean final level in every completed cycle, oldest first."""
        means = []
        for domain in self.domains:
            values = []
            for fig in self.history:
                levels = [fig.final.get(a.code) for a in domain["axes"]]
                levels = [v for v in levels if v is not None]
                values.append(round(sum(levels) / len(levels), 2) if levels else None)
            means.append({"domain": domain, "values": values})
        return means

    def history_rows(self) -> list[dict]:
        """Every completed cycle as one row: levels in axis order, domain means, depth, class, gap."""
        means = self.domain_means()
        return [
            {
                "figures": fig,
                "levels": [fig.final.get(a.code) for a in self.axes],
                "domain_means": [m["values"][i] for m in means],
            }
            for i, fig in enumerate(self.history)
        ]

    def rows(self) -> list[dict]:
        """Per category of the latest result: levels, targets, self − supervisor difference."""
        latest = self.latest
        rows = []
        for axis, now, nxt in zip(
            self.axes, self.targets(self.current_grade), self.targets(self.next_grade), strict=True
        ):
            own, sup = latest.self_levels.get(axis.code), latest.supervisor.get(axis.code)
            rows.append(
                {
                    "axis": axis,
                    "final": latest.final.get(axis.code),
                    "self": own,
                    "supervisor": sup,
                    "difference": own - sup if own is not None and sup is not None else None,
                    "target": now,
                    "next_target": nxt,
                    "next_gap": shortfall(nxt, latest.final.get(axis.code)),
                }
            )
        return rows


def _completed_of(person):
    return (
        Assessment.objects.filter(person=person, status=Assessment.Status.COMPLETED)
        .select_related("cycle__model_version")
        .order_by(Coalesce("cycle__opened_at", "cycle__created_at"), "cycle_id")
    )


def _figures(assessments, thresholds_of) -> list[CycleFigures]:
    """Levels and depths of many assessments, read with one query per table."""
    ids = [a.pk for a in assessments]
    levels: dict[int, dict[str, dict]] = defaultdict(lambda: defaultdict(dict))
    for r in Rating.objects.filter(assessment_id__in=ids).values(
        "assessment_id", "category__code", "self_level", "supervisor_level", "final_level"
    ):
        by_kind = levels[r["assessment_id"]]
        by_kind["final"][r["category__code"]] = r["final_level"]
        by_kind["self"][r["category__code"]] = r["self_level"]
        by_kind["supervisor"][r["category__code"]] = r["supervisor_level"]
    depths: dict[int, list[dict]] = defaultdict(list)
    english = active_language_is_english()
    for d in (
        IndustryRating.objects.filter(assessment_id__in=ids)
        .order_by("industry__order", "pk")
        .values(
            "assessment_id",
            "industry__code",
            "industry__name_zh",
            "industry__name_en",
            "self_depth",
            "final_depth",
        )
    ):
        depths[d["assessment_id"]].append(
            {
                "code": d["industry__code"],
                "name": (english and d["industry__name_en"]) or d["industry__name_zh"],
                "self": d["self_depth"],
                "final": d["final_depth"],
            }
        )
    figures = []
    for a in assessments:
        final = dict(levels[a.pk]["final"])
        figures.append(
            CycleFigures(
                assessment=a,
                final=final,
                self_levels=dict(levels[a.pk]["self"]),
                supervisor=dict(levels[a.pk]["supervisor"]),
                depths=depths[a.pk],
                classification=classify(
                    final, [d["final"] for d in depths[a.pk]], thresholds_of(a)
                ),
            )
        )
    return figures


def person_profile(person: User, *, language: str) -> Profile:
    """The person's T shape from their completed assessments: the latest one against their current
    grade (``job_grade``) and the next grade, every earlier one as history, and the three largest
    gaps to the next grade with learning resources (``language`` first).

    Seven queries whatever the number of cycles.
    """
    assessments = list(_completed_of(person))
    if not assessments:
        return Profile(person=person, axes=[], history=[])
    history = _figures(assessments, lambda a: Thresholds.of(a.cycle.model_version))
    version = assessments[-1].cycle.model_version
    profiles = grade_profiles_of({a.cycle.model_version_id for a in assessments})
    for fig in history:
        own = fig.assessment.target_grade or person.job_grade
        fig.grade = grade_and_next(profiles[fig.cycle.model_version_id], own)[0]
        if fig.grade:
            fig.total_gap = sum(
                shortfall(req, fig.final.get(code)) for code, req in fig.grade.minimums.items()
            )
    profile = Profile(person=person, axes=axes_of(version), history=history, version=version)
    profile.current_grade, profile.next_grade = grade_and_next(
        profiles[version.pk], person.job_grade
    )
    if profile.next_grade:
        latest = profile.latest
        profile.next_check = check_grade(
            profile.next_grade, latest.final, [d["final"] for d in latest.depths]
        )
        profile.gaps = _largest_gaps(profile)
        _attach_resources(profile.gaps, language)
    return profile


def plan_axes(person: User) -> list[Axis]:
    """Categories a goal may name: those of the person's latest result, else of the latest model."""
    latest = _completed_of(person).last()
    version = latest.cycle.model_version if latest else ModelVersion.objects.latest_published()
    return axes_of(version) if version else []


def _largest_gaps(profile: Profile) -> list[GapItem]:
    final = profile.latest.final
    gaps = [
        GapItem(axis=axis, actual=final.get(axis.code), required=required)
        for axis, required in zip(profile.axes, profile.targets(profile.next_grade), strict=True)
        if required is not None and (final.get(axis.code) or 0) < required
    ]
    # Largest first; equal gaps keep the model's order.
    return sorted(gaps, key=lambda g: -g.gap)[:TOP_GAPS]


def _attach_resources(gaps: list[GapItem], language: str) -> None:
    """Catalogue entries for each gap: same category code, target level ≥ the level needed."""
    if not gaps:
        return
    wanted = Q(pk__in=[])
    for g in gaps:
        wanted |= Q(category_code=g.axis.code, target_level__gte=g.required)
    found = list(LearningResource.objects.active().filter(wanted))
    for g in gaps:
        mine = [r for r in found if r.category_code == g.axis.code and r.target_level >= g.required]
        mine.sort(key=lambda r: (r.language != language, r.target_level, r.title_zh, r.pk))
        g.resources = mine[:RESOURCES_PER_GAP]


def development_plan(person: User, axes: list[Axis]) -> list[DevelopmentGoal]:
    """The person's goals, open ones first by due date, each with its comments and its category's
    name from ``axes`` (two queries)."""
    names = {a.code: a.label for a in axes}
    goals = list(
        DevelopmentGoal.objects.filter(person=person).order_by(
            Case(
                When(
                    status__in=[DevelopmentGoal.Status.DONE, DevelopmentGoal.Status.DROPPED], then=1
                ),
                default=0,
            ),
            "due_date",
            "pk",
        )
    )
    comments: dict[int, list] = defaultdict(list)
    for c in GoalComment.objects.filter(goal__in=[g.pk for g in goals]).select_related("actor"):
        comments[c.goal_id].append(c)
    for g in goals:
        g.comment_list = comments[g.pk]
        g.category_label = names.get(g.category_code, g.category_code)
    return goals
