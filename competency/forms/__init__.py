"""Forms of the model editor (``editor``) and of the model file upload (``files``)."""

from .editor import (
    CategoryForm,
    CategoryRows,
    DomainRows,
    GradeRows,
    IndustryRows,
    NewCategoryForm,
    ScalesForm,
    TargetGridForm,
    VersionSettingsForm,
)
from .files import ModelFileForm

__all__ = [
    "CategoryForm",
    "CategoryRows",
    "DomainRows",
    "GradeRows",
    "IndustryRows",
    "ModelFileForm",
    "NewCategoryForm",
    "ScalesForm",
    "TargetGridForm",
    "VersionSettingsForm",
]
