"""Import the organisation and its people from CSV or Excel (.xlsx): dry run, then all or nothing.

File format
===========

**.xlsx** — a workbook with two sheets named ``units`` and ``people`` (other sheets are ignored).
Row 1 of each sheet is the header; columns may come in any order; header names are
case-insensitive; an unknown column is an error.

**.csv** — one table (UTF-8 with or without BOM; GB18030 is accepted when UTF-8 decoding fails)
whose first column is ``record`` with the value ``unit`` or ``person``. The other columns are the
union of both column sets; a unit row leaves the person columns empty and vice versa.

``units`` columns:
  ``code`` (required, unique) · ``parent_code`` (empty for a root; a unit of the file or of the
  database) · ``name_zh`` (required) · ``name_en`` · ``kind`` (province|city|district|team; default
  team).

``people`` columns:
  ``employee_no`` (required, the key of a person) · ``username`` (required, unique; letters,
  digits, @.+-_) · ``display_name`` (required) · ``email`` · ``phone`` · ``language`` (zh-hans|en;
  default zh-hans) · ``job_grade`` (a grade code of the latest published model version) ·
  ``unit_code`` (required; a unit of the file or of the database) · ``roles`` (manager|supervisor|
  hr|admin separated by ``;`` or ``；``; default manager) · ``is_head`` (yes/no/true/false/1/0/是/否;
  default no; yes makes the person a head of ``unit_code``).

Rules
=====

* Units are matched by ``code``, people by ``employee_no``: existing rows are updated, new ones
  created. Units and people of the database that the file does not mention are left alone.
* A column left out of the header leaves that field of existing rows as it is; an empty cell
  clears the field (or sets the default named above).
* Roles and headships are only ever added: groups of a person that the file does not list, and
  units a person already heads, are kept.
* New people get an unusable password (they sign in through SSO, or an admin sets one).
* Every error (sheet, row as numbered in the file with the header as row 1, column, message) is
  collected before anything is reported; with any error nothing is written. Re-importing the same
  file changes nothing.
"""

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from competency.models import ModelVersion

from .models import OrgImport, OrgUnit, User
from .permissions import Role

logger = logging.getLogger(__name__)

UNITS, PEOPLE, CSV_SHEET, RECORD = "units", "people", "csv", "record"
RECORD_KINDS = {"unit": UNITS, "person": PEOPLE}
TRUE_WORDS, FALSE_WORDS = {"yes", "true", "1", "是"}, {"no", "false", "0", "否"}
# Person column → model attribute, for the plain text fields.
PERSON_FIELDS = {
    "username": "username",
    "display_name": "display_name",
    "email": "email",
    "phone": "phone",
    "language": "preferred_language",
    "job_grade": "job_grade",
}
COUNT_LABELS = {
    "units_created": _("新建单位"),
    "units_updated": _("更新单位"),
    "units_unchanged": _("未变单位"),
    "people_created": _("新建人员"),
    "people_updated": _("更新人员"),
    "people_unchanged": _("未变人员"),
    "heads_added": _("新增负责人"),
}

# Messages are stored untranslated (msgid + params) and translated when read, so a stored report
# follows the language of whoever reads it.
MSG_EMPTY_FILE = gettext_noop("文件为空")
MSG_NO_ROWS = gettext_noop("文件中没有任何单位或人员数据")
MSG_BAD_TYPE = gettext_noop("不支持的文件类型，请上传 .csv 或 .xlsx 文件")
MSG_NOT_XLSX = gettext_noop("无法读取文件：不是有效的 Excel (.xlsx) 工作簿")
MSG_BAD_ENCODING = gettext_noop("无法读取文件：编码既不是 UTF-8 也不是 GB18030")
MSG_BAD_CSV = gettext_noop("无法读取 CSV 文件：%(error)s")
MSG_MISSING_SHEET = gettext_noop("缺少工作表“%(sheet)s”")
MSG_MISSING_HEADER = gettext_noop("第 1 行必须是列标题")
MSG_UNKNOWN_COLUMN = gettext_noop("未知的列“%(column)s”")
MSG_DUPLICATE_COLUMN = gettext_noop("列“%(column)s”重复")
MSG_MISSING_COLUMN = gettext_noop("缺少必需的列“%(column)s”")
MSG_BAD_RECORD = gettext_noop("record 列必须是 unit 或 person，而不是“%(value)s”")
MSG_UNIT_ROW_PERSON_VALUE = gettext_noop("单位行不应填写人员列")
MSG_PERSON_ROW_UNIT_VALUE = gettext_noop("人员行不应填写单位列")
MSG_REQUIRED = gettext_noop("必须填写")
MSG_TOO_LONG = gettext_noop("不能超过 %(max)s 个字符")
MSG_BAD_KIND = gettext_noop("单位类型“%(value)s”无效，可选：%(choices)s")
MSG_UNKNOWN_PARENT = gettext_noop("上级单位“%(code)s”不存在")
MSG_DUPLICATE_UNIT = gettext_noop("单位编码“%(value)s”在文件中重复（第 %(first)s 行已出现）")
MSG_CYCLE = gettext_noop("上级单位形成循环：%(chain)s")
MSG_DUPLICATE_EMPLOYEE = gettext_noop("工号“%(value)s”在文件中重复（第 %(first)s 行已出现）")
MSG_DUPLICATE_USERNAME = gettext_noop("用户名“%(value)s”在文件中重复（第 %(first)s 行已出现）")
MSG_USERNAME_TAKEN = gettext_noop("用户名“%(value)s”已被其他人员使用（工号 %(employee_no)s）")
MSG_BAD_USERNAME = gettext_noop("用户名“%(value)s”只能包含字母、数字和 @.+-_")
MSG_BAD_EMAIL = gettext_noop("邮箱“%(value)s”格式不正确")
MSG_BAD_LANGUAGE = gettext_noop("语言“%(value)s”无效，可选：%(choices)s")
MSG_BAD_ROLE = gettext_noop("角色“%(value)s”无效，可选：%(choices)s")
MSG_BAD_GRADE = gettext_noop("职级“%(value)s”不是当前发布模型的认证等级（可选：%(choices)s）")
MSG_UNKNOWN_UNIT = gettext_noop("单位“%(code)s”不存在")
MSG_BAD_FLAG = gettext_noop("“%(value)s”不是有效的是/否值（可填 yes/no/true/false/1/0/是/否）")


@dataclass(frozen=True)
class RowError:
    """A problem at one place of the file; the message is translated when read."""

    sheet: str
    row: int | None
    column: str
    msgid: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return gettext(self.msgid) % self.params

    def as_line(self) -> str:
        return f"{self.sheet or '-'}:{self.row or '-'}:{self.column or '-'}: {self.message}"

    def as_dict(self) -> dict:
        keys = ("sheet", "row", "column", "msgid", "params")
        return {key: getattr(self, key) for key in keys} | {"message": self.message}


@dataclass
class ImportReport:
    """What an import found wrong, or (when nothing is) what it changes."""

    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count_rows(self) -> list[tuple[str, int]]:
        """(translated label, number) in display order."""
        return [(str(label), self.counts.get(key, 0)) for key, label in COUNT_LABELS.items()]

    def as_dict(self) -> dict:
        return {"ok": self.ok, "counts": self.counts, "errors": [e.as_dict() for e in self.errors]}

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        keys = ("sheet", "row", "column", "msgid", "params")
        errors = [RowError(**{key: e[key] for key in keys}) for e in data.get("errors", [])]
        return cls(errors=errors, counts=data.get("counts", {}))


class OrgFileError(Exception):
    """The file cannot be read as an organisation file; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]):
        super().__init__("\n".join(e.as_line() for e in errors))
        self.errors = errors


class OrgImportRefused(Exception):
    """A stored upload may not be applied (already applied, or it failed its check)."""


@dataclass(frozen=True)
class Row:
    """One data row: where it is in the file and its non-blank cells by column."""

    sheet: str
    number: int
    values: dict[str, str]
    columns: frozenset[str]  # the columns of its kind present in the header

    def error(self, column: str, msgid: str, **params) -> RowError:
        return RowError(self.sheet, self.number, column, msgid, params)


# --- Reading ---------------------------------------------------------------------------------


def read_rows(file_name: str, content: bytes) -> tuple[list[Row], list[Row]]:
    """The unit rows and the person rows of a .csv/.xlsx file; OrgFileError lists what is wrong."""
    units, people, errors = _parse(file_name, content)
    if errors:
        raise OrgFileError(errors)
    return units, people


def _parse(file_name: str, content: bytes) -> tuple[list[Row], list[Row], list[RowError]]:
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


# --- Checking cells ------------------------------------------------------------------------


class Invalid(Exception):
    """A cell's value is wrong; ``msgid`` and ``params`` make the message."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid)
        self.msgid, self.params = msgid, params


@dataclass
class Database:
    """What the file is checked against, read once (a handful of queries whatever its size)."""

    units: dict[str, dict]  # code → {code, parent_code, name_zh, name_en, kind}
    grades: dict[str, str]  # lower-case code → grade code of the latest published version
    people: dict[str, User]  # employee_no → person, for the file's employee numbers
    usernames: dict[str, str | None]  # username → employee_no of its holder (the file's names)
    heads: set[tuple[str, str]]  # (unit code, employee_no) headships that exist


@dataclass(frozen=True)
class Column:
    """How one column is read: required or not, its length limit, the check that cleans it."""

    name: str
    required: bool = False
    max_length: int | None = None
    check: Callable[[str, Database], Any] | None = None  # None from a check: "not given"

    def clean(self, text: str, db: Database) -> Any:
        if not text and self.required:
            raise Invalid(MSG_REQUIRED)
        if self.max_length and len(text) > self.max_length:
            raise Invalid(MSG_TOO_LONG, max=self.max_length)
        return self.check(text, db) if self.check else text


def _kind(text: str, db: Database) -> str | None:
    if text and text.lower() not in OrgUnit.Kind.values:
        raise Invalid(MSG_BAD_KIND, value=text, choices=" | ".join(OrgUnit.Kind.values))
    return text.lower() or None


def _language(text: str, db: Database) -> str | None:
    codes = [code for code, _name in settings.LANGUAGES]
    if text and text.lower() not in codes:
        raise Invalid(MSG_BAD_LANGUAGE, value=text, choices=" | ".join(codes))
    return text.lower() or None


def _roles(text: str, db: Database) -> tuple[str, ...] | None:
    names = [part.strip().lower() for part in re.split("[;；]", text) if part.strip()]
    unknown = [name for name in names if name not in Role.values]
    if unknown:
        raise Invalid(MSG_BAD_ROLE, value="; ".join(unknown), choices=" | ".join(Role.values))
    return tuple(dict.fromkeys(names)) or None


def _flag(text: str, db: Database) -> bool | None:
    if text.lower() in TRUE_WORDS | FALSE_WORDS:
        return text.lower() in TRUE_WORDS
    if text:
        raise Invalid(MSG_BAD_FLAG, value=text)
    return None


def _grade(text: str, db: Database) -> str:
    if text and text.lower() not in db.grades:
        raise Invalid(MSG_BAD_GRADE, value=text, choices=", ".join(db.grades.values()) or "—")
    return db.grades.get(text.lower(), "")


def _email(text: str, db: Database) -> str:
    try:
        if text:
            EmailValidator()(text)
    except ValidationError:
        raise Invalid(MSG_BAD_EMAIL, value=text) from None
    return text


def _username(text: str, db: Database) -> str:
    try:
        User.username_validator(text)
    except ValidationError:
        raise Invalid(MSG_BAD_USERNAME, value=text) from None
    return text


def _max(model, name: str) -> int:
    return model._meta.get_field(name).max_length


SPECS: dict[str, tuple[Column, ...]] = {
    UNITS: (
        Column("code", required=True, max_length=_max(OrgUnit, "code")),
        Column("parent_code", max_length=_max(OrgUnit, "code")),
        Column("name_zh", required=True, max_length=_max(OrgUnit, "name_zh")),
        Column("name_en", max_length=_max(OrgUnit, "name_en")),
        Column("kind", check=_kind),
    ),
    PEOPLE: (
        Column("employee_no", required=True, max_length=_max(User, "employee_no")),
        Column("username", required=True, max_length=_max(User, "username"), check=_username),
        Column("display_name", required=True, max_length=_max(User, "display_name")),
        Column("email", max_length=_max(User, "email"), check=_email),
        Column("phone", max_length=_max(User, "phone")),
        Column("language", check=_language),
        Column("job_grade", check=_grade),
        Column("unit_code", required=True, max_length=_max(OrgUnit, "code")),
        Column("roles", check=_roles),
        Column("is_head", check=_flag),
    ),
}
COLUMNS = {kind: tuple(column.name for column in specs) for kind, specs in SPECS.items()}


def _clean_row(row: Row, kind: str, db: Database, errors: list[RowError]) -> dict[str, Any]:
    """The row's cleaned values, for the columns in its header; wrong cells go to ``errors``."""
    values = {}
    for column in SPECS[kind]:
        if column.name not in row.columns:
            continue
        try:
            value = column.clean(row.values.get(column.name, ""), db)
        except Invalid as exc:
            errors.append(row.error(column.name, exc.msgid, **exc.params))
            continue
        if value is not None:
            values[column.name] = value
    return values


# --- Checking across rows ------------------------------------------------------------------


def _load_database(people: list[Row]) -> Database:
    numbers = {row.values["employee_no"] for row in people if "employee_no" in row.values}
    usernames = {row.values["username"] for row in people if "username" in row.values}
    persons = User.objects.filter(employee_no__in=numbers).select_related("org_unit")
    heads = OrgUnit.heads.through.objects.filter(user__employee_no__in=numbers)
    return Database(
        units=_database_units(),
        grades=_grade_codes(),
        people={p.employee_no: p for p in persons.prefetch_related("groups")},
        usernames=dict(
            User.objects.filter(username__in=usernames).values_list("username", "employee_no")
        ),
        heads=set(heads.values_list("orgunit__code", "user__employee_no")),
    )


def _database_units() -> dict[str, dict]:
    rows = OrgUnit.objects.values(
        "code", "name_zh", "name_en", "kind", parent_code=F("parent__code")
    )
    return {row["code"]: row | {"parent_code": row["parent_code"] or ""} for row in rows}


def _grade_codes() -> dict[str, str]:
    version = ModelVersion.objects.latest_published()
    codes = version.grades.values_list("code", flat=True) if version else []
    return {code.lower(): code for code in codes}


def _check_unique(rows: list[Row], column: str, msgid: str, errors: list[RowError]) -> None:
    """Every row after the first with the same value in ``column`` is an error."""
    first: dict[str, int] = {}
    for row in rows:
        value = row.values.get(column)
        if value and value in first:
            errors.append(row.error(column, msgid, value=value, first=first[value]))
        elif value:
            first[value] = row.number


def _check_units(rows: list[Row], db: Database, errors: list[RowError]) -> dict[str, str]:
    """Unique codes, known parents, no cycles; returns the parent of every unit after import."""
    _check_unique(rows, "code", MSG_DUPLICATE_UNIT, errors)
    known = {row.values["code"] for row in rows if "code" in row.values} | set(db.units)
    for row in rows:
        parent = row.values.get("parent_code")
        if parent and parent not in known:
            errors.append(row.error("parent_code", MSG_UNKNOWN_PARENT, code=parent))
    parents = {code: unit["parent_code"] for code, unit in db.units.items()}
    parents |= {
        row.values["code"]: row.values.get("parent_code", "")
        for row in rows
        if "code" in row.values and "parent_code" in row.columns
    }
    for row in rows:
        chain = _cycle_through(row.values.get("code", ""), parents)
        if chain:
            errors.append(row.error("parent_code", MSG_CYCLE, chain=" → ".join(chain)))
    return parents


def _cycle_through(code: str, parents: dict[str, str]) -> list[str] | None:
    """The parent chain from ``code`` back to itself, or None when it ends at a root."""
    chain = [code]
    parent = parents.get(code)
    while parent and parent not in chain:
        chain.append(parent)
        parent = parents.get(parent)
    return [*chain, code] if code and parent == code else None


def _check_people(rows: list[Row], unit_codes: set[str], db: Database, errors) -> None:
    """Unique employee numbers and usernames (in the file and the database), known units."""
    _check_unique(rows, "employee_no", MSG_DUPLICATE_EMPLOYEE, errors)
    _check_unique(rows, "username", MSG_DUPLICATE_USERNAME, errors)
    for row in rows:
        username, number = row.values.get("username"), row.values.get("employee_no")
        if username in db.usernames and db.usernames[username] != number:
            holder = db.usernames[username] or "—"
            errors.append(
                row.error("username", MSG_USERNAME_TAKEN, value=username, employee_no=holder)
            )
        unit = row.values.get("unit_code")
        if unit and unit not in unit_codes:
            errors.append(row.error("unit_code", MSG_UNKNOWN_UNIT, code=unit))


# --- Planning --------------------------------------------------------------------------------

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class UnitChange:
    """One unit row's planned write; ``fields`` holds the columns given (parent_code included)."""

    code: str
    action: str
    fields: dict[str, Any]
    depth: int


@dataclass
class PersonChange:
    """One person row's planned write: differing fields, new unit, roles and headship to add."""

    employee_no: str
    action: str
    fields: dict[str, Any]
    unit_code: str | None  # the unit to move to (None: stays)
    roles: tuple[str, ...]
    head_of: str | None  # the unit the person becomes a head of
    person: User | None


@dataclass
class Plan:
    """Everything an import writes, units parents-first."""

    units: list[UnitChange]
    people: list[PersonChange]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(COUNT_LABELS, 0)
        for change in self.units:
            counts[f"units_{change.action}"] += 1
        for change in self.people:
            counts[f"people_{change.action}"] += 1
        counts["heads_added"] = sum(1 for change in self.people if change.head_of)
        return counts


def _unit_change(values: dict, parents: dict[str, str], db: Database) -> UnitChange:
    code = values.pop("code")
    current = db.units.get(code)
    if current is None:
        action = CREATED
    else:
        action = UPDATED if any(current[k] != v for k, v in values.items()) else UNCHANGED
    return UnitChange(code, action, values, _depth(code, parents))


def _depth(code: str, parents: dict[str, str]) -> int:
    depth, parent = 0, parents.get(code)
    while parent:
        depth, parent = depth + 1, parents.get(parent)
    return depth


def _person_change(values: dict, db: Database) -> PersonChange:
    number, unit_code = values["employee_no"], values["unit_code"]
    wanted = {attr: values[column] for column, attr in PERSON_FIELDS.items() if column in values}
    head_of = unit_code if values.get("is_head") else None
    person = db.people.get(number)
    if person is None:
        roles = values.get("roles") or (Role.MANAGER.value,)
        return PersonChange(number, CREATED, wanted, unit_code, roles, head_of, None)
    fields = {attr: value for attr, value in wanted.items() if getattr(person, attr) != value}
    moved = unit_code != (person.org_unit.code if person.org_unit_id else None)
    held = {group.name for group in person.groups.all()}
    roles = tuple(role for role in values.get("roles", ()) if role not in held)
    if (unit_code, number) in db.heads:
        head_of = None
    action = UPDATED if fields or moved or roles else UNCHANGED
    return PersonChange(
        number, action, fields, unit_code if moved else None, roles, head_of, person
    )


def _plan(units: list[Row], people: list[Row], errors: list[RowError]):
    """(report, plan): every error of the rows, or the plan and its counts when there is none."""
    db = _load_database(people)
    unit_values = [_clean_row(row, UNITS, db, errors) for row in units]
    person_values = [_clean_row(row, PEOPLE, db, errors) for row in people]
    parents = _check_units(units, db, errors)
    _check_people(people, set(parents), db, errors)
    if errors:
        return ImportReport(errors=sorted(errors, key=_error_order)), None
    plan = Plan(
        units=sorted((_unit_change(v, parents, db) for v in unit_values), key=lambda c: c.depth),
        people=[_person_change(values, db) for values in person_values],
    )
    return ImportReport(counts=plan.counts()), plan


def _error_order(error: RowError) -> tuple[int, int, int]:
    """File problems first, then by sheet, row and the column's place in the format."""
    sheets = ("", CSV_SHEET, UNITS, PEOPLE)
    columns = (RECORD, *COLUMNS[UNITS], *COLUMNS[PEOPLE])
    column = columns.index(error.column) if error.column in columns else len(columns)
    return sheets.index(error.sheet), error.row or 0, column


# --- Writing ---------------------------------------------------------------------------------


def _write(plan: Plan) -> None:
    """Write a checked plan (inside the caller's transaction): units parents-first, then people."""
    for change in plan.units:
        if change.action != UNCHANGED:
            _save_unit(change)
    codes = {c.unit_code for c in plan.people} | {c.head_of for c in plan.people}
    units = OrgUnit.objects.in_bulk([code for code in codes if code], field_name="code")
    roles = {role for change in plan.people for role in change.roles}
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in roles}
    for change in plan.people:
        _save_person(change, units, groups)


def _save_unit(change: UnitChange) -> None:
    # Read afresh: moving an ancestor earlier in this run rewrote the paths below it.
    unit = OrgUnit.objects.filter(code=change.code).first() or OrgUnit(code=change.code)
    for name, value in change.fields.items():
        if name == "parent_code":
            unit.parent = OrgUnit.objects.get(code=value) if value else None
        else:
            setattr(unit, name, value)
    unit.save()


def _save_person(change: PersonChange, units: dict[str, OrgUnit], groups: dict[str, Group]):
    person = change.person or User(employee_no=change.employee_no)
    for name, value in change.fields.items():
        setattr(person, name, value)
    update_fields = list(change.fields)
    if change.unit_code:
        person.org_unit = units[change.unit_code]
        update_fields.append("org_unit")
    if change.person is None:
        person.set_unusable_password()
        person.save()
    elif update_fields:
        person.save(update_fields=update_fields)
    if change.roles:
        person.groups.add(*(groups[role] for role in change.roles))
    if change.head_of:
        units[change.head_of].heads.add(person)


# --- Services --------------------------------------------------------------------------------


def check_org_rows(units: list[Row], people: list[Row]) -> ImportReport:
    """What importing these rows would change, or every reason it cannot; writes nothing."""
    return _plan(units, people, [])[0]


def check_org_file(*, content: bytes, file_name: str) -> ImportReport:
    """The dry run of a file: all its errors, or the counts of what importing it would change."""
    return _check(content, file_name)[0]


def _check(content: bytes, file_name: str) -> tuple[ImportReport, Plan | None]:
    units, people, errors = _parse(file_name, content)
    if errors and not units and not people:
        return ImportReport(errors=sorted(errors, key=_error_order)), None
    return _plan(units, people, errors)


def _check_and_write(content: bytes, file_name: str, by) -> ImportReport:
    """Check again and, when nothing is wrong, write (the caller holds the transaction)."""
    report, plan = _check(content, file_name)
    if plan is not None:
        _write(plan)
        logger.info("Organisation file %s imported by %s: %s", file_name, by, report.counts)
    return report


def apply_org_import(*, content: bytes, file_name: str, by) -> ImportReport:
    """Re-check a file and write it in one transaction: all of it, or nothing on any error."""
    with transaction.atomic():
        report = _check_and_write(content, file_name, by)
        if report.ok:
            OrgImport.objects.create(
                file_name=file_name,
                content=content,
                status=OrgImport.Status.APPLIED,
                summary=report.as_dict(),
                uploaded_by=by,
                applied_at=timezone.now(),
            )
    return report


def upload_org_file(*, content: bytes, file_name: str, by) -> OrgImport:
    """Keep an uploaded file with its dry-run report; nothing of the organisation changes."""
    report = check_org_file(content=content, file_name=file_name)
    return OrgImport.objects.create(
        file_name=file_name,
        content=content,
        status=OrgImport.Status.CHECKED if report.ok else OrgImport.Status.FAILED,
        summary=report.as_dict(),
        uploaded_by=by,
    )


def confirm_org_import(*, org_import: OrgImport, by) -> ImportReport:
    """Apply a checked upload at most once; a failed re-check writes nothing and marks it failed."""
    with transaction.atomic():
        record = OrgImport.objects.select_for_update().get(pk=org_import.pk)
        if record.status == OrgImport.Status.APPLIED:
            raise OrgImportRefused(gettext("该文件已经导入，不能重复导入。"))
        if record.status != OrgImport.Status.CHECKED:
            raise OrgImportRefused(gettext("该文件未通过校验，请修改后重新上传。"))
        report = _check_and_write(bytes(record.content), record.file_name, by)
        record.status = OrgImport.Status.APPLIED if report.ok else OrgImport.Status.FAILED
        record.summary = report.as_dict()
        record.applied_at = timezone.now() if report.ok else None
        record.save(update_fields=["status", "summary", "applied_at"])
    return report
