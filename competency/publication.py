"""What publishing a draft changes and whom it may affect: reads for the publish page and record.

Cycles live in the ``assessments`` app, which imports us; we read them only through the reverse
relation of ``Cycle.model_version`` (``version.cycles``), never by importing that app.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count

from .diff import diff_documents
from .exchange import export_version
from .models import ModelVersion

DRAFT_CYCLE = "draft"  # Cycle.Status.DRAFT: the only cycles that may still switch their version


def base_of(version: ModelVersion) -> ModelVersion | None:
    """What a version is compared with: the version it came from, else (an import) the latest
    published version before it."""
    if version.based_on_id:
        return version.based_on
    return (
        ModelVersion.objects.published()
        .filter(number__lt=version.number)
        .order_by("-number")
        .first()
    )


def version_changes(version: ModelVersion, *, document: dict | None = None):
    """(base version or None, the diff entries base → version); a fixed number of queries."""
    base = base_of(version)
    if base is None:
        return None, []
    return base, diff_documents(export_version(base), document or export_version(version))


def _cycle_model():
    try:
        return ModelVersion._meta.get_field("cycles").related_model
    except FieldDoesNotExist:  # the assessments app is not installed
        return None


def publish_impact(version: ModelVersion) -> dict:
    """Draft cycles that could adopt ``version`` and the running / closed cycles that keep theirs."""
    cycle = _cycle_model()
    if cycle is None:
        return {"draft_cycles": [], "fixed_cycles": []}
    draft_cycles = (
        cycle.objects.filter(status=DRAFT_CYCLE)
        .exclude(model_version=version)
        .select_related("model_version")
        .order_by("name", "pk")
    )
    fixed = (
        cycle.objects.exclude(status=DRAFT_CYCLE)
        .values("model_version__number", "status")
        .annotate(count=Count("pk"))
        .order_by("model_version__number", "status")
    )
    labels = dict(cycle._meta.get_field("status").flatchoices)
    return {
        "draft_cycles": [
            {"pk": c.pk, "name": c.name, "version": c.model_version.number} for c in draft_cycles
        ],
        "fixed_cycles": [
            {
                "version": row["model_version__number"],
                "status": labels.get(row["status"], row["status"]),
                "count": row["count"],
            }
            for row in fixed
        ],
    }


def retire_impact(version: ModelVersion) -> list[str]:
    """Names of the draft cycles still set to ``version`` (they must pick another before opening)."""
    cycles = getattr(version, "cycles", None)
    if cycles is None:
        return []
    return list(cycles.filter(status=DRAFT_CYCLE).order_by("name").values_list("name", flat=True))
