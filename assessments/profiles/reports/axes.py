"""The model as chart axes and grade targets, shared by the person's and the team's reports."""

from collections import defaultdict
from dataclasses import dataclass

from competency.models import Category, Grade, GradeTarget
from competency.profiles import GradeProfile


@dataclass(frozen=True)
class Axis:
    """A category as a chart axis: model order, with its domain (``domain_index`` picks the colour)."""

    pk: int
    code: str
    name: str
    domain_code: str
    domain_name: str
    domain_index: int
    motto: str

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


def axes_of(version) -> list[Axis]:
    """The version's categories in domain order, then category order (never alphabetical)."""
    categories = (
        Category.objects.filter(version=version)
        .select_related("domain")
        .order_by("domain__order", "order", "pk")
    )
    axes: list[Axis] = []
    domains: list[int] = []
    for c in categories:
        if c.domain_id not in domains:
            domains.append(c.domain_id)
        axes.append(
            Axis(
                pk=c.pk,
                code=c.code,
                name=c.name,
                domain_code=c.domain.code,
                domain_name=c.domain.name,
                domain_index=len(domains),
                motto=c.domain.motto,
            )
        )
    return axes


def domains_of(axes: list[Axis]) -> list[dict]:
    """The domains of ``axes`` in order, each with its categories (for headers and legends)."""
    domains: list[dict] = []
    for axis in axes:
        if not domains or domains[-1]["code"] != axis.domain_code:
            domains.append(
                {
                    "code": axis.domain_code,
                    "name": axis.domain_name,
                    "index": axis.domain_index,
                    "motto": axis.motto,
                    "axes": [],
                }
            )
        domains[-1]["axes"].append(axis)
    return domains


def grade_profiles_of(version_ids) -> dict[int, list[GradeProfile]]:
    """Every grade's target profile for several versions at once (two queries), in grade order."""
    minimums: dict[int, dict[str, int]] = defaultdict(dict)
    for grade_id, code, level in (
        GradeTarget.objects.filter(grade__version_id__in=version_ids)
        .order_by("category__domain__order", "category__order")
        .values_list("grade_id", "category__code", "min_level")
    ):
        minimums[grade_id][code] = level
    profiles: dict[int, list[GradeProfile]] = defaultdict(list)
    for g in Grade.objects.filter(version_id__in=version_ids).order_by("version_id", "order"):
        profiles[g.version_id].append(
            GradeProfile(
                code=g.code,
                name=g.name,
                order=g.order,
                minimums=minimums.get(g.pk, {}),
                depth=g.required_depth,
                depth_industries=g.depth_industries,
                breadth_count=g.breadth_count,
                breadth_level=g.breadth_level,
            )
        )
    return profiles


def grade_and_next(
    profiles: list[GradeProfile], code: str
) -> tuple[GradeProfile | None, GradeProfile | None]:
    """The grade with ``code`` and the one above it; without a (known) grade the next is the lowest."""
    ordered = sorted(profiles, key=lambda g: g.order)
    current = next((g for g in ordered if g.code == code), None) if code else None
    above = [g for g in ordered if current is None or g.order > current.order]
    return current, (above[0] if above else None)


def shortfall(required: int | None, actual: int | None) -> int | None:
    """How far ``actual`` falls short of ``required`` (0 when met, None without a target)."""
    if required is None:
        return None
    return max(0, required - (actual or 0))
