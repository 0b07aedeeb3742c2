"""The session export (Excel): per assessment × category, before and after calibration.

Built with XlsxWriter in ``constant_memory`` mode into a temporary file (rows are streamed from
the database with an iterator, never held whole). Every text cell goes through ``safe_text``:
a cell starting with = + - @ tab or CR is prefixed with an apostrophe so that no spreadsheet
reads it as a formula, and text is always written as a string, never as a formula.
"""

import tempfile
from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.i18n import active_language_is_english

from ..exports import FORMULA_PREFIXES, neutralise, open_workbook
from ..models import CalibrationAdjustment, CalibrationSession
from .statistics import session_ratings

FORMULA_TRIGGERS = FORMULA_PREFIXES  # the shared rule, under the name this feature's tests use
CHUNK = 2000


def safe_text(value) -> str:
    """The cell text (None as empty), neutralised when a spreadsheet could read it as a formula."""
    return neutralise("" if value is None else str(value))


class RowExport:
    """Headers plus rows → an .xlsx file; subclasses give ``title``, ``headers`` and ``rows()``."""

    title = "export"
    widths: tuple = ()

    def headers(self) -> list[str]:
        raise NotImplementedError

    def rows(self):
        raise NotImplementedError

    def write_xlsx(self, stream) -> None:
        workbook = open_workbook(stream, in_memory=False)
        sheet = workbook.add_worksheet(safe_text(self.title)[:31] or "sheet")
        bold = workbook.add_format({"bold": True, "bg_color": "#D9E2EC", "text_wrap": True})
        sheet.freeze_panes(1, 0)
        for col, width in enumerate(self.widths):
            sheet.set_column(col, col, width)
        for col, header in enumerate(self.headers()):
            sheet.write_string(0, col, safe_text(header), bold)
        for row_number, row in enumerate(self.rows(), start=1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(row_number, col, value)
                else:
                    sheet.write_string(row_number, col, safe_text(value))
        workbook.close()

    def to_file(self):
        """A temporary file holding the workbook, positioned at its start."""
        handle = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the response, which closes it)
        self.write_xlsx(handle)
        handle.seek(0)
        return handle


class SessionExport(RowExport):
    """One row per assessment × category of the session: levels before and after, with reasons."""

    widths = (18, 12, 14, 14, 8, 16, 8, 10, 12, 12, 8, 60, 12)

    def __init__(self, session: CalibrationSession):
        self.session = session
        self.title = _("等级校准")

    @property
    def filename(self) -> str:
        return f"calibration-{self.session.pk}-{timezone.localdate():%Y%m%d}.xlsx"

    def headers(self) -> list[str]:
        return [
            _("单位"),
            _("工号"),
            _("姓名"),
            _("评价人"),
            _("类别编码"),
            _("能力类别"),
            _("自评等级"),
            _("主管评价等级"),
            _("校准前最终等级"),
            _("校准后最终等级"),
            _("是否调整"),
            _("调整记录（时间 · 操作人 · 调整 · 原因）"),
            _("T型分类（当前）"),
        ]

    def _adjustments(self) -> dict[int, list[CalibrationAdjustment]]:
        """Every adjustment of the session's ratings (any session of the cycle), by rating."""
        by_rating: dict[int, list] = defaultdict(list)
        adjustments = (
            CalibrationAdjustment.objects.filter(
                rating__in=self._ratings().values("pk"),
            )
            .select_related("actor", "session__org_unit")
            .order_by("at", "pk")
        )
        for adjustment in adjustments:
            by_rating[adjustment.rating_id].append(adjustment)
        return by_rating

    def _ratings(self):
        return session_ratings(self.session)

    def rows(self):
        english = active_language_is_english()
        adjustments = self._adjustments()
        ratings = (
            self._ratings()
            .select_related(
                "category",
                "assessment",
                "assessment__person",
                "assessment__org_unit",
                "assessment__reviewer",
            )
            .order_by(
                "assessment__org_unit__path",
                "assessment__person__employee_no",
                "assessment_id",
                "category__domain__order",
                "category__order",
            )
        )
        for rating in ratings.iterator(chunk_size=CHUNK):
            yield self._row(rating, adjustments.get(rating.pk, []), english)

    def _row(self, rating, history, english) -> list:
        assessment, category = rating.assessment, rating.category
        before = history[0].from_level if history else rating.final_level
        log = "\n".join(
            _("%(at)s · %(who)s · %(from)s→%(to)s · %(why)s")
            % {
                "at": timezone.localtime(a.at).strftime("%Y-%m-%d %H:%M"),
                "who": a.actor or "—",
                "from": a.from_level if a.from_level is not None else "—",
                "to": a.to_level,
                "why": a.note,
            }
            for a in history
        )
        return [
            assessment.org_unit.name if assessment.org_unit else "",
            assessment.person.employee_no or assessment.person.username,
            str(assessment.person),
            str(assessment.reviewer) if assessment.reviewer else "",
            category.code,
            (category.name_en if english else "") or category.name_zh,
            rating.self_level,
            rating.supervisor_level,
            before,
            rating.final_level,
            _("是") if history else _("否"),
            log,
            assessment.get_classification_display(),
        ]
