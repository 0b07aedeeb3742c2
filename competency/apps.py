from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetencyConfig(AppConfig):
    """The versioned competency model: domains, categories, levels, industries, grades."""

    name = "competency"
    verbose_name = _("能力模型")
