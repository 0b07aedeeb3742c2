from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    """Assessment cycles, self and supervisor ratings, final levels (built on issue #3)."""

    name = "assessments"
    verbose_name = _("能力评估")
