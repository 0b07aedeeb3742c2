"""The organisation import: file formats, every error kind, all-or-nothing, re-import, pages, CLI."""

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook

from accounts import org_import as oi
from accounts.models import OrgImport, OrgUnit, User
from accounts.permissions import Role

from .factories import UserFactory

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "org.csv"
HEADER = ["record", *oi.COLUMNS[oi.UNITS], *oi.COLUMNS[oi.PEOPLE]]
EXAMPLE_COUNTS = {
    "units_created": 6,
    "units_updated": 0,
    "units_unchanged": 0,
    "people_created": 5,
    "people_updated": 0,
    "people_unchanged": 0,
    "heads_added": 2,
}


def example_rows() -> list[dict]:
    with EXAMPLE.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def csv_bytes(rows: list[dict], header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def unit(code, parent="", name=None, **extra) -> dict:
    return {"record": "unit", "code": code, "parent_code": parent, "name_zh": name or code} | extra


def person(no, username, unit_code="GD", **extra) -> dict:
    values = {"employee_no": no, "username": username, "display_name": username}
    return {"record": "person", "unit_code": unit_code} | values | extra


def with_rows(*rows) -> bytes:
    """The example file with ``rows`` appended (rows 13, 14, … of the file)."""
    return csv_bytes(example_rows() + list(rows))


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def example_xlsx() -> bytes:
    """The example as a workbook: other column order, upper-case headers, numbers as numbers."""
    rows = example_rows()
    unit_cols = list(reversed(oi.COLUMNS[oi.UNITS]))
    person_cols = list(oi.COLUMNS[oi.PEOPLE])

    def cell(row, col):
        value = row[col]
        return int(value) if col == "employee_no" else value or None

    units = [[c.upper() for c in unit_cols]] + [
        [cell(r, c) for c in unit_cols] for r in rows if r["record"] == "unit"
    ]
    people = [person_cols] + [
        [cell(r, c) for c in person_cols] for r in rows if r["record"] == "person"
    ]
    return xlsx_bytes({"Units": units, "people": people, "notes": [["ignored"]]})


def snapshot() -> dict:
    """Everything an import could write, to compare before and after."""
    return {
        "units": list(OrgUnit.objects.order_by("code").values()),
        "people": list(User.objects.order_by("pk").values()),
        "heads": sorted(OrgUnit.heads.through.objects.values_list("orgunit_id", "user_id")),
        "groups": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
    }


def errors_of(report) -> set[tuple]:
    return {(e.sheet, e.row, e.column, e.msgid) for e in report.errors}


def check(content: bytes, name="org.csv"):
    return oi.check_org_file(content=content, file_name=name)


def apply(content: bytes, name="org.csv", by=None):
    return oi.apply_org_import(content=content, file_name=name, by=by)


def assert_example_imported():
    units = OrgUnit.objects.in_bulk(field_name="code")
    assert units["GD"].parent is None and units["GD"].path == f"/{units['GD'].pk}/"
    assert units["GD"].kind == OrgUnit.Kind.PROVINCE
    team = units["GZ-TH-1"]
    assert team.parent == units["GZ-TH"] and team.path == f"{units['GZ-TH'].path}{team.pk}/"
    assert team.depth == 3 and team.name_en == "Tianhe Enterprise Team 1"
    assert [u.code for u in team.ancestors()] == ["GD", "GZ", "GZ-TH"]
    assert units["SZ-1"].kind == OrgUnit.Kind.TEAM  # empty kind → team
    lina = User.objects.get(employee_no="10002")
    assert (lina.username, lina.display_name, lina.email) == ("lina", "李娜", "li.na@example.com")
    assert (lina.preferred_language, lina.job_grade, lina.org_unit) == ("en", "G4", units["GZ"])
    assert not lina.has_usable_password()
    assert list(units["GZ"].heads.all()) == [lina]
    assert list(units["GZ-TH-1"].heads.values_list("username", flat=True)) == ["wangfang"]
    wang = User.objects.get(username="wangfang")
    assert wang.role_names == {Role.SUPERVISOR, Role.MANAGER}
    assert User.objects.get(username="chenjing").role_names == {Role.MANAGER}  # default role
    assert User.objects.get(username="zhangwei").role_names == {Role.HR}


# --- Good files ------------------------------------------------------------------------------


def test_example_csv_imports_units_people_heads_and_roles(model_version):
    report = apply(EXAMPLE.read_bytes())
    assert report.ok and report.counts == EXAMPLE_COUNTS
    assert_example_imported()
    assert OrgImport.objects.get().status == OrgImport.Status.APPLIED


def test_example_as_xlsx_imports_the_same(model_version):
    report = apply(example_xlsx(), name="org.XLSX")
    assert report.ok, [e.as_line() for e in report.errors]
    assert report.counts == EXAMPLE_COUNTS
    assert_example_imported()


def test_read_rows_numbers_rows_as_in_the_file():
    units, people = oi.read_rows("org.csv", EXAMPLE.read_bytes())
    assert [row.number for row in units] == [2, 3, 4, 5, 6, 7]
    assert [row.number for row in people] == [8, 9, 10, 11, 12]
    assert people[0].values["employee_no"] == "10001" and people[0].sheet == "csv"


def test_xlsx_rows_keep_their_row_numbers_across_blank_rows():
    content = xlsx_bytes(
        {"units": [["code", "name_zh"], [None, None], ["X", "某单位"]], "people": [["username"]]}
    )
    units, people = oi.read_rows("org.xlsx", content)
    assert [(row.sheet, row.number, row.values) for row in units] == [
        ("units", 3, {"code": "X", "name_zh": "某单位"})
    ]
    assert people == []


def test_csv_with_bom_or_in_gb18030_is_read(model_version):
    rows = example_rows()
    assert check(b"\xef\xbb\xbf" + csv_bytes(rows)).counts == EXAMPLE_COUNTS
    assert check(csv_bytes(rows, encoding="gb18030")).counts == EXAMPLE_COUNTS


def test_dry_run_writes_nothing(model_version):
    before = snapshot()
    report = check(EXAMPLE.read_bytes())
    assert report.ok and report.counts == EXAMPLE_COUNTS
    assert snapshot() == before
    assert not OrgImport.objects.exists()


def test_reimport_of_the_same_file_changes_nothing(model_version):
    apply(EXAMPLE.read_bytes())
    before = snapshot()
    report = apply(EXAMPLE.read_bytes())
    assert report.counts == {
        **dict.fromkeys(EXAMPLE_COUNTS, 0),
        "units_unchanged": 6,
        "people_unchanged": 5,
    }
    assert snapshot() == before
    assert apply(example_xlsx(), name="org.xlsx").counts == report.counts


def test_existing_person_is_updated_by_employee_number(model_version, org):
    old = UserFactory(employee_no="10004", username="old-name", org_unit=org["A"], roles=[Role.HR])
    old.preferred_language = "en"
    old.save()
    report = apply(EXAMPLE.read_bytes())
    assert report.counts["people_updated"] == 1 and report.counts["people_created"] == 4
    person = User.objects.get(pk=old.pk)
    assert (person.username, person.display_name, person.job_grade) == ("liuyang", "刘洋", "G2")
    assert person.org_unit.code == "GZ-TH-1"
    assert person.preferred_language == "en"  # empty language cell: kept
    assert person.has_usable_password()  # an existing password is left alone
    assert person.role_names == {Role.HR, Role.MANAGER}  # roles are only added


def test_columns_left_out_keep_existing_values(model_version, org, manager):
    header = ["employee_no", "username", "display_name", "unit_code"]
    content = xlsx_bytes(
        {"units": [], "people": [header, [manager.employee_no, "manager", "新名字", "B"]]}
    )
    report = apply(content, name="org.xlsx")
    assert report.counts["people_updated"] == 1
    manager.refresh_from_db()
    assert (manager.display_name, manager.org_unit, manager.job_grade) == ("新名字", org["B"], "G2")
    assert manager.email == "manager@example.com"


def test_moving_units_keeps_every_path_right(model_version, org):
    content = csv_bytes(
        [
            unit("NEW", name="新省公司", kind="province"),
            unit("P", "NEW", name="省公司", name_en="Province", kind="province"),
            unit("A", "C1", name="甲队（改名）", name_en="Team A"),
            unit("C2", "C1", name="乙市分公司", name_en="City 2", kind="city"),
        ]
    )
    report = apply(content)
    assert report.ok, [e.as_line() for e in report.errors]
    assert report.counts["units_created"] == 1 and report.counts["units_updated"] == 3
    for item in OrgUnit.objects.all():
        expected = f"{item.parent.path if item.parent else '/'}{item.pk}/"
        assert item.path == expected, item.code
        assert item.depth == expected.count("/") - 2
    assert [u.code for u in OrgUnit.objects.get(code="B").ancestors()] == ["NEW", "P", "C1", "C2"]


def test_people_may_point_at_units_already_in_the_database(model_version, org):
    report = apply(csv_bytes([person("900", "newbie", "A", is_head="yes", roles="supervisor")]))
    assert report.counts == {
        **dict.fromkeys(EXAMPLE_COUNTS, 0),
        "people_created": 1,
        "heads_added": 1,
    }
    assert org["A"].heads.filter(username="newbie").exists()


# --- Errors ----------------------------------------------------------------------------------

P = "csv"
ERROR_CASES = {
    "missing required value": (unit("X", "GD", name_zh=""), (P, 13, "name_zh", oi.MSG_REQUIRED)),
    "unknown parent": (unit("X", "NOPE"), (P, 13, "parent_code", oi.MSG_UNKNOWN_PARENT)),
    "duplicate unit code": (unit("GZ", "GD"), (P, 13, "code", oi.MSG_DUPLICATE_UNIT)),
    "bad kind": (unit("X", "GD", kind="galaxy"), (P, 13, "kind", oi.MSG_BAD_KIND)),
    "too long": (unit("X" * 65, "GD"), (P, 13, "code", oi.MSG_TOO_LONG)),
    "duplicate employee no": (
        person("10001", "someone"),
        (P, 13, "employee_no", oi.MSG_DUPLICATE_EMPLOYEE),
    ),
    "duplicate username in file": (
        person("20001", "lina"),
        (P, 13, "username", oi.MSG_DUPLICATE_USERNAME),
    ),
    "bad username": (person("20001", "li na!"), (P, 13, "username", oi.MSG_BAD_USERNAME)),
    "bad e-mail": (person("20001", "x", email="x@"), (P, 13, "email", oi.MSG_BAD_EMAIL)),
    "unknown language": (person("20001", "x", language="fr"), (P, 13, "language", oi.MSG_BAD_LANGUAGE)),
    "unknown role": (person("20001", "x", roles="manager;boss"), (P, 13, "roles", oi.MSG_BAD_ROLE)),
    "unknown job grade": (person("20001", "x", job_grade="G9"), (P, 13, "job_grade", oi.MSG_BAD_GRADE)),
    "unknown unit": (person("20001", "x", "NOPE"), (P, 13, "unit_code", oi.MSG_UNKNOWN_UNIT)),
    "bad is_head": (person("20001", "x", is_head="maybe"), (P, 13, "is_head", oi.MSG_BAD_FLAG)),
    "missing unit_code": (person("20001", "x", ""), (P, 13, "unit_code", oi.MSG_REQUIRED)),
    "bad record": ({"record": "team", "code": "X"}, (P, 13, "record", oi.MSG_BAD_RECORD)),
    "person value on a unit row": (
        unit("X", "GD", username="x"),
        (P, 13, "username", oi.MSG_UNIT_ROW_PERSON_VALUE),
    ),
    "unit value on a person row": (
        person("20001", "x", kind="team"),
        (P, 13, "kind", oi.MSG_PERSON_ROW_UNIT_VALUE),
    ),
}  # fmt: skip


@pytest.mark.parametrize("row, expected", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_row_errors_name_sheet_row_and_column(model_version, row, expected):
    report = check(with_rows(row))
    assert not report.ok and report.counts == {}
    assert errors_of(report) == {expected}
    assert report.errors[0].message  # translated through gettext


def test_username_of_another_person_in_the_database_is_an_error(model_version, manager):
    report = check(with_rows(person("20001", "manager")))
    assert errors_of(report) == {(P, 13, "username", oi.MSG_USERNAME_TAKEN)}
    assert manager.employee_no in report.errors[0].message


def test_parent_cycle_in_the_file(model_version):
    report = check(with_rows(unit("X", "Y"), unit("Y", "X"), unit("Z", "Z")))
    assert errors_of(report) == {
        (P, 13, "parent_code", oi.MSG_CYCLE),
        (P, 14, "parent_code", oi.MSG_CYCLE),
        (P, 15, "parent_code", oi.MSG_CYCLE),
    }
    assert "X → Y → X" in report.errors[0].message


def test_parent_cycle_through_the_database(model_version, org):
    report = check(csv_bytes([unit("P", "A", name="省公司")]))
    assert errors_of(report) == {(P, 2, "parent_code", oi.MSG_CYCLE)}
    assert "P → A → C1 → P" in report.errors[0].message


def test_every_error_is_collected_and_sorted(model_version):
    content = with_rows(unit("X", "NOPE", kind="bad"), person("10001", "x", email="no"))
    report = check(content)
    assert [(e.row, e.column) for e in report.errors] == [
        (13, "parent_code"),
        (13, "kind"),
        (14, "employee_no"),
        (14, "email"),
    ]


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("org.csv", b"", ("", None, "", oi.MSG_EMPTY_FILE)),
        ("org.csv", b"\n\n", ("csv", None, "", oi.MSG_EMPTY_FILE)),
        ("org.xlsx", b"", ("", None, "", oi.MSG_EMPTY_FILE)),
        ("org.csv", ",".join(HEADER).encode() + b"\n", ("csv", None, "", oi.MSG_NO_ROWS)),
        ("org.xlsx", b"PK\x03\x04 not really a zip", ("", None, "", oi.MSG_NOT_XLSX)),
        ("org.xlsx", EXAMPLE.read_bytes(), ("", None, "", oi.MSG_NOT_XLSX)),
        ("org.csv", b"record,code\n\xff\xfe\xff,x\n", ("csv", None, "", oi.MSG_BAD_ENCODING)),
        ("org.txt", b"record\n", ("", None, "", oi.MSG_BAD_TYPE)),
    ],
)  # fmt: skip
def test_unreadable_or_empty_files(name, content, expected):
    report = check(content, name)
    assert errors_of(report) == {expected}
    with pytest.raises(oi.OrgFileError):
        oi.read_rows(name, content)


def test_header_errors(model_version):
    content = b"record,code,Name_ZH,colour,code\nunit,X,x,red,\n"
    report = check(content)
    assert errors_of(report) == {
        ("csv", 1, "colour", oi.MSG_UNKNOWN_COLUMN),
        ("csv", 1, "code", oi.MSG_DUPLICATE_COLUMN),
    }


def test_missing_required_column_and_missing_record_column(model_version):
    assert errors_of(check(b"record,code\nunit,X\n")) == {
        ("csv", 1, "name_zh", oi.MSG_MISSING_COLUMN)
    }
    assert errors_of(check(b"code,name_zh\nX,x\n")) == {("csv", 1, "record", oi.MSG_MISSING_COLUMN)}


def test_xlsx_missing_sheet_and_unknown_column(model_version):
    content = xlsx_bytes({"units": [["code", "name_zh", "colour"], ["X", "x", "red"]]})
    report = check(content, "org.xlsx")
    assert errors_of(report) == {
        ("units", 1, "colour", oi.MSG_UNKNOWN_COLUMN),
        ("people", None, "", oi.MSG_MISSING_SHEET),
    }
    assert report.errors[-1].as_line() == "people:-:-: " + report.errors[-1].message


def test_xlsx_row_errors_use_the_sheet_name(model_version):
    content = xlsx_bytes(
        {
            "units": [["code", "name_zh", "parent_code"], ["X", "x", "NOPE"]],
            "people": [
                ["employee_no", "username", "display_name", "unit_code", "email"],
                [1, "a", "A", "X", "bad"],
            ],
        }
    )
    assert errors_of(check(content, "org.xlsx")) == {
        ("units", 2, "parent_code", oi.MSG_UNKNOWN_PARENT),
        ("people", 2, "email", oi.MSG_BAD_EMAIL),
    }


def test_one_bad_row_writes_nothing_at_all(model_version, org):
    before = snapshot()
    report = apply(with_rows(person("20001", "x", email="not-an-email")))
    assert not report.ok and len(report.errors) == 1
    assert snapshot() == before
    assert OrgUnit.objects.count() == 5 and not OrgUnit.objects.filter(code="GD").exists()
    assert not OrgImport.objects.exists()


def test_stored_report_is_translated_when_read(model_version, monkeypatch):
    report = check(with_rows(unit("X", "NOPE")))
    stored = oi.ImportReport.from_dict(report.as_dict())
    assert errors_of(stored) == errors_of(report)
    assert stored.errors[0].message == "上级单位“NOPE”不存在"
    monkeypatch.setattr(oi.report, "gettext", lambda msgid: "EN " + msgid)  # another language
    assert stored.errors[0].message == "EN 上级单位“NOPE”不存在"


# --- Pages -----------------------------------------------------------------------------------


def upload(client, content: bytes, name="org.csv"):
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(reverse("accounts:org-import"), {"file": file})


def test_hr_uploads_checks_and_confirms_once(client, hr, model_version):
    client.force_login(hr)
    page = client.get(reverse("accounts:org-import"))
    assert page.status_code == 200 and "parent_code" in page.content.decode()
    response = upload(client, EXAMPLE.read_bytes())
    record = OrgImport.objects.get()
    assert response.status_code == 302 and response.url == record_url(record)
    assert record.status == OrgImport.Status.CHECKED and record.uploaded_by == hr
    assert not OrgUnit.objects.filter(code="GD").exists()  # the dry run wrote nothing
    detail = client.get(record_url(record)).content.decode()
    assert "新建单位" in detail and "确认导入" in detail
    client.post(record_url(record))
    record.refresh_from_db()
    assert record.status == OrgImport.Status.APPLIED and record.applied_at is not None
    assert_example_imported()
    before = snapshot()
    response = client.post(record_url(record), follow=True)
    assert "不能重复导入" in response.content.decode()
    assert snapshot() == before
    listing = client.get(reverse("accounts:org-import")).content.decode()
    assert record_url(record) in listing and "已导入" in listing


def record_url(record) -> str:
    return reverse("accounts:org-import-detail", args=[record.pk])


def test_confirm_records_who_applied_the_import(client, hr, org, model_version):
    client.force_login(hr)
    upload(client, EXAMPLE.read_bytes())
    record = OrgImport.objects.get()
    assert record.applied_by is None
    confirmer = UserFactory(
        username="hr2", display_name="第二人事", org_unit=org["P"], roles=[Role.HR]
    )
    client.force_login(confirmer)
    client.post(record_url(record))
    record.refresh_from_db()
    assert record.status == OrgImport.Status.APPLIED
    assert (record.uploaded_by, record.applied_by) == (hr, confirmer)
    client.force_login(hr)  # the page names the signed-in user too; read it as someone else
    assert "第二人事" in client.get(record_url(record)).content.decode()


def test_upload_with_errors_shows_them_and_cannot_be_confirmed(client, hr, model_version):
    client.force_login(hr)
    upload(client, with_rows(person("20001", "x", email="x@")))
    record = OrgImport.objects.get()
    assert record.status == OrgImport.Status.FAILED
    detail = client.get(record_url(record)).content.decode()
    assert "邮箱“x@”格式不正确" in detail and "<td>13</td>" in detail and "确认导入" not in detail
    before = snapshot()
    response = client.post(record_url(record), follow=True)
    assert "未通过校验" in response.content.decode()
    assert snapshot() == before


def test_confirm_checks_again(client, hr, model_version):
    client.force_login(hr)
    upload(client, EXAMPLE.read_bytes())
    record = OrgImport.objects.get()
    UserFactory(username="lina", employee_no="X-1")  # taken since the dry run
    before = snapshot()
    client.post(record_url(record))
    record.refresh_from_db()
    assert record.status == OrgImport.Status.FAILED and record.applied_at is None
    assert record.applied_by is None
    assert record.summary["errors"][0]["msgid"] == oi.MSG_USERNAME_TAKEN
    assert snapshot() == before


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("org.txt", b"x", "只能上传 .csv 或 .xlsx 文件"),
        ("org.csv", b"", "上传的文件是空的"),
        ("org.csv", b"x" * (5 * 1024 * 1024 + 1), "文件不能超过"),
    ],
)
def test_upload_form_rejects_bad_files(client, hr, name, content, message):
    client.force_login(hr)
    response = upload(client, content, name)
    assert response.status_code == 200 and message in response.content.decode()
    assert not OrgImport.objects.exists()


def test_managers_and_outsiders_may_not_import(client, manager, outsider, hr):
    record = OrgImport.objects.create(file_name="x.csv", content=b"", status="checked")
    urls = [reverse("accounts:org-import"), record_url(record)]
    for user in (manager, outsider):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403
            assert client.post(url).status_code == 403
    client.logout()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- Command ---------------------------------------------------------------------------------


def test_command_imports_a_good_file(model_version, tmp_path):
    out = io.StringIO()
    call_command("import_org", str(EXAMPLE), stdout=out)
    assert "新建单位: 6" in out.getvalue()
    assert_example_imported()
    record = OrgImport.objects.get()
    assert record.status == OrgImport.Status.APPLIED and record.applied_by is None


def test_command_dry_run_writes_nothing(model_version):
    before = snapshot()
    out = io.StringIO()
    call_command("import_org", str(EXAMPLE), "--dry-run", stdout=out)
    assert "新建人员: 5" in out.getvalue()
    assert snapshot() == before and not OrgImport.objects.exists()


def test_command_reports_errors_and_writes_nothing(model_version, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(with_rows(unit("X", "NOPE"), person("10001", "x")))
    before = snapshot()
    err = io.StringIO()
    with pytest.raises(CommandError, match="2"):
        call_command("import_org", str(bad), stderr=err)
    assert err.getvalue().splitlines() == [
        "csv:13:parent_code: 上级单位“NOPE”不存在",
        "csv:14:employee_no: 工号“10001”在文件中重复（第 8 行已出现）",
    ]
    assert snapshot() == before and not OrgImport.objects.exists()


def test_command_with_a_missing_file():
    with pytest.raises(CommandError):
        call_command("import_org", "/nonexistent/org.csv")


def test_role_groups_are_the_permission_roles(model_version):
    apply(EXAMPLE.read_bytes())
    assert set(Group.objects.values_list("name", flat=True)) <= set(Role.values)


def test_checking_takes_the_same_queries_whatever_the_file_size(model_version, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n: int) -> int:
        rows = [person(f"9{i:04d}", f"p{i}", "A", roles="manager", is_head="no") for i in range(n)]
        with CaptureQueriesContext(connection) as context:
            assert check(csv_bytes(rows)).ok
        return len(context.captured_queries)

    assert queries(2) == queries(40)
