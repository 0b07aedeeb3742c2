"""Pure functions over a person's final levels: the T-shape classification (and, later, grades).

Inputs are plain data (category code → level, industry depths) so that the assessment workflow,
dashboards, gap reports and certification all reuse the same rules without touching the database.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class Shape(models.TextChoices):
    T = "t", gettext_lazy("T型")
    PI = "pi", gettext_lazy("π型")
    GENERALIST = "generalist", gettext_lazy("通才型（—）")
    SPECIALIST = "specialist", gettext_lazy("专才型（I）")
    DEVELOPING = "developing", gettext_lazy("发展中")


@dataclass(frozen=True)
class Thresholds:
    """The classification thresholds of a model version (domain.md defaults)."""

    breadth_level: int = 3
    breadth_count: int = 10
    breadth_floor: int = 2
    depth_level: int = 4
    pi_industries: int = 2

    @classmethod
    def of(cls, version) -> "Thresholds":
        return cls(
            breadth_level=version.breadth_level,
            breadth_count=version.breadth_count,
            breadth_floor=version.breadth_floor,
            depth_level=version.depth_level,
            pi_industries=version.pi_industries,
        )


@dataclass(frozen=True)
class Classification:
    """Where a profile stands, with the figures that explain it."""

    shape: str
    breadth_met: bool
    depth_met: bool
    categories_at_level: int
    categories_total: int
    lowest_level: int
    best_depth: int
    industries_at_depth: int
    thresholds: Thresholds

    @property
    def label(self) -> str:
        return Shape(self.shape).label

    def explanation(self) -> str:
        """One line in words, e.g. "breadth met: 11 of 12 categories at 3 or above; depth not met…"."""
        t = self.thresholds
        breadth = _(
            "%(state)s：%(n)s / %(total)s 个类别达到 %(level)s 级及以上，最低 %(lowest)s 级"
        ) % {
            "state": _("广度达标") if self.breadth_met else _("广度未达标"),
            "n": self.categories_at_level,
            "total": self.categories_total,
            "level": t.breadth_level,
            "lowest": self.lowest_level,
        }
        depth = _("%(state)s：最佳行业深度 %(best)s / %(required)s") % {
            "state": _("深度达标") if self.depth_met else _("深度未达标"),
            "best": self.best_depth,
            "required": t.depth_level,
        }
        return _("%(breadth)s；%(depth)s") % {"breadth": breadth, "depth": depth}


def classify(
    levels: Mapping[str, int | None], depths: Iterable[int | None], thresholds: Thresholds
) -> Classification:
    """Classify a profile: T, π, generalist, specialist or developing.

    A missing level counts as 0 (never as met); breadth needs ``breadth_count`` categories at
    ``breadth_level`` and none below ``breadth_floor``; depth needs one industry at ``depth_level``,
    π-shape ``pi_industries`` of them.
    """
    values = [level or 0 for level in levels.values()]
    depth_values = [d or 0 for d in depths]
    at_level = sum(1 for v in values if v >= thresholds.breadth_level)
    lowest = min(values, default=0)
    breadth_met = (
        bool(values) and at_level >= thresholds.breadth_count and lowest >= thresholds.breadth_floor
    )
    deep = sum(1 for d in depth_values if d >= thresholds.depth_level)
    depth_met = deep >= 1
    if breadth_met and deep >= thresholds.pi_industries:
        shape = Shape.PI
    elif breadth_met and depth_met:
        shape = Shape.T
    elif breadth_met:
        shape = Shape.GENERALIST
    elif depth_met:
        shape = Shape.SPECIALIST
    else:
        shape = Shape.DEVELOPING
    return Classification(
        shape=shape.value,
        breadth_met=breadth_met,
        depth_met=depth_met,
        categories_at_level=at_level,
        categories_total=len(values),
        lowest_level=lowest,
        best_depth=max(depth_values, default=0),
        industries_at_depth=deep,
        thresholds=thresholds,
    )


# --- certification grades -------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeProfile:
    """A grade's target profile as plain data (see ``competency.selectors.grade_profiles``)."""

    code: str
    name: str
    order: int
    minimums: Mapping[str, int]
    depth: int = 0
    depth_industries: int = 1
    breadth_count: int | None = None
    breadth_level: int | None = None


@dataclass(frozen=True)
class Shortfall:
    """One category below the grade's minimum: by how much."""

    category: str
    required: int
    actual: int

    @property
    def missing(self) -> int:
        return self.required - self.actual


@dataclass(frozen=True)
class GradeCheck:
    """Whether a profile meets a grade, and exactly what is missing when it does not."""

    grade: GradeProfile
    shortfalls: tuple[Shortfall, ...]
    breadth_missing: int
    depth_best: int
    depth_industries_met: int

    @property
    def depth_met(self) -> bool:
        return self.grade.depth == 0 or self.depth_industries_met >= self.grade.depth_industries

    @property
    def met(self) -> bool:
        return not self.shortfalls and self.breadth_missing == 0 and self.depth_met

    def missing_lines(self) -> list[str]:
        """What is missing, in words (the active language)."""
        lines = [
            _("%(category)s：需达到 %(required)s 级（当前 %(actual)s 级，差 %(missing)s 级）")
            % {
                "category": s.category,
                "required": s.required,
                "actual": s.actual,
                "missing": s.missing,
            }
            for s in self.shortfalls
        ]
        if self.breadth_missing:
            lines.append(
                _("还需 %(n)s 个类别达到 %(level)s 级及以上")
                % {"n": self.breadth_missing, "level": self.grade.breadth_level}
            )
        if not self.depth_met:
            lines.append(
                _("行业研究深度需在 %(n)s 个行业达到 %(depth)s（当前最佳 %(best)s）")
                % {
                    "n": self.grade.depth_industries,
                    "depth": self.grade.depth,
                    "best": self.depth_best,
                }
            )
        return lines


def check_grade(
    grade: GradeProfile, levels: Mapping[str, int | None], depths: Iterable[int | None]
) -> GradeCheck:
    """Compare final levels and depths with one grade's target profile."""
    actual = {code: level or 0 for code, level in levels.items()}
    shortfalls = tuple(
        Shortfall(code, required, actual.get(code, 0))
        for code, required in grade.minimums.items()
        if actual.get(code, 0) < required
    )
    breadth_missing = 0
    if grade.breadth_count:
        at_level = sum(1 for v in actual.values() if v >= grade.breadth_level)
        breadth_missing = max(0, grade.breadth_count - at_level)
    depth_values = [d or 0 for d in depths]
    return GradeCheck(
        grade=grade,
        shortfalls=shortfalls,
        breadth_missing=breadth_missing,
        depth_best=max(depth_values, default=0),
        depth_industries_met=sum(1 for d in depth_values if d >= grade.depth) if grade.depth else 0,
    )


@dataclass(frozen=True)
class Eligibility:
    """The highest grade met, and the check against the next grade up (None at the top)."""

    eligible: GradeProfile | None
    next_check: GradeCheck | None


def eligibility(
    grades: Iterable[GradeProfile], levels: Mapping[str, int | None], depths: Iterable[int | None]
) -> Eligibility:
    """The highest grade whose target profile is met and what is missing for the one above it."""
    ordered = sorted(grades, key=lambda g: g.order)
    depths = list(depths)
    checks = [check_grade(g, levels, depths) for g in ordered]
    met = [c for c in checks if c.met]
    eligible = met[-1].grade if met else None
    above = [c for c in checks if eligible is None or c.grade.order > eligible.order]
    return Eligibility(eligible=eligible, next_check=above[0] if above else None)
