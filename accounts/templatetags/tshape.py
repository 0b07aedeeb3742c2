"""Small template helpers shared by every page."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def join_list(items) -> str:
    """Join names with the list separator of the active language (、 in Chinese, ", " in English)."""
    return _("、").join(str(item) for item in items)
