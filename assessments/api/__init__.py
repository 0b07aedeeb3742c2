"""The API of assessment cycles (HR) and of assessments with their workflow (``cycles``,
``assessments``); the feature packages (certification, gap reports, calibration) have their own
``api`` modules."""

from .assessments import AssessmentViewSet, PersonBriefSerializer
from .cycles import CycleViewSet

__all__ = ["AssessmentViewSet", "CycleViewSet", "PersonBriefSerializer"]
