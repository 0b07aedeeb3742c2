"""Read-shaped helpers for the assessment pages: plain data in a fixed number of queries."""

import re
from dataclasses import dataclass, field

from competency.models import Category, DepthLevel, Industry, LevelDescription, ProficiencyLevel

from .models import Assessment, AssessmentEvent, Cycle, Evidence, IndustryRating, Rating


def anchor_for(prefix: str, code: str) -> str:
    """An HTML id for a category or industry code (codes such as "1.1" hold dots)."""
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_-]", "-", code)


def self_editable(assessment: Assessment) -> bool:
    """The person may still change the self-assessment: an editable state in an open cycle."""
    return assessment.self_editable and assessment.cycle.status == Cycle.Status.OPEN


def my_assessments(user) -> list[Assessment]:
    """The user's own assessments over all cycles, newest cycle first (``editable`` set on each)."""
    rows = list(
        Assessment.objects.visible_to(user)
        .filter(person=user)
        .select_related("cycle")
        .order_by("-cycle__created_at", "-pk")
    )
    for row in rows:
        row.editable = self_editable(row)
    return rows


@dataclass
class LevelChoice:
    """One step of a rating scale as a rater reads it: value, name and what it means."""

    value: int
    name: str
    text: str


@dataclass
class CategoryItem:
    """A category of the assessment with its rating row, level texts and evidence files."""

    category: Category
    rating: Rating
    levels: list[LevelChoice]
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.category.code

    @property
    def anchor(self) -> str:
        return anchor_for("cat", self.category.code)


@dataclass
class DomainBlock:
    domain: object
    categories: list[CategoryItem]


@dataclass
class IndustryItem:
    """An industry of the model version; ``rating`` is set when the person chose it."""

    industry: Industry
    rating: IndustryRating | None
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.industry.code

    @property
    def anchor(self) -> str:
        return anchor_for("ind", self.industry.code)


@dataclass
class Sheet:
    """Everything an assessment page shows, in the model's order (domain, then category)."""

    assessment: Assessment
    domains: list[DomainBlock]
    industries: list[IndustryItem]
    depth_levels: list[LevelChoice]
    other_evidence: list[Evidence]

    @property
    def categories(self) -> list[CategoryItem]:
        return [item for block in self.domains for item in block.categories]

    @property
    def chosen_industries(self) -> list[IndustryItem]:
        return [item for item in self.industries if item.rating is not None]

    @property
    def has_supervisor_ratings(self) -> bool:
        return any(
            i.rating.supervisor_level is not None or i.rating.supervisor_comment
            for i in self.categories
        )

    @property
    def has_final_levels(self) -> bool:
        return any(i.rating.final_level is not None for i in self.categories)


def assessment_sheet(assessment: Assessment) -> Sheet:
    """The assessment's categories grouped by domain, its industries and its evidence.

    Seven queries whatever the model's size; ``assessment.cycle`` should be selected already.
    """
    version_id = assessment.cycle.model_version_id
    ratings = list(
        assessment.ratings.select_related("category", "category__domain").order_by(
            "category__domain__order", "category__order"
        )
    )
    names = {
        level.value: level.name for level in ProficiencyLevel.objects.filter(version_id=version_id)
    }
    texts: dict[int, list[LevelChoice]] = {}
    for d in LevelDescription.objects.filter(version_id=version_id).order_by("level"):
        texts.setdefault(d.category_id, []).append(
            LevelChoice(d.level, names.get(d.level, ""), d.text)
        )
    files = _evidence_by_subject(assessment)
    domains: list[DomainBlock] = []
    for rating in ratings:
        category = rating.category
        if not domains or domains[-1].domain.pk != category.domain_id:
            domains.append(DomainBlock(category.domain, []))
        domains[-1].categories.append(
            CategoryItem(
                category, rating, texts.get(category.pk, []), files.get(("c", category.pk), [])
            )
        )
    return Sheet(
        assessment=assessment,
        domains=domains,
        industries=_industry_items(assessment, version_id, files),
        depth_levels=[
            LevelChoice(d.value, d.name, d.description)
            for d in DepthLevel.objects.filter(version_id=version_id).order_by("value")
        ],
        other_evidence=files.get(("", None), []),
    )


def _evidence_by_subject(assessment: Assessment) -> dict[tuple, list[Evidence]]:
    files: dict[tuple, list[Evidence]] = {}
    for e in assessment.evidence.all():
        key = ("c", e.category_id) if e.category_id else ("i", e.industry_id)
        if not e.category_id and not e.industry_id:
            key = ("", None)
        files.setdefault(key, []).append(e)
    return files


def _industry_items(assessment, version_id, files) -> list[IndustryItem]:
    chosen = {r.industry_id: r for r in assessment.industry_ratings.all()}
    return [
        IndustryItem(industry, chosen.get(industry.pk), files.get(("i", industry.pk), []))
        for industry in Industry.objects.filter(version_id=version_id).order_by("order")
    ]


def return_reason(assessment: Assessment) -> AssessmentEvent | None:
    """The supervisor's latest "returned" decision while the assessment waits on its person."""
    if assessment.status != Assessment.Status.RETURNED:
        return None
    return (
        assessment.events.filter(action=AssessmentEvent.Action.RETURNED)
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )


def history(assessment: Assessment) -> list[AssessmentEvent]:
    """Every recorded decision on the assessment, oldest first, with who made it."""
    return list(assessment.events.select_related("actor").order_by("at", "pk"))
