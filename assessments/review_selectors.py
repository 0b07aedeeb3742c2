"""Read-shaped queries behind the supervisor's pages: the team list and one review sheet.

Everything is scoped with ``supervised_q`` (the people a user rates) and runs in a fixed number
of queries whatever the number of rows.
"""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import OrgUnit
from accounts.permissions import supervised_q
from competency.models import LevelDescription

from .models import Assessment, Cycle, Evidence
from .services import COMMENT_REQUIRED_DIFFERENCE

PAGE_SIZE = 50
ALL_CYCLES = "all"


def supervised_assessments(user) -> QuerySet:
    """Assessments of the people ``user`` rates: their headed subtrees, never their own or a peer's."""
    return Assessment.objects.filter(supervised_q(user, "person"))


def review_cycles(user) -> list[Cycle]:
    """Cycles in which ``user`` rates somebody, newest first."""
    mine = supervised_assessments(user).filter(cycle=OuterRef("pk"))
    return list(Cycle.objects.filter(Exists(mine)).order_by("-created_at", "-pk"))


def default_cycle(cycles: list[Cycle]) -> Cycle | None:
    """The newest open cycle, else the newest one."""
    open_cycles = [c for c in cycles if c.status == Cycle.Status.OPEN]
    return (open_cycles or cycles or [None])[0]


@dataclass
class ReviewFilters:
    """What the list is narrowed to; ``cycle`` None with ``all_cycles`` means every cycle."""

    cycle: Cycle | None = None
    all_cycles: bool = False
    status: str = ""
    unit: OrgUnit | None = None
    query: str = ""

    def apply(self, assessments: QuerySet, *, with_status: bool = True) -> QuerySet:
        if self.cycle is not None:
            assessments = assessments.filter(cycle=self.cycle)
        elif not self.all_cycles:
            return assessments.none()
        if self.unit is not None:
            assessments = assessments.filter(person__org_unit__path__startswith=self.unit.path)
        if self.query:
            assessments = assessments.filter(
                Q(person__display_name__icontains=self.query)
                | Q(person__employee_no__icontains=self.query)
                | Q(person__username__icontains=self.query)
            )
        if with_status and self.status:
            assessments = assessments.filter(status=self.status)
        return assessments


def read_filters(params, cycles: list[Cycle], units: QuerySet) -> ReviewFilters:
    """The filters from the query string; unknown or out-of-scope values are ignored."""
    filters = ReviewFilters(query=params.get("q", "").strip()[:100])
    wanted_cycle = params.get("cycle", "")
    if wanted_cycle == ALL_CYCLES:
        filters.all_cycles = True
    else:
        by_pk = {str(c.pk): c for c in cycles}
        filters.cycle = by_pk.get(wanted_cycle) or default_cycle(cycles)
    if params.get("status") in Assessment.Status.values:
        filters.status = params["status"]
    unit_id = params.get("unit", "")
    if unit_id.isdigit():
        filters.unit = units.filter(pk=int(unit_id)).first()
    return filters


def status_counts(assessments: QuerySet) -> list[dict]:
    """Per status (in workflow order): the number of assessments, one query."""
    counts = dict(assessments.order_by().values_list("status").annotate(n=Count("pk")))
    return [
        {"value": value, "label": label, "count": counts.get(value, 0)}
        for value, label in Assessment.Status.choices
    ]


def review_list_page(user, filters: ReviewFilters, page_number, today) -> tuple[Page, list[dict]]:
    """One page of the user's team assessments (each marked ``late`` or not) and the per-status
    counts under the same filters but the status."""
    scoped = supervised_assessments(user)
    counts = status_counts(filters.apply(scoped, with_status=False))
    rows = (
        filters.apply(scoped)
        .select_related("cycle", "person", "person__org_unit")
        .order_by(
            "-cycle__created_at", "-cycle_id", "person__org_unit__path", "person__employee_no", "pk"
        )
    )
    page = Paginator(rows, PAGE_SIZE).get_page(page_number)
    page.object_list = list(page.object_list)
    for assessment in page.object_list:
        assessment.late = assessment.is_late(today)
    return page, counts


# --- one review sheet ---------------------------------------------------------------------------


@dataclass
class CategoryRow:
    """One category on the review page: the self rating and the supervisor's (stored or typed)."""

    rating: object
    category: object
    levels: list[dict]
    evidence: list[Evidence]
    supervisor_level: int | None = None
    supervisor_comment: str = ""
    missing_level: bool = False
    missing_comment: bool = False
    errors: list = field(default_factory=list)

    @property
    def self_level(self) -> int | None:
        return self.rating.self_level

    @property
    def self_level_name(self) -> str:
        return next((lv["name"] for lv in self.levels if lv["value"] == self.self_level), "")

    @property
    def difference(self) -> int | None:
        """Supervisor − self: negative where the person rates themself higher than the supervisor."""
        if self.self_level is None or self.supervisor_level is None:
            return None
        return self.supervisor_level - self.self_level

    @property
    def needs_comment(self) -> bool:
        return self.difference is not None and abs(self.difference) >= COMMENT_REQUIRED_DIFFERENCE

    @property
    def difference_class(self) -> str:
        """A CSS class for the compare bar: ``diff-neg-2`` … ``diff-pos-4``, ``diff-0``."""
        d = self.difference
        if not d:
            return "diff-0" if d == 0 else "diff-none"
        return f"diff-{'pos' if d > 0 else 'neg'}-{abs(d)}"


@dataclass
class IndustryRow:
    """One industry the person chose: their depth and evidence beside the supervisor's depth."""

    rating: object
    evidence: list[Evidence]
    supervisor_depth: int | None = None
    missing_depth: bool = False
    errors: list = field(default_factory=list)

    @property
    def industry(self):
        return self.rating.industry


@dataclass
class ReviewSheet:
    """Everything the review page shows, grouped by domain in the model's order."""

    assessment: Assessment
    domains: list[dict] = field(default_factory=list)
    industries: list[IndustryRow] = field(default_factory=list)
    depth_levels: list = field(default_factory=list)
    general_evidence: list[Evidence] = field(default_factory=list)

    @property
    def categories(self) -> list[CategoryRow]:
        return [row for domain in self.domains for row in domain["rows"]]

    @property
    def compare_summary(self) -> dict:
        """How many categories the person rates higher than, lower than, or as the supervisor."""
        diffs = [row.difference for row in self.categories if row.difference is not None]
        return {
            "over": sum(d < 0 for d in diffs),
            "under": sum(d > 0 for d in diffs),
            "same": sum(d == 0 for d in diffs),
        }

    def overlay(self, values: dict, errors: dict) -> None:
        """Show ``values`` (what the supervisor typed) and their errors instead of what is stored."""
        for row in self.categories:
            level, comment = f"level-{row.category.code}", f"comment-{row.category.code}"
            row.supervisor_level = values.get(level)
            row.supervisor_comment = values.get(comment) or ""
            row.errors = [*errors.get(level, []), *errors.get(comment, [])]
        for row in self.industries:
            depth = f"depth-{row.industry.code}"
            row.supervisor_depth = values.get(depth)
            row.errors = list(errors.get(depth, []))

    def mark_missing(self, missing) -> None:
        """Flag the fields ``services.review_gaps`` named (each ``Missing`` carries its field)."""
        fields = {getattr(item, "field", None) for item in missing}
        for row in self.categories:
            row.missing_level = f"level-{row.category.code}" in fields
            row.missing_comment = f"comment-{row.category.code}" in fields
        for row in self.industries:
            row.missing_depth = f"depth-{row.industry.code}" in fields


def reviewable_assessment(user, pk) -> Assessment:
    """The assessment ``pk`` if ``user`` rates its person, else ``Assessment.DoesNotExist``."""
    return (
        supervised_assessments(user)
        .select_related("cycle", "cycle__model_version", "person", "person__org_unit", "org_unit")
        .get(pk=pk)
    )


def review_sheet(assessment: Assessment) -> ReviewSheet:
    """The review page's data for one assessment, in seven queries whatever its size."""
    version = assessment.cycle.model_version
    level_names = {lv.value: lv.name for lv in version.levels.order_by("value")}
    texts: dict[int, dict[int, str]] = {}
    for d in LevelDescription.objects.filter(category__version=version):
        texts.setdefault(d.category_id, {})[d.level] = d.text
    by_category: dict[int | None, list] = {}
    by_industry: dict[int, list] = {}
    for ev in assessment.evidence.all():
        if ev.industry_id:
            by_industry.setdefault(ev.industry_id, []).append(ev)
        else:
            by_category.setdefault(ev.category_id, []).append(ev)
    sheet = ReviewSheet(
        assessment=assessment,
        depth_levels=list(version.depth_levels.order_by("value")),
        general_evidence=by_category.get(None, []),
    )
    ratings = assessment.ratings.select_related("category", "category__domain").order_by(
        "category__domain__order", "category__order"
    )
    for rating in ratings:
        category = rating.category
        if not sheet.domains or sheet.domains[-1]["domain"].pk != category.domain_id:
            sheet.domains.append({"domain": category.domain, "rows": []})
        levels = [
            {"value": v, "name": name, "text": texts.get(category.pk, {}).get(v, "")}
            for v, name in level_names.items()
        ]
        sheet.domains[-1]["rows"].append(
            CategoryRow(
                rating=rating,
                category=category,
                levels=levels,
                evidence=by_category.get(category.pk, []),
                supervisor_level=rating.supervisor_level,
                supervisor_comment=rating.supervisor_comment,
            )
        )
    industry_ratings = assessment.industry_ratings.select_related("industry").order_by(
        "industry__order"
    )
    sheet.industries = [
        IndustryRow(
            rating=r,
            evidence=by_industry.get(r.industry_id, []),
            supervisor_depth=r.supervisor_depth,
        )
        for r in industry_ratings
    ]
    return sheet
