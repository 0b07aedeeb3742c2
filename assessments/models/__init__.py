"""The assessments app's models, one module per feature; everything is importable from here."""

from .workflow import (
    SELF_EDITABLE,
    TRANSITIONS,
    Assessment,
    AssessmentEvent,
    AssessmentQuerySet,
    Cycle,
    Evidence,
    IndustryRating,
    Rating,
    evidence_path,
)

__all__ = [
    "SELF_EDITABLE",
    "TRANSITIONS",
    "Assessment",
    "AssessmentEvent",
    "AssessmentQuerySet",
    "Cycle",
    "Evidence",
    "IndustryRating",
    "Rating",
    "evidence_path",
]
