"""Report-shaped reads of the model, shared by pages, API and exports."""

from .models import Category, GradeTarget, LevelDescription, ModelVersion


def model_overview(version: ModelVersion) -> dict:
    """Domains → categories (with level descriptions) and the grade × category target grid.

    A fixed number of queries whatever the model's size.
    """
    categories = list(
        Category.objects.filter(version=version)
        .select_related("domain")
        .order_by("domain__order", "order")
    )
    descriptions: dict[int, list] = {}
    for d in LevelDescription.objects.filter(category__version=version).order_by("level"):
        descriptions.setdefault(d.category_id, []).append(d)
    domains: list[dict] = []
    for category in categories:
        if not domains or domains[-1]["domain"].pk != category.domain_id:
            domains.append({"domain": category.domain, "categories": []})
        domains[-1]["categories"].append(
            {"category": category, "levels": descriptions.get(category.pk, [])}
        )
    grades = list(version.grades.order_by("order"))
    targets = {
        (t.grade_id, t.category_id): t.min_level
        for t in GradeTarget.objects.filter(grade__version=version)
    }
    grid = [
        {"grade": g, "targets": [targets.get((g.pk, c.pk)) for c in categories]} for g in grades
    ]
    return {
        "domains": domains,
        "categories": categories,
        "levels": list(version.levels.order_by("value")),
        "depth_levels": list(version.depth_levels.order_by("value")),
        "industries": list(version.industries.order_by("order")),
        "grid": grid,
    }


def grade_profiles(version: ModelVersion) -> list:
    """The version's grades as plain target profiles, in grade order (two queries)."""
    from .profiles import GradeProfile

    minimums: dict[int, dict[str, int]] = {}
    for target in (
        GradeTarget.objects.filter(grade__version=version)
        .select_related("category")
        .order_by("category__domain__order", "category__order")
    ):
        minimums.setdefault(target.grade_id, {})[target.category.code] = target.min_level
    return [
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
        for g in version.grades.order_by("order")
    ]
