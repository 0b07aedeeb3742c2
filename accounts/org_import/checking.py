"""Checking rows against each other and the database, and planning what an import writes."""

from dataclasses import dataclass
from typing import Any

from django.db.models import F

from competency.models import ModelVersion

from ..models import OrgUnit, User
from ..permissions import Role
from .columns import COLUMNS, Database, clean_row
from .report import (
    COUNT_LABELS,
    CSV_SHEET,
    MSG_CYCLE,
    MSG_DUPLICATE_EMPLOYEE,
    MSG_DUPLICATE_UNIT,
    MSG_DUPLICATE_USERNAME,
    MSG_UNKNOWN_PARENT,
    MSG_UNKNOWN_UNIT,
    MSG_USERNAME_TAKEN,
    PEOPLE,
    RECORD,
    UNITS,
    ImportReport,
    Row,
    RowError,
)

# Person column → model attribute, for the plain text fields.
PERSON_FIELDS = {
    "username": "username",
    "display_name": "display_name",
    "email": "email",
    "phone": "phone",
    "language": "preferred_language",
    "job_grade": "job_grade",
}


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


def plan_import(
    units: list[Row], people: list[Row], errors: list[RowError]
) -> tuple[ImportReport, Plan | None]:
    """(report, plan): every error of the rows, or the plan and its counts when there is none."""
    db = _load_database(people)
    unit_values = [clean_row(row, UNITS, db, errors) for row in units]
    person_values = [clean_row(row, PEOPLE, db, errors) for row in people]
    parents = _check_units(units, db, errors)
    _check_people(people, set(parents), db, errors)
    if errors:
        return ImportReport(errors=sorted(errors, key=error_order)), None
    plan = Plan(
        units=sorted((_unit_change(v, parents, db) for v in unit_values), key=lambda c: c.depth),
        people=[_person_change(values, db) for values in person_values],
    )
    return ImportReport(counts=plan.counts()), plan


def error_order(error: RowError) -> tuple[int, int, int]:
    """File problems first, then by sheet, row and the column's place in the format."""
    sheets = ("", CSV_SHEET, UNITS, PEOPLE)
    columns = (RECORD, *COLUMNS[UNITS], *COLUMNS[PEOPLE])
    column = columns.index(error.column) if error.column in columns else len(columns)
    return sheets.index(error.sheet), error.row or 0, column
