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

Package layout
==============

``report`` the vocabulary (sheet names, messages, ``Row``, ``RowError``, ``ImportReport``) ·
``columns`` each column and how its cells are cleaned · ``reading`` file → rows · ``checking``
rows against each other and the database, and the plan · ``writing`` a plan into the database ·
``services`` the dry run, upload, confirm and apply workflows.
"""

from .columns import COLUMNS, SPECS
from .reading import read_rows
from .report import (
    COUNT_LABELS,
    CSV_SHEET,
    MSG_BAD_CSV,
    MSG_BAD_EMAIL,
    MSG_BAD_ENCODING,
    MSG_BAD_FLAG,
    MSG_BAD_GRADE,
    MSG_BAD_KIND,
    MSG_BAD_LANGUAGE,
    MSG_BAD_RECORD,
    MSG_BAD_ROLE,
    MSG_BAD_TYPE,
    MSG_BAD_USERNAME,
    MSG_CYCLE,
    MSG_DUPLICATE_COLUMN,
    MSG_DUPLICATE_EMPLOYEE,
    MSG_DUPLICATE_UNIT,
    MSG_DUPLICATE_USERNAME,
    MSG_EMPTY_FILE,
    MSG_MISSING_COLUMN,
    MSG_MISSING_HEADER,
    MSG_MISSING_SHEET,
    MSG_NO_ROWS,
    MSG_NOT_XLSX,
    MSG_PERSON_ROW_UNIT_VALUE,
    MSG_REQUIRED,
    MSG_TOO_LONG,
    MSG_UNIT_ROW_PERSON_VALUE,
    MSG_UNKNOWN_COLUMN,
    MSG_UNKNOWN_PARENT,
    MSG_UNKNOWN_UNIT,
    MSG_USERNAME_TAKEN,
    PEOPLE,
    RECORD,
    UNITS,
    ImportReport,
    OrgFileError,
    OrgImportRefused,
    Row,
    RowError,
)
from .services import (
    apply_org_import,
    check_org_file,
    check_org_rows,
    confirm_org_import,
    upload_org_file,
)

__all__ = [
    "COLUMNS",
    "SPECS",
    "read_rows",
    "COUNT_LABELS",
    "CSV_SHEET",
    "MSG_BAD_CSV",
    "MSG_BAD_EMAIL",
    "MSG_BAD_ENCODING",
    "MSG_BAD_FLAG",
    "MSG_BAD_GRADE",
    "MSG_BAD_KIND",
    "MSG_BAD_LANGUAGE",
    "MSG_BAD_RECORD",
    "MSG_BAD_ROLE",
    "MSG_BAD_TYPE",
    "MSG_BAD_USERNAME",
    "MSG_CYCLE",
    "MSG_DUPLICATE_COLUMN",
    "MSG_DUPLICATE_EMPLOYEE",
    "MSG_DUPLICATE_UNIT",
    "MSG_DUPLICATE_USERNAME",
    "MSG_EMPTY_FILE",
    "MSG_MISSING_COLUMN",
    "MSG_MISSING_HEADER",
    "MSG_MISSING_SHEET",
    "MSG_NOT_XLSX",
    "MSG_NO_ROWS",
    "MSG_PERSON_ROW_UNIT_VALUE",
    "MSG_REQUIRED",
    "MSG_TOO_LONG",
    "MSG_UNIT_ROW_PERSON_VALUE",
    "MSG_UNKNOWN_COLUMN",
    "MSG_UNKNOWN_PARENT",
    "MSG_UNKNOWN_UNIT",
    "MSG_USERNAME_TAKEN",
    "PEOPLE",
    "RECORD",
    "UNITS",
    "ImportReport",
    "OrgFileError",
    "OrgImportRefused",
    "Row",
    "RowError",
    "apply_org_import",
    "check_org_file",
    "check_org_rows",
    "confirm_org_import",
    "upload_org_file",
]
