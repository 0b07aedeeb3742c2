"""Gap report exports read back: the workbook's sheets, frozen headers, widths and heatmap; the
CSV's BOM and Chinese; the PDF's text and font; formula-looking text neutralised everywhere."""

import csv
import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from assessments.gap_reports import reports, services
from assessments.gap_reports.exporters import EXPORTERS, neutralise
from assessments.models import GapMemberRow, GapReportExport, GapUnitSummary

from . import test_gap_report_fixtures as data

pytestmark = pytest.mark.django_db

gap_org, gap_cycle = data.gap_org, data.gap_cycle
SHOTS = Path(__file__).resolve().parent.parent / "test-results" / "screenshots"
PAYLOADS = [
    '=HYPERLINK("http://evil.example","点我")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    "\tTAB",
    "\rCR",
]


@pytest.fixture
def run(gap_cycle, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_gap_report(cycle=gap_cycle, by=personas["hr"], chunk_members=6)
    run.refresh_from_db()
    return run


def write(run, unit, fmt, language="zh-hans") -> bytes:
    buffer = io.BytesIO()
    with translation.override(language):
        EXPORTERS[fmt](run, unit).write(buffer)
    return buffer.getvalue()


def test_neutralise_prefixes_only_formula_starts():
    assert [neutralise(p) for p in PAYLOADS] == ["'" + p for p in PAYLOADS]
    assert neutralise("张伟") == "张伟" and neutralise(-2) == -2 and neutralise(None) is None


def test_the_workbook_has_five_formatted_sheets(run, gap_org):
    book = openpyxl.load_workbook(io.BytesIO(write(run, gap_org["P"], "xlsx")))
    assert book.sheetnames == ["概览", "能力类别", "成员差距", "行业深度", "培训优先级"]
    summary = {r[0]: r[1] for r in book["概览"].iter_rows(min_row=2, values_only=True)}
    province = GapUnitSummary.objects.get(run=run, org_unit=gap_org["P"])
    assert summary["单位"] == "省公司" and summary["人数"] == province.headcount
    members = book["成员差距"]
    assert members.freeze_panes == "C2"
    assert members["A1"].value == "工号" and members["G1"].value.startswith("差距 1.1")
    assert members.column_dimensions["C"].width > 10
    assert members.max_row - 1 == province.headcount
    rules = members.conditional_formatting
    assert any(r.type == "colorScale" for cf in rules for r in cf.rules)
    categories = book["能力类别"]
    assert categories.freeze_panes == "B2" and categories.max_row == 13  # header + 12 categories
    assert categories["C2"].number_format == "0.00"
    for sheet in book.worksheets:
        assert sheet.freeze_panes is not None, sheet.title


def test_the_member_sheet_holds_each_members_gaps(run, gap_org):
    book = openpyxl.load_workbook(io.BytesIO(write(run, gap_org["A"], "xlsx")))
    rows = list(book["成员差距"].iter_rows(min_row=2, values_only=True))
    by_number = {row[0]: row for row in rows}
    n = len(run.categories)
    for member in GapMemberRow.objects.filter(run=run, org_unit=gap_org["A"]).select_related(
        "person"
    ):
        row = by_number[member.person.employee_no]
        assert list(row[6 : 6 + n]) == member.gaps(run.targets_of(member.grade))
        assert list(row[9 + n : 9 + 2 * n]) == member.levels
        assert row[6 + n] == member.below


def test_the_csv_opens_in_excel_with_chinese(run, gap_org):
    raw = write(run, gap_org["P"], "csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["概览"] and rows[1] == ["项目", "数值"] and rows[2] == ["单位", "省公司"]
    titles = [row[0] for i, row in enumerate(rows) if i == 0 or (rows[i - 1] == [] and row)]
    assert titles == ["概览", "能力类别", "成员差距", "行业深度", "培训优先级"]


def test_english_exports_use_the_english_model_texts(run, gap_org):
    book = openpyxl.load_workbook(io.BytesIO(write(run, gap_org["P"], "xlsx", "en")))
    summary = {r[0]: r[1] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert "Province" in summary.values()
    names = [c.value for c in book.worksheets[2][1]]
    assert any("Information" in str(name) for name in names)


@pytest.fixture
def hostile(gap_cycle, gap_org, personas, django_capture_on_commit_callbacks):
    """Names that a spreadsheet would take for formulas, in people and units."""
    people = list(gap_cycle.assessments.filter(org_unit=gap_org["A"]).select_related("person"))
    for payload, assessment in zip(PAYLOADS, people, strict=False):
        assessment.person.display_name = payload
        assessment.person.save(update_fields=["display_name"])
    gap_org["A"].name_zh = "=1+1"
    gap_org["A"].save()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_gap_report(cycle=gap_cycle, by=personas["hr"])
    run.refresh_from_db()
    return run


def test_formulas_are_neutralised_in_the_workbook(hostile, gap_org):
    book = openpyxl.load_workbook(io.BytesIO(write(hostile, gap_org["A"], "xlsx")))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    for payload in PAYLOADS:
        # (a carriage return is stored as Excel's escape _x000D_, which openpyxl keeps)
        assert "'" + payload.replace("\r", "_x000D_") in texts, payload
    assert "'=1+1" in texts
    assert not any(c.data_type == "f" for c in cells)
    assert not any(t[:1] in {"=", "+", "-", "@", "\t", "\r"} for t in texts)


def test_formulas_are_neutralised_in_the_csv(hostile, gap_org):
    text = write(hostile, gap_org["A"], "csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    for payload in PAYLOADS:
        assert "'" + payload in cells, payload
    offending = [c for c in cells if c[:1] in {"=", "+", "@", "\t", "\r"}]
    assert not offending
    # minus signs remain on numbers (gaps such as -2 are numbers, not text)
    assert not [c for c in cells if c.startswith("-") and not _is_number(c)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_pdf_shows_the_summary_in_chinese_with_the_named_font(run, gap_org, tmp_path):
    pdf = write(run, gap_org["P"], "pdf")
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "gap.pdf"
    path.write_bytes(pdf)
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "团队差距报告" in text and "省公司" in text and "培训优先级" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "WenQuanYi" in fonts
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(path), str(SHOTS / "gap-pdf")],
        check=True,
    )


def test_the_download_is_an_attachment_built_by_the_exporter(
    client, run, gap_org, personas, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(personas["hr"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:export-create", args=[run.pk, gap_org["A"].pk, "csv"])
        )
    export = GapReportExport.objects.get()
    assert response.url == reverse("reports:export-detail", args=[export.pk])
    status = client.get(reverse("reports:export-status", args=[export.pk])).json()
    assert status["ready"] and status["download_url"]
    download = client.get(status["download_url"])
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    body = b"".join(download.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf") and "甲队".encode() in body
    # asking again returns the same file; nothing is rebuilt
    again = client.post(reverse("reports:export-create", args=[run.pk, gap_org["A"].pk, "csv"]))
    assert again.url == response.url and GapReportExport.objects.count() == 1


def test_exports_of_a_unit_stream_members_without_loading_them_all(run, gap_org):
    rows = reports.member_values(run, gap_org["P"])
    assert iter(rows) is rows  # a generator over a server-side cursor, not a list
