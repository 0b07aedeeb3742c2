"""What every assessment export shares: the formula-injection rule and the file-format helpers.

A text cell that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) is written with a leading apostrophe. CSV is UTF-8 with a BOM (Excel then opens Chinese
intact); XLSX is written by XlsxWriter in constant-memory mode, one row in memory at a time.
"""

import xlsxwriter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CSV_BOM = "\ufeff"
CSV_ENCODING = "utf-8-sig"  # UTF-8 that writes the BOM first
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """A text cell that cannot run as a formula; any other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def open_workbook(fh, **options) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook on ``fh`` in constant-memory mode, with any further options."""
    return xlsxwriter.Workbook(fh, {"constant_memory": True, **options})
