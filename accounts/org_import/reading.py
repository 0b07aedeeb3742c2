"""Reading a file into rows: .xlsx sheets or one .csv table, decoded, headers checked."""

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .columns import COLUMNS, SPECS
from .report import (
    CSV_SHEET,
    MSG_BAD_CSV,
    MSG_BAD_ENCODING,
    MSG_BAD_RECORD,
    MSG_BAD_TYPE,
    MSG_DUPLICATE_COLUMN,
    MSG_EMPTY_FILE,
    MSG_MISSING_COLUMN,
    MSG_MISSING_HEADER,
    MSG_MISSING_SHEET,
    MSG_NO_ROWS,
    MSG_NOT_XLSX,
    MSG_PERSON_ROW_UNIT_VALUE,
    MSG_UNIT_ROW_PERSON_VALUE,
    MSG_UNKNOWN_COLUMN,
    PEOPLE,
    RECORD,
    UNITS,
    OrgFileError,
    Row,
    RowError,
)

RECORD_KINDS = {"unit": UNITS, "person": PEOPLE}


def read_rows(file_name: str, content: bytes) -> tuple[list[Row], list[Row]]:
    """The unit rows and the person rows of a .csv/.xlsx file; OrgFileError lists what is wrong."""
    units, people, errors = parse_file(file_name, content)
    if errors:
        raise OrgFileError(errors)
    return units, people


def parse_file(file_name: str, content: bytes) -> tuple[list[Row], list[Row], list[RowError]]:
    """Rows plus the errors of the file's structure (all of them, not just the first)."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return [], [], [RowError("", None, "", MSG_BAD_TYPE)]
    if not content:
        return [], [], [RowError("", None, "", MSG_EMPTY_FILE)]
    errors: list[RowError] = []
    try:
        reader = _read_xlsx if suffix == ".xlsx" else _read_csv
        units, people = reader(content, errors)
    except OrgFileError as exc:
        return [], [], exc.errors
    if not units and not people and not errors:
        errors.append(RowError(CSV_SHEET if suffix == ".csv" else "", None, "", MSG_NO_ROWS))
    return units, people, errors


def _read_xlsx(content: bytes, errors: list[RowError]) -> tuple[list[Row], list[Row]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise OrgFileError([RowError("", None, "", MSG_NOT_XLSX)]) from exc
    names = {name.strip().lower(): name for name in book.sheetnames}
    rows: dict[str, list[Row]] = {UNITS: [], PEOPLE: []}
    for sheet in (UNITS, PEOPLE):
        if sheet not in names:
            errors.append(RowError(sheet, None, "", MSG_MISSING_SHEET, {"sheet": sheet}))
            continue
        worksheet = book[names[sheet]]
        worksheet.reset_dimensions()  # some writers store a wrong size; read what is there
        table = list(enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1))
        present, data = _read_table(sheet, table, COLUMNS[sheet], errors)
        rows[sheet] = [Row(sheet, number, values, present) for number, values in data]
        _check_required_columns(sheet, sheet, present, rows[sheet], errors)
    book.close()
    return rows[UNITS], rows[PEOPLE]


def _read_csv(content: bytes, errors: list[RowError]) -> tuple[list[Row], list[Row]]:
    text = _decode(content)
    try:
        table = list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))
    except csv.Error as exc:
        raise OrgFileError(
            [RowError(CSV_SHEET, None, "", MSG_BAD_CSV, {"error": str(exc)})]
        ) from exc
    if not any(cell.strip() for _number, cells in table for cell in cells):
        raise OrgFileError([RowError(CSV_SHEET, None, "", MSG_EMPTY_FILE)])
    allowed = (RECORD, *COLUMNS[UNITS], *COLUMNS[PEOPLE])
    present, data = _read_table(CSV_SHEET, table, allowed, errors)
    if data and RECORD not in present:
        errors.append(RowError(CSV_SHEET, 1, RECORD, MSG_MISSING_COLUMN, {"column": RECORD}))
        return [], []
    rows: dict[str, list[Row]] = {UNITS: [], PEOPLE: []}
    for number, values in data:
        _split_csv_row(number, values, present, rows, errors)
    for kind, kind_rows in rows.items():
        _check_required_columns(CSV_SHEET, kind, present & set(COLUMNS[kind]), kind_rows, errors)
    return rows[UNITS], rows[PEOPLE]


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise OrgFileError([RowError(CSV_SHEET, None, "", MSG_BAD_ENCODING)])


def _split_csv_row(number, values, present, rows, errors) -> None:
    """File a CSV row under units or people by its ``record`` cell; stray cells are errors."""
    record = values.pop(RECORD, "")
    kind = RECORD_KINDS.get(record.lower())
    if kind is None:
        errors.append(RowError(CSV_SHEET, number, RECORD, MSG_BAD_RECORD, {"value": record}))
        return
    stray = MSG_UNIT_ROW_PERSON_VALUE if kind == UNITS else MSG_PERSON_ROW_UNIT_VALUE
    errors.extend(RowError(CSV_SHEET, number, c, stray) for c in values if c not in COLUMNS[kind])
    own = {c: v for c, v in values.items() if c in COLUMNS[kind]}
    rows[kind].append(Row(CSV_SHEET, number, own, present & frozenset(COLUMNS[kind])))


def _read_table(sheet, table, allowed, errors) -> tuple[frozenset[str], list[tuple[int, dict]]]:
    """The known header columns and the non-blank data rows as (number, {column: text})."""
    if not table:
        return frozenset(), []
    header = [_text(cell).lower() for cell in table[0][1]]
    columns = _header_columns(sheet, header, allowed, errors)
    data = []
    for number, cells in table[1:]:
        texts = [_text(cell) for cell in cells]
        if any(texts):
            data.append((number, {c: t for c, t in zip(columns, texts, strict=False) if c and t}))
    if data and not any(header):
        errors.append(RowError(sheet, 1, "", MSG_MISSING_HEADER))
    return frozenset(c for c in columns if c), data


def _header_columns(sheet, header, allowed, errors) -> list[str | None]:
    """The column name at each position (None for blank, unknown or repeated headers)."""
    columns: list[str | None] = []
    for name in header:
        msgid = MSG_UNKNOWN_COLUMN if name not in allowed else MSG_DUPLICATE_COLUMN
        if name and (name not in allowed or name in columns):
            errors.append(RowError(sheet, 1, name, msgid, {"column": name}))
        columns.append(name if name in allowed and name not in columns else None)
    return columns


def _check_required_columns(sheet, kind, present, rows, errors) -> None:
    """Required columns must be in the header, at least when there are rows of that kind."""
    if not rows:
        return
    for column in (c.name for c in SPECS[kind] if c.required):
        if column not in present:
            errors.append(RowError(sheet, 1, column, MSG_MISSING_COLUMN, {"column": column}))


def _text(value: Any) -> str:
    """A cell as text: whole numbers without '.0', booleans as true/false, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value).strip()
