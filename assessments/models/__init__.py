"""The assessments app's models, one module per feature; everything is importable from here."""

from .calibration import (
    CalibrationAdjustment,
    CalibrationEvent,
    CalibrationSession,
    CalibrationSessionQuerySet,
)
from .certification import (
    Certificate,
    CertificationApplication,
    CertificationEvent,
)
from .gap_reports import (
    GapCategoryStat,
    GapIndustryStat,
    GapMemberRow,
    GapReportChunk,
    GapReportExport,
    GapReportRun,
    GapUnitSummary,
)
from .profiles import (
    DevelopmentGoal,
    GoalComment,
    LearningResource,
)
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
    "Certificate",
    "CertificationApplication",
    "CertificationEvent",
    "CalibrationAdjustment",
    "CalibrationEvent",
    "CalibrationSession",
    "CalibrationSessionQuerySet",
    "GapCategoryStat",
    "GapIndustryStat",
    "GapMemberRow",
    "GapReportChunk",
    "GapReportExport",
    "GapReportRun",
    "GapUnitSummary",
    "DevelopmentGoal",
    "GoalComment",
    "LearningResource",
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
