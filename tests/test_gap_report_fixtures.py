"""Shared data for the gap report tests: a small organisation with varied, seeded ratings, and an
independent, deliberately plain Python computation of every figure the report stores.

(No tests here; the module is named so the gap report test modules can import it.)
"""

import random
from dataclasses import dataclass, field
from fractions import Fraction

import pytest

from accounts.models import OrgUnit
from accounts.permissions import Role
from assessments.gap_reports import computation
from assessments.models import (
    Assessment,
    Cycle,
    GapCategoryStat,
    GapIndustryStat,
    GapMemberRow,
    GapUnitSummary,
    IndustryRating,
    Rating,
)
from competency.models import Category, Grade
from competency.profiles import Shape, Thresholds, classify

from .factories import OrgUnitFactory, UserFactory

# grade codes people carry: real ones, none, and one the model does not know
GRADES = ["G1", "G2", "G3", "G4", "G5", "", "G9"]


def _level(rng, grade_index: int) -> int:
    return max(1, min(5, round(rng.gauss(1.8 + 0.45 * grade_index, 0.9))))


def fill_ratings(cycle: Cycle, seed: int = 6) -> None:
    """Complete most assessments with seeded final levels, depths and T-shape classes."""
    rng = random.Random(seed)
    version = cycle.model_version
    industries = list(version.industries.order_by("order"))
    thresholds = Thresholds.of(version)
    assessments = list(
        Assessment.objects.filter(cycle=cycle).select_related("person").order_by("person__username")
    )
    for i, assessment in enumerate(assessments):
        status = [Assessment.Status.COMPLETED] * 6 + [
            Assessment.Status.NOT_COMPLETED,
            Assessment.Status.SUBMITTED,
        ]
        assessment.status = status[i % len(status)]
        completed = assessment.status == Assessment.Status.COMPLETED
        grade_index = (
            GRADES.index(assessment.target_grade) if assessment.target_grade in GRADES else 2
        )
        ratings = list(assessment.ratings.select_related("category"))
        for rating in ratings:
            rating.self_level = _level(rng, grade_index)
            rating.supervisor_level = _level(rng, grade_index) if completed else None
            rating.final_level = rating.supervisor_level
        Rating.objects.bulk_update(ratings, ["self_level", "supervisor_level", "final_level"])
        depths = []
        assessment.industry_ratings.all().delete()
        for industry in rng.sample(industries, k=rng.choice([0, 1, 1, 2, 3])):
            depth = max(1, min(5, round(rng.gauss(2.5 + 0.3 * grade_index, 1.1))))
            final = depth if completed else None
            IndustryRating.objects.create(
                assessment=assessment,
                industry=industry,
                self_depth=depth,
                supervisor_depth=final,
                final_depth=final,
            )
            depths.append(final)
        if completed:
            levels = {r.category.code: r.final_level for r in ratings}
            assessment.classification = classify(levels, depths, thresholds).shape
        assessment.save(update_fields=["status", "classification"])


@pytest.fixture
def gap_org(org, personas):
    """The personas' organisation plus a second team in C1 and a district with a team under C2.

    P → C1 → A, A2; P → C2 → B, D → B2. Around thirty people with every kind of target grade.
    """
    org = dict(org)
    org["A2"] = OrgUnitFactory(code="A2", name_zh="甲二队", name_en="Team A2", parent=org["C1"])
    org["D"] = OrgUnitFactory(
        code="D",
        name_zh="丙区县",
        name_en="District D",
        kind=OrgUnit.Kind.DISTRICT,
        parent=org["C2"],
    )
    org["B2"] = OrgUnitFactory(code="B2", name_zh="丙队", name_en="Team B2", parent=org["D"])
    OrgUnitFactory(code="EMPTY", name_zh="空队", parent=org["C2"])  # nobody: no row
    head_d = UserFactory(username="head_d", org_unit=org["D"], roles=[Role.SUPERVISOR])
    org["D"].heads.add(head_d)
    n = 0
    for code, size in [("A", 5), ("A2", 6), ("B", 4), ("B2", 7), ("C2", 1)]:
        for _ in range(size):
            UserFactory(
                username=f"m{n:02d}",
                org_unit=org[code],
                roles=[Role.MANAGER],
                job_grade=GRADES[n % len(GRADES)],
            )
            n += 1
    for i, person in enumerate(p for k, p in personas.items() if k not in {"hr", "admin"}):
        person.job_grade = GRADES[(i * 3) % len(GRADES)]
        person.save(update_fields=["job_grade"])
    return org


@pytest.fixture
def gap_cycle(draft_cycle, gap_org, hr):
    """An open cycle over the province with seeded ratings (most completed)."""
    from assessments.services import open_cycle

    open_cycle(cycle=draft_cycle, by=hr)
    draft_cycle.refresh_from_db()
    fill_ratings(draft_cycle)
    return draft_cycle


# --- reading back what a run stored ------------------------------------------------------------

SUMMARY = computation.SUMMARY_COLUMNS
CATEGORY = [*computation.CATEGORY_COLUMNS, "priority"]
INDUSTRY = computation.INDUSTRY_COLUMNS
MEMBER = ["status", "grade", "classification", "levels", "below", "shortfall", "best_depth"]


def stored(run):
    return {
        "summary": {
            s.org_unit_id: {c: getattr(s, c) for c in SUMMARY}
            for s in GapUnitSummary.objects.filter(run=run)
        },
        "categories": {
            (s.org_unit_id, s.category_id): {c: getattr(s, c) for c in CATEGORY}
            for s in GapCategoryStat.objects.filter(run=run)
        },
        "industries": {
            (s.org_unit_id, s.industry_id): {c: getattr(s, c) for c in INDUSTRY}
            for s in GapIndustryStat.objects.filter(run=run)
        },
        "members": {
            m.assessment_id: {c: getattr(m, c) for c in MEMBER}
            for m in GapMemberRow.objects.filter(run=run)
        },
    }


def assert_cells_equal(actual: dict, expected: dict, what: str):
    assert set(actual) == set(expected), f"{what}: keys differ"
    mismatches = [
        f"{what} {key} {column}: stored {actual[key][column]!r} != expected {value!r}"
        for key, figures in expected.items()
        for column, value in figures.items()
        if actual[key][column] != value
    ]
    assert not mismatches, "\n".join(mismatches[:20])


# --- the independent computation --------------------------------------------------------------


@dataclass
class Member:
    assessment: Assessment
    path: str
    completed: bool
    grade: str  # the grade measured against ("" when none is known)
    levels: list  # final level per category, model order
    targets: list  # that grade's minimum per category (None when no grade)
    depths: dict  # industry id → final depth (rated ones only)


@dataclass
class Expected:
    summary: dict = field(default_factory=dict)  # unit id → figures
    categories: dict = field(default_factory=dict)  # (unit id, category id) → figures
    industries: dict = field(default_factory=dict)  # (unit id, industry id) → figures
    members: dict = field(default_factory=dict)  # assessment id → figures


def _members(cycle: Cycle, fixed_grade: str) -> tuple[list[Member], list[Category]]:
    version = cycle.model_version
    categories = list(
        Category.objects.filter(version=version).order_by("domain__order", "order", "pk")
    )
    minimums = {
        g.code: {t.category_id: t.min_level for t in g.targets.all()}
        for g in Grade.objects.filter(version=version).prefetch_related("targets")
    }
    members = []
    for a in Assessment.objects.filter(cycle=cycle, org_unit__isnull=False).select_related(
        "org_unit"
    ):
        finals = {r.category_id: r.final_level for r in Rating.objects.filter(assessment=a)}
        wanted = fixed_grade or a.target_grade
        grade = wanted if wanted in minimums else ""
        completed = a.status == Assessment.Status.COMPLETED
        members.append(
            Member(
                assessment=a,
                path=a.org_unit.path,
                completed=completed,
                grade=grade,
                levels=[finals.get(c.pk) for c in categories],
                targets=[minimums[grade][c.pk] if grade else None for c in categories],
                depths={
                    i.industry_id: i.final_depth
                    for i in IndustryRating.objects.filter(assessment=a)
                    if i.final_depth is not None
                },
            )
        )
    return members, categories


def _member_figures(m: Member, depth_rows) -> dict:
    below = shortfall = 0
    if m.completed:
        for level, target in zip(m.levels, m.targets, strict=True):
            if level is not None and target is not None and level < target:
                below += 1
                shortfall += target - level
    all_depths = list(depth_rows)
    return {
        "status": m.assessment.status,
        "grade": m.grade,
        "classification": m.assessment.classification,
        "levels": m.levels,
        "below": below,
        "shortfall": shortfall,
        "best_depth": max(all_depths) if all_depths else None,
    }


def _summary(members: list[Member], depth_level: int) -> dict:
    done = [m for m in members if m.completed]
    figures = {
        "headcount": len(members),
        "completed": len(done),
        "targeted": sum(1 for m in done if m.grade),
        "below_any": 0,
        "shortfall": 0,
        "depth_met": sum(1 for m in done if any(d >= depth_level for d in m.depths.values())),
    }
    for m in done:
        gaps = [t - lv for lv, t in zip(m.levels, m.targets, strict=True) if lv and t and lv < t]
        figures["below_any"] += 1 if gaps else 0
        figures["shortfall"] += sum(gaps)
    for shape in Shape:
        name = "shape_t" if shape == Shape.T else f"shape_{shape.value}"
        figures[name] = sum(1 for m in done if m.assessment.classification == shape.value)
    return figures


def _category(members: list[Member], index: int) -> dict | None:
    rated = [m for m in members if m.completed and m.levels[index] is not None]
    if not rated:
        return None
    targeted = [m for m in rated if m.targets[index] is not None]
    figures = {
        "rated": len(rated),
        "targeted": len(targeted),
        "sum_level": sum(m.levels[index] for m in rated),
        "sum_target": sum(m.targets[index] for m in targeted),
        "sum_gap": sum(m.levels[index] - m.targets[index] for m in targeted),
        "sum_shortfall": sum(max(0, m.targets[index] - m.levels[index]) for m in targeted),
        "below": sum(1 for m in targeted if m.levels[index] < m.targets[index]),
    }
    for level in range(1, 6):
        figures[f"level_{level}"] = sum(1 for m in rated if m.levels[index] == level)
    return figures


def _rank(stats: dict) -> dict:
    """Priority 1..5 among the categories with a shortfall: mean shortfall, then count below."""
    keyed = sorted(
        stats.items(),
        key=lambda item: (
            -(
                Fraction(item[1]["sum_shortfall"], item[1]["targeted"])
                if item[1]["targeted"]
                else 0
            ),
            -item[1]["below"],
            item[1]["position"],
        ),
    )
    ranks = {}
    for rank, (key, figures) in enumerate(keyed, 1):
        ranks[key] = rank if figures["sum_shortfall"] > 0 and rank <= 5 else None
    return ranks


def _industry(members: list[Member], industry_id: int, depth_level: int) -> dict | None:
    depths = [m.depths[industry_id] for m in members if m.completed and industry_id in m.depths]
    if not depths:
        return None
    figures = {
        "rated": len(depths),
        "sum_depth": sum(depths),
        "deep": sum(1 for d in depths if d >= depth_level),
    }
    for depth in range(1, 6):
        figures[f"depth_{depth}"] = depths.count(depth)
    return figures


def expected_report(cycle: Cycle, fixed_grade: str = "") -> Expected:
    """Every figure, computed member by member with plain loops (no SQL, no shared code)."""
    members, categories = _members(cycle, fixed_grade)
    depth_level = cycle.model_version.depth_level
    industries = list(cycle.model_version.industries.values_list("pk", flat=True))
    expected = Expected()
    for m in members:
        expected.members[m.assessment.pk] = _member_figures(
            m,
            [
                i.final_depth
                for i in IndustryRating.objects.filter(assessment=m.assessment)
                if i.final_depth is not None
            ],
        )
    for unit in OrgUnit.objects.all():
        inside = [m for m in members if m.path.startswith(unit.path)]
        if not inside:
            continue
        expected.summary[unit.pk] = _summary(inside, depth_level)
        stats = {}
        for index, category in enumerate(categories):
            figures = _category(inside, index)
            if figures is not None:
                stats[category.pk] = {**figures, "position": index}
        for category_id, rank in _rank(stats).items():
            figures = dict(stats[category_id])
            figures.pop("position")
            expected.categories[(unit.pk, category_id)] = {**figures, "priority": rank}
        for industry_id in industries:
            figures = _industry(inside, industry_id, depth_level)
            if figures is not None:
                expected.industries[(unit.pk, industry_id)] = figures
    return expected
