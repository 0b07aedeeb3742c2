"""Model files in: a Moodle framework CSV (tool_lpimportcsv) mapped onto domains → categories, the
browser's upload → preview → confirm for Moodle, JSON and Excel, the import_model command, and
malformed files rejected with the row and the reason."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from competency.exchange import export_version, validate_model_data
from competency.imports import preview_model_file
from competency.models import ModelImport, ModelVersion
from competency.moodle import strip_html
from competency.services import publish_version
from competency.workbook import workbook_from_data

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "moodle_framework.csv"
HEADER = (
    '"Parent ID number","ID number","Short name","Description","Description format",'
    '"Scale values","Scale configuration","Rule type (optional)","Rule outcome (optional)",'
    '"Rule config (optional)","Cross-referenced competency ID numbers","Exported ID (optional)",'
    '"Is framework","Taxonomy"'
)
SCALE = '"A,B,C,D,E","[{""scaleid"":""1""},{""id"":3,""scaledefault"":1,""proficient"":1}]"'


def moodle_csv(*rows: str, framework: str | None = None) -> bytes:
    if framework is None:
        framework = f',FW,Framework,<p>About</p>,1,{SCALE},,,,,,1,"domain,competency"'
    return "\n".join([HEADER, *([framework] if framework else []), *rows]).encode("utf-8")


def competency(parent: str, idnumber: str, name: str, description: str = "") -> str:
    return f'{parent},{idnumber},"{name}","{description}",1,,,,0,null,,,,'


TWO_TIERS = [
    competency("", "D1", "Domain one"),
    competency("D1", "C1", "Category one", "<p>First</p>"),
    competency("", "D2", "Domain two"),
    competency("D2", "C2", "Category two", "Second"),
]


def preview(content: bytes):
    return preview_model_file(content=content, file_format="moodle-csv")


def errors(content: bytes) -> list[tuple]:
    return [(e["row"], e["message"]) for e in preview(content).errors]


# --- the example file end to end --------------------------------------------------------------------


def test_the_example_maps_two_tiers_in_file_order(model_version):
    result = preview(EXAMPLE.read_bytes())
    assert result.ok, result.errors
    tree = [
        (d["code"], d["idnumber"], [(c["code"], c["name"]) for c in d["categories"]])
        for d in result.tree()
    ]
    assert tree == [
        ("1", "MKT", [("1.1", "客户与行业研究"), ("1.2", "方案销售"), ("1.3", "商务谈判")]),
        ("2", "DLV", [("2.1", "项目管理"), ("2.2", "客户服务")]),
    ]
    assert [(s["level"], s["name"], s["proficient"]) for s in result.levels()] == [
        (1, "入门", False),
        (2, "基础", False),
        (3, "胜任", True),
        (4, "熟练", True),
        (5, "专家", True),
    ]
    assert result.moodle.taxonomies == ["domain", "competency"]
    warnings = " ".join(w["message"] for w in result.warnings)
    assert "同时填入中文和英文" in warnings and "版本 v1" in warnings and "默认为 1 级" in warnings


def test_import_model_command_creates_a_complete_draft_from_the_example(model_version, capsys):
    out = io.StringIO()
    call_command("import_model", str(EXAMPLE), "--format", "moodle-csv", stdout=out)
    assert "Created draft version 2" in out.getvalue()
    draft = ModelVersion.objects.get(number=2)
    assert draft.is_draft and draft.based_on is None
    data = export_version(draft)
    assert validate_model_data(data) == []
    assert data["version"]["name"] == {
        "zh-hans": "客户经理销售能力框架",
        "en": "客户经理销售能力框架",
    }
    assert [d["name"]["zh-hans"] for d in data["domains"]] == ["市场营销", "项目交付"]
    assert data["domains"][0]["motto"]["zh-hans"] == "发现并经营客户需求的营销能力"
    first = data["domains"][0]["categories"][0]
    assert first["description"]["en"] == "收集、分析客户及其所在行业的信息，\n写出客户视角的 SWOT。"
    assert first["levels"]["3"] == {"zh-hans": "胜任", "en": "胜任"}
    assert [lv["name"]["zh-hans"] for lv in data["levels"]] == [
        "入门",
        "基础",
        "胜任",
        "熟练",
        "专家",
    ]
    source = export_version(model_version)
    assert data["industries"] == source["industries"]
    assert data["depth_levels"] == source["depth_levels"]
    assert [g["code"] for g in data["grades"]] == ["G1", "G2", "G3", "G4", "G5"]
    assert all(set(g["targets"].values()) == {1} and g["breadth"] is None for g in data["grades"])
    assert data["classification"]["breadth_count"] == 5
    event = draft.events.get()
    assert event.details["source"] == "moodle-csv" and event.details["reference"] == 1
    assert "warning:" in capsys.readouterr().err
    publish_version(version=draft, by=None)  # complete: it can be published as it is


def test_a_csv_extension_means_moodle_by_default(model_version):
    call_command("import_model", str(EXAMPLE), stdout=io.StringIO(), stderr=io.StringIO())
    assert ModelVersion.objects.filter(number=2, status="draft").exists()


def test_without_a_published_version_the_default_model_supplies_the_rest(db):
    result = preview(EXAMPLE.read_bytes())
    assert result.ok and result.reference_number is None
    assert [g["code"] for g in result.document["grades"]] == ["G1", "G2", "G3", "G4", "G5"]


# --- malformed files -------------------------------------------------------------------------------


def test_a_third_tier_cannot_map(model_version):
    content = moodle_csv(*TWO_TIERS, competency("C1", "X1", "Too deep"))
    assert errors(content) == [
        (
            7,
            "“Too deep”位于第 3 层，无法映射：T-Shape 只有两层（第 1 层为能力领域，第 2 层为能力类别）。",
        )
    ]


def test_a_scale_of_other_than_five_values_cannot_map(model_version):
    framework = ',FW,Framework,,1,"Not yet competent,Competent",,,,,,,1,'
    ((row, message),) = errors(moodle_csv(*TWO_TIERS, framework=framework))
    assert row == 2
    assert "有 2 个值（Not yet competent,Competent）" in message and "恰好 5 个值" in message


def test_the_framework_row_is_required(model_version):
    assert errors(moodle_csv(*TWO_TIERS, framework="")) == [
        (None, "缺少能力框架行（Is framework = 1）：它带有框架名称和等级量表。")
    ]


def test_an_unknown_parent_is_reported_on_its_row(model_version):
    content = moodle_csv(*TWO_TIERS, competency("NOPE", "C3", "Orphan"))
    assert errors(content) == [
        (7, "未知的上级 ID number“NOPE”（顶层能力的 Parent ID number 留空）。")
    ]


def test_a_duplicate_id_number_is_reported_with_both_rows(model_version):
    content = moodle_csv(*TWO_TIERS, competency("D1", "C1", "Again"))
    assert errors(content) == [(7, "ID number“C1”重复（第 4 行已使用）。")]


def test_a_domain_without_categories_and_a_parent_loop(model_version):
    content = moodle_csv(
        *TWO_TIERS,
        competency("", "D3", "Empty domain"),
        competency("L2", "L1", "Loop one"),
        competency("L1", "L2", "Loop two"),
    )
    assert errors(content) == [
        (9, "上级关系形成了循环：L1 → L2 → L1"),  # the row that closes the loop
        (7, "能力领域“Empty domain”下没有第 2 层能力（类别），无法映射。"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件是空的。"),
        (
            b"PK\x03\x04\x14\x00\x00\x00binary",
            "这不是 CSV 文本文件（含有二进制内容）；请在 Moodle 中导出 CSV。",
        ),
        (
            "名称,编码\n".encode("utf-16"),
            "这不是 CSV 文本文件（含有二进制内容）；请在 Moodle 中导出 CSV。",
        ),
        (b"Parent ID number,ID number\n\xff\x80", "无法识别文件编码；请保存为 UTF-8 编码的 CSV。"),
    ],
)
def test_files_that_are_not_csv_text_are_rejected(model_version, content, message):
    assert errors(content) == [(None, message)]


def test_a_csv_of_something_else_names_the_missing_columns(model_version):
    ((row, message),) = errors(b"code,name\n1,x\n")
    assert (
        row == 1 and "parent, idnumber, shortname, description, scalevalues, isframework" in message
    )


def test_broken_quoting_is_reported_with_its_line(model_version):
    content = moodle_csv(*TWO_TIERS) + b'\n,D9,"unclosed\n'
    ((row, message),) = errors(content)
    assert "不是有效的 CSV 文件" in message and row is not None


def test_the_command_creates_nothing_on_error(model_version, tmp_path):
    path = tmp_path / "deep.csv"
    path.write_bytes(moodle_csv(*TWO_TIERS, competency("C1", "X1", "Too deep")))
    with pytest.raises(CommandError) as error:
        call_command("import_model", str(path), stderr=io.StringIO())
    assert "row 7: “Too deep”位于第 3 层" in str(error.value)
    assert ModelVersion.objects.count() == 1


def test_older_moodle_headers_semicolons_and_ignored_features(model_version):
    header = next(csv.reader([HEADER]))
    header[2], header[10] = "Shortname", "Cross referenced competency id numbers"
    config = '[{"scaleid":"1"}]'
    rule = "core_competency\\competency_rule_all"
    rows = [
        header,
        ["", "FW", "Framework", "", "1", "A,B,C,D,E", config, "", "", "", "", "", "1", ""],
        ["", "D1", "Domain", "", "1", "", "", "", "0", "null", "", "", "", ""],
        ["D1", "C1", "Cat", "<p>x &amp; y</p>", "1", "", "", rule, "1", "null", "C2", "", "", ""],
        ["D1", "C2", "Cat two", "y", "1", "", "", "", "0", "null", "", "", "", ""],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    result = preview(buffer.getvalue().encode("utf-8"))
    assert result.ok, result.errors
    assert result.document["domains"][0]["categories"][0]["description"]["en"] == "x & y"
    warnings = [w["message"] for w in result.warnings]
    assert any("完成规则" in w for w in warnings) and any("交叉引用" in w for w in warnings)


def test_html_is_stripped_from_descriptions():
    html = (
        "<p>One&nbsp;<strong>two</strong><br>three</p><ul><li>four</li><li>five &lt;6&gt;</li></ul>"
    )
    assert strip_html(html) == "One two\nthree\nfour\nfive <6>"


# --- the browser ----------------------------------------------------------------------------------


def upload(client, name: str, content: bytes, file_format: str = ""):
    return client.post(
        reverse("competency:import-upload"),
        {"file": SimpleUploadedFile(name, content), "file_format": file_format},
    )


def test_browser_upload_preview_confirm_for_moodle(client, admin_user, model_version):
    client.force_login(admin_user)
    response = upload(client, "framework.csv", EXAMPLE.read_bytes())
    record = ModelImport.objects.get()
    assert response["Location"] == reverse("competency:import-detail", args=[record.pk])
    assert (record.status, record.file_format, record.uploaded_by) == (
        "checked",
        "moodle-csv",
        admin_user,
    )
    assert ModelVersion.objects.count() == 1  # nothing before confirming
    html = client.get(response["Location"]).content.decode()
    assert "MKT-SOLUTION" in html and "方案销售" in html and "量表 → 熟练等级" in html
    assert "发布前请审阅并翻译" in html and 'id="confirm-import"' in html
    response = client.post(reverse("competency:import-detail", args=[record.pk]))
    draft = ModelVersion.objects.get(number=2)
    assert response["Location"] == reverse("competency:version-edit", args=[2])
    record.refresh_from_db()
    assert (record.status, record.version) == ("applied", draft)
    client.post(reverse("competency:import-detail", args=[record.pk]))
    assert ModelVersion.objects.count() == 2  # a second confirmation creates nothing


def test_browser_shows_moodle_errors_with_rows_and_offers_no_confirmation(
    client, admin_user, model_version
):
    client.force_login(admin_user)
    upload(client, "deep.csv", moodle_csv(*TWO_TIERS, competency("C1", "X1", "Too deep")))
    record = ModelImport.objects.get()
    assert record.status == "failed"
    html = client.get(reverse("competency:import-detail", args=[record.pk])).content.decode()
    assert "<td>7</td>" in html and "无法映射" in html and 'id="confirm-import"' not in html
    client.post(reverse("competency:import-detail", args=[record.pk]))
    assert ModelVersion.objects.count() == 1


def test_browser_json_and_excel_uploads(client, admin_user, model_version):
    client.force_login(admin_user)
    data = export_version(model_version)
    upload(client, "model.json", json.dumps(data).encode())
    upload(client, "model.xlsx", workbook_from_data(data))
    json_record, xlsx_record = ModelImport.objects.order_by("pk")
    assert (json_record.file_format, xlsx_record.file_format) == ("json", "xlsx")
    for record in (json_record, xlsx_record):
        assert record.status == "checked"
        client.post(reverse("competency:import-detail", args=[record.pk]))
    assert export_version(ModelVersion.objects.get(number=2)) == data
    assert export_version(ModelVersion.objects.get(number=3)) == data


def test_browser_lists_json_validation_errors_with_their_location(
    client, admin_user, model_version
):
    client.force_login(admin_user)
    data = export_version(model_version)
    data["grades"][1]["targets"].pop("2.2")
    data["domains"][0]["categories"][0]["levels"]["2"]["en"] = ""
    upload(client, "bad.json", json.dumps(data).encode())
    record = ModelImport.objects.get()
    preview_ = client.get(reverse("competency:import-detail", args=[record.pk])).context["preview"]
    where = {e["where"] for e in preview_.errors}
    assert where == {"grades[1].targets", "domains[0].categories[0].levels.2.en"}
    upload(client, "broken.xlsx", b"not a workbook")
    upload(client, "broken.json", b"{ nope")
    assert set(ModelImport.objects.values_list("status", flat=True)) == {"failed"}
    assert ModelVersion.objects.count() == 1


def test_the_upload_form_checks_the_file(client, admin_user, model_version):
    client.force_login(admin_user)
    html = upload(client, "model.txt", b"x").content.decode()
    assert "只能上传 .json、.xlsx 或 .csv 文件。" in html
    response = upload(client, "export.txt", EXAMPLE.read_bytes(), file_format="moodle-csv")
    assert response.status_code == 302 and ModelImport.objects.get().status == "checked"


def test_import_model_takes_a_format_for_any_file_name(model_version, tmp_path):
    path = tmp_path / "model.bin"
    call_command("export_model", "--format", "xlsx", "--output", str(path), stderr=io.StringIO())
    call_command("import_model", str(path), "--format", "xlsx", stdout=io.StringIO())
    assert export_version(ModelVersion.objects.get(number=2)) == export_version(model_version)
