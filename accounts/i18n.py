"""Texts stored once per language (``<field>_zh`` / ``<field>_en``), read in the active language."""

from django.utils.translation import get_language


def active_language_is_english() -> bool:
    return (get_language() or "zh-hans").startswith("en")


class BilingualMixin:
    """Gives ``localized("name")``: the English text under English, else the Chinese one.

    Chinese is the users' first language, so it is also the fallback for an empty English text.
    """

    def localized(self, field: str) -> str:
        zh = getattr(self, f"{field}_zh")
        if active_language_is_english():
            return getattr(self, f"{field}_en") or zh
        return zh or getattr(self, f"{field}_en")
