"""Exports of one unit's gap report. One base turns the report into tables of rows and writes them
as CSV (UTF-8 with BOM, which Excel opens with Chinese intact) or XLSX (XlsxWriter in
constant-memory mode: one row in memory at a time); the PDF gets its numbers from ``reports``.
``EXPORTERS`` is the one registry: the download, the worker and the command all go through it.

Text cells that a spreadsheet could read as a formula (starting with = + - @ tab or CR) are
written with a leading apostrophe. Numbers are written as numbers, never as text.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.http import FileResponse, Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_download
from accounts.i18n import active_language_is_english
from competency.profiles import Shape

from ..exports import CSV_CONTENT_TYPE, CSV_ENCODING, XLSX_CONTENT_TYPE, neutralise, open_workbook
from ..models import Assessment, GapReportRun
from . import charts, reports

TEXT, INT, MEAN, SHARE, GAP = "text", "int", "mean", "share", "gap"


@dataclass
class Column:
    header: str
    width: int = 12
    kind: str = INT


@dataclass
class Table:
    """One sheet: its columns and a (possibly streamed) iterable of rows."""

    key: str
    title: str
    columns: list[Column]
    rows: Iterable[list]
    freeze: tuple[int, int] = (1, 0)
    heatmap: tuple[int, int] | None = None  # first and last column of the colour scale
    row_count: int = field(default=0, init=False)


def _round(value, kind: str):
    if value is None:
        return None
    return round(value, 4) if kind in (MEAN, SHARE) else value


def _percent(value) -> str:
    return "—" if value is None else f"{value:.1%}"


class RowsExporter:
    """A unit's report as tables of rows; subclasses pick the file format."""

    file_format = ""
    extension = ""
    content_type = ""

    def __init__(self, run: GapReportRun, unit):
        self.run = run
        self.unit = unit

    def filename(self) -> str:
        return f"gap-report-{self.run.pk}-{self.unit.code}.{self.extension}"

    def write(self, fh) -> None:
        raise NotImplementedError

    # --- the tables -----------------------------------------------------------------------------

    def tables(self) -> list[Table]:
        report = reports.unit_report(self.run, self.unit)
        return [
            self._summary(report),
            self._categories(report),
            self._members(),
            self._industries(report),
            self._priorities(report),
        ]

    def _summary(self, report) -> Table:
        s = report.summary
        run = self.run
        finished = (
            timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M")
            if run.finished_at
            else ""
        )
        rows = [
            [_("单位"), self.unit.name],
            [_("评估周期"), run.cycle.name],
            [_("模型版本"), f"v{run.model_version.number} {run.model_version.name}"],
            [_("目标规则"), run.rule_label],
            [_("计算完成时间"), finished],
            [_("人数"), s.headcount],
            [_("已完成评估"), s.completed],
            [_("完成率"), _percent(s.completion)],
            [_("有目标画像的人数"), s.targeted],
            [_("全部类别达到目标"), s.meets_target],
            [_("至少一个类别低于目标"), s.below_any],
            [_("低于目标的人员比例"), _percent(s.share_below)],
            [_("行业深度达标人数"), s.depth_met],
            *([label, n] for _code, label, n in s.shape_counts()),
        ]
        return Table(
            "summary",
            _("概览"),
            [Column(_("项目"), 28, TEXT), Column(_("数值"), 36, TEXT)],
            rows,
        )

    def _level_names(self) -> list[str]:
        return [f"{lv.value} {lv.name}" for lv in self.run.model_version.levels.order_by("value")]

    def _categories(self, report) -> Table:
        names = dict(
            zip((c["id"] for c in self.run.categories), report.category_names, strict=True)
        )
        columns = [
            Column(_("能力类别"), 26, TEXT),
            Column(_("已评人数")),
            Column(_("平均最终等级"), 12, MEAN),
            Column(_("平均目标"), 10, MEAN),
            Column(_("平均差距"), 10, MEAN),
            Column(_("低于目标人数")),
            Column(_("低于目标比例"), 12, SHARE),
            Column(_("培训优先级"), 10),
            *(Column(_("%(level)s 人数") % {"level": name}, 10) for name in self._level_names()),
        ]
        rows = (
            [
                names.get(c.category_id, c.category.code),
                c.rated,
                _round(c.mean_level, MEAN),
                _round(c.mean_target, MEAN),
                _round(c.mean_gap, MEAN),
                c.below,
                _round(c.share_below, SHARE),
                c.priority,
                *c.distribution,
            ]
            for c in report.categories
        )
        return Table("categories", _("能力类别"), columns, rows, freeze=(1, 1))

    def _members(self) -> Table:
        names = self.run.category_names()
        n = len(names)
        columns = [
            Column(_("工号"), 12, TEXT),
            Column(_("姓名"), 14, TEXT),
            Column(_("单位"), 22, TEXT),
            Column(_("目标职级"), 9, TEXT),
            Column(_("评估状态"), 10, TEXT),
            Column(_("T型分类"), 12, TEXT),
            *(Column(_("差距 %(category)s") % {"category": name}, 11, GAP) for name in names),
            Column(_("未达标类别数"), 11),
            Column(_("差距合计"), 9),
            Column(_("最佳行业深度"), 11),
            *(Column(_("等级 %(category)s") % {"category": name}, 11) for name in names),
        ]
        return Table(
            "members",
            _("成员差距"),
            columns,
            self._member_rows(),
            freeze=(1, 2),
            heatmap=(6, 5 + n),
        )

    def _member_rows(self) -> Iterator[list]:
        english = active_language_is_english()
        # Labels translated once, not once per member.
        statuses = {value: str(label) for value, label in Assessment.Status.choices}
        shapes = {value: str(label) for value, label in Shape.choices} | {"": ""}
        blank = [None] * len(self.run.categories)
        # Each grade's targets as (target, …) tuples; a member's gaps are level − target.
        targets = {grade: tuple(mins) for grade, mins in self.run.targets.items()}
        for (
            number,
            display_name,
            username,
            unit_zh,
            unit_en,
            grade,
            status,
            shape,
            levels,
            below,
            shortfall,
            best_depth,
        ) in reports.member_values(self.run, self.unit):
            wanted = targets.get(grade, blank)
            yield [
                number or "",
                display_name or username,
                (unit_en or unit_zh) if english else unit_zh,
                grade,
                statuses.get(status, status),
                shapes.get(shape, shape),
                *[
                    None if level is None or target is None else level - target
                    for level, target in zip(levels, wanted, strict=False)
                ],
                below,
                shortfall,
                best_depth,
                *levels,
            ]

    def _industries(self, report) -> Table:
        depth_level = self.run.model_version.depth_level
        columns = [
            Column(_("行业"), 20, TEXT),
            Column(_("已评人数")),
            Column(_("平均深度"), 10, MEAN),
            Column(_("深度≥%(level)s 人数") % {"level": depth_level}, 12),
            *(Column(_("深度 %(n)s 人数") % {"n": n}, 10) for n in range(1, 6)),
        ]
        rows = (
            [i.industry.name, i.rated, _round(i.mean_depth, MEAN), i.deep, *i.distribution]
            for i in report.industries
        )
        return Table("industries", _("行业深度"), columns, rows)

    def _priorities(self, report) -> Table:
        names = dict(
            zip((c["id"] for c in self.run.categories), report.category_names, strict=True)
        )
        columns = [
            Column(_("培训优先级"), 10),
            Column(_("能力类别"), 26, TEXT),
            Column(_("人均差距"), 10, MEAN),
            Column(_("低于目标人数")),
            Column(_("低于目标比例"), 12, SHARE),
            Column(_("平均最终等级"), 12, MEAN),
            Column(_("平均目标"), 10, MEAN),
        ]
        rows = (
            [
                c.priority,
                names.get(c.category_id, c.category.code),
                _round(c.mean_shortfall, MEAN),
                c.below,
                _round(c.share_below, SHARE),
                _round(c.mean_level, MEAN),
                _round(c.mean_target, MEAN),
            ]
            for c in report.priorities
        )
        return Table("priorities", _("培训优先级"), columns, rows)

    # --- the writers ----------------------------------------------------------------------------

    def write_csv(self, fh) -> None:
        """Every table in turn (title, header, rows, a blank line), UTF-8 with a BOM."""
        text = io.TextIOWrapper(fh, encoding=CSV_ENCODING, newline="")
        writer = csv.writer(text)
        for number, table in enumerate(self.tables()):
            if number:
                writer.writerow([])
            writer.writerow([neutralise(table.title)])
            writer.writerow([neutralise(c.header) for c in table.columns])
            writer.writerows([neutralise(v) for v in row] for row in table.rows)
        text.flush()
        text.detach()

    def write_xlsx(self, fh) -> None:
        """One sheet per table, header frozen, widths set, the member gaps as a heatmap."""
        book = open_workbook(
            fh, strings_to_numbers=False, strings_to_formulas=False, strings_to_urls=False
        )
        formats = _formats(book)
        for table in self.tables():
            _write_sheet(book, table, formats)
        book.close()


def _formats(book) -> dict:
    return {
        "header": book.add_format(
            {"bold": True, "bg_color": "#DCE6F1", "text_wrap": True, "valign": "top", "border": 1}
        ),
        MEAN: book.add_format({"num_format": "0.00"}),
        SHARE: book.add_format({"num_format": "0.0%"}),
        GAP: book.add_format({"num_format": "+0;-0;0", "align": "center"}),
        INT: None,
        TEXT: None,
    }


def number_formats(table: Table, formats: dict) -> list:
    """The cell format of each column (None for plain numbers and text)."""
    return [formats[c.kind] for c in table.columns]


def _write_sheet(book, table: Table, formats: dict) -> None:
    sheet = book.add_worksheet(table.title[:31])
    for col, column in enumerate(table.columns):
        sheet.set_column(col, col, column.width)
        sheet.write_string(0, col, neutralise(column.header), formats["header"])
    sheet.freeze_panes(*table.freeze)
    # The hot loop: one call per cell, text always as text (never a formula), numbers as numbers.
    cell_formats = number_formats(table, formats)
    write_string, write_number = sheet.write_string, sheet.write_number
    row_number = 0
    for row_number, row in enumerate(table.rows, 1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if value.__class__ is str:
                write_string(row_number, col, neutralise(value))
            else:
                write_number(row_number, col, value, cell_formats[col])
    table.row_count = row_number
    if table.heatmap and row_number:
        first, last = table.heatmap
        sheet.conditional_format(
            1,
            first,
            row_number,
            last,
            {
                "type": "3_color_scale",
                "min_type": "num",
                "min_value": -3,
                "min_color": "#F8696B",
                "mid_type": "num",
                "mid_value": 0,
                "mid_color": "#FFFFFF",
                "max_type": "num",
                "max_value": 2,
                "max_color": "#63BE7B",
            },
        )
    if row_number:
        sheet.autofilter(0, 0, row_number, len(table.columns) - 1)


class CsvExporter(RowsExporter):
    file_format = "csv"
    extension = "csv"
    content_type = CSV_CONTENT_TYPE

    def write(self, fh) -> None:
        self.write_csv(fh)


class XlsxExporter(RowsExporter):
    file_format = "xlsx"
    extension = "xlsx"
    content_type = XLSX_CONTENT_TYPE

    def write(self, fh) -> None:
        self.write_xlsx(fh)


class PdfExporter:
    """The unit's summary with charts, rendered by WeasyPrint from an HTML template."""

    file_format = "pdf"
    extension = "pdf"
    content_type = "application/pdf"

    def __init__(self, run: GapReportRun, unit):
        self.run = run
        self.unit = unit

    def filename(self) -> str:
        return f"gap-report-{self.run.pk}-{self.unit.code}.pdf"

    def html(self) -> str:
        report = reports.unit_report(self.run, self.unit)
        context = {
            "report": report,
            "run": self.run,
            "unit": self.unit,
            "summary": report.summary,
            "charts": charts.unit_charts(report),
            "font_family": charts.FONT_FAMILY,
            "generated_at": timezone.localtime(),
        }
        return render_to_string("gap_reports/pdf/summary.html", context)

    def write(self, fh) -> None:
        from weasyprint import HTML

        HTML(string=self.html()).write_pdf(fh)


EXPORTERS: dict[str, type] = {
    "xlsx": XlsxExporter,
    "csv": CsvExporter,
    "pdf": PdfExporter,
}


def download_response(request, export) -> FileResponse:
    """A ready export as an attachment, for the page and the API alike (their permission checks
    come first); the download is audited. Http404 when the file has gone from the storage."""
    try:
        handle = export.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    name = _("团队差距报告-%(unit)s-%(date)s.%(ext)s") % {
        "unit": export.org_unit.code,
        "date": export.run.finished_at.strftime("%Y%m%d") if export.run.finished_at else "",
        "ext": export.file_format,
    }
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=name,
        content_type=EXPORTERS[export.file_format].content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    record_download(request, target=export, summary=name)
    return response
