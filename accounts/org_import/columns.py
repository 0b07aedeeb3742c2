"""The columns of each sheet and how a cell is checked and cleaned."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from ..models import OrgUnit, User
from ..permissions import Role
from .report import (
    MSG_BAD_EMAIL,
    MSG_BAD_FLAG,
    MSG_BAD_GRADE,
    MSG_BAD_KIND,
    MSG_BAD_LANGUAGE,
    MSG_BAD_ROLE,
    MSG_BAD_USERNAME,
    MSG_REQUIRED,
    MSG_TOO_LONG,
    PEOPLE,
    UNITS,
    Row,
    RowError,
)

TRUE_WORDS, FALSE_WORDS = {"yes", "true", "1", "是"}, {"no", "false", "0", "否"}


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


def clean_row(row: Row, kind: str, db: Database, errors: list[RowError]) -> dict[str, Any]:
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
