"""Exports of certification data: one base that writes rows as CSV or XLSX, and the register.

CSV is UTF-8 with a BOM (Excel opens the Chinese correctly) and streamed; XLSX is written by
XlsxWriter in constant-memory mode. Text cells that a spreadsheet would read as a formula
(starting with = + - @, a tab or a carriage return) are neutralised with a leading apostrophe.
"""

import csv
import tempfile
from collections.abc import Iterable
from datetime import date

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..exports import CSV_BOM, CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, neutralise, open_workbook


class _Echo:
    """A write-only file whose ``write`` returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


class RowExporter:
    """Columns and rows → a CSV or XLSX download; subclasses give ``columns``, ``rows`` and a name."""

    name = "export"
    sheet_title = "Sheet1"
    columns: list = []  # (label, width in characters)

    def rows(self) -> Iterable[list]:
        raise NotImplementedError

    def filename(self, extension: str) -> str:
        return f"{self.name}-{timezone.localdate():%Y%m%d}.{extension}"

    def response(self, file_format: str):
        if file_format == "xlsx":
            return self.xlsx_response()
        return self.csv_response()

    def _text_rows(self):
        yield [str(label) for label, _width in self.columns]
        for row in self.rows():
            yield [
                value.isoformat() if isinstance(value, date) else neutralise(value) for value in row
            ]

    def csv_response(self) -> StreamingHttpResponse:
        writer = csv.writer(_Echo())

        def lines():
            yield CSV_BOM  # Excel reads the file as UTF-8
            for row in self._text_rows():
                yield writer.writerow(row)

        response = StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{self.filename("csv")}"'
        return response

    def xlsx_response(self) -> FileResponse:
        output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
        workbook = open_workbook(output)
        sheet = workbook.add_worksheet(str(self.sheet_title)[:31])
        header = workbook.add_format({"bold": True, "bg_color": "#D9E2EC", "border": 1})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for col, (label, width) in enumerate(self.columns):
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, str(label), header)
        sheet.freeze_panes(1, 0)
        for r, row in enumerate(self.rows(), start=1):
            for col, value in enumerate(row):
                if isinstance(value, date):
                    sheet.write_datetime(r, col, value, day)
                elif isinstance(value, int | float):
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, neutralise(str(value or "")))
        workbook.close()
        output.seek(0)
        return FileResponse(
            output,
            as_attachment=True,
            filename=self.filename("xlsx"),
            content_type=XLSX_CONTENT_TYPE,
        )


class CertificateRegisterExporter(RowExporter):
    """HR's certificate register under its filters, one row per certificate."""

    name = "certificates"
    sheet_title = _("证书登记簿")
    columns = [
        (_("证书编号"), 30),
        (_("姓名"), 16),
        (_("工号"), 12),
        (_("单位"), 22),
        (_("等级编码"), 10),
        (_("认证等级"), 18),
        (_("发证日期"), 12),
        (_("有效期至"), 12),
        (_("状态"), 10),
        (_("评估周期"), 24),
    ]

    def __init__(self, certificates, today: date):
        self.certificates = certificates
        self.today = today

    def rows(self):
        for c in self.certificates.iterator(chunk_size=2000):
            yield [
                c.number,
                c.holder_name,
                c.person.employee_no or "",
                c.person.org_unit.name if c.person.org_unit else "",
                c.grade.code,
                c.grade.name,
                c.issued_on,
                c.valid_until,
                str(c.state_label(self.today)),
                c.application.cycle.name,
            ]


EXPORTERS = {"certificates": CertificateRegisterExporter}
FORMATS = ("xlsx", "csv")
