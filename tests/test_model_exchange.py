"""The model exchange formats: JSON and Excel round trips, the commands, and bad files."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError

from competency.exchange import ModelDataError, export_version, import_model_data
from competency.models import ModelVersion
from competency.services import DEFAULT_MODEL_FILE
from competency.workbook import data_from_workbook, workbook_from_data

pytestmark = pytest.mark.django_db


def test_export_of_the_default_model_is_the_shipped_file(model_version):
    shipped = json.loads(DEFAULT_MODEL_FILE.read_text(encoding="utf-8"))
    assert export_version(model_version) == shipped
    assert set(shipped) >= {"version", "levels", "domains", "industries", "grades"}
    category = shipped["domains"][0]["categories"][0]
    assert set(category) == {"code", "name", "description", "levels"}
    assert set(category["name"]) == {"zh-hans", "en"}


def test_export_import_export_gives_identical_json(model_version):
    first = export_version(model_version)
    draft = import_model_data(json.loads(json.dumps(first)))
    assert draft.is_draft and draft.number == 2
    assert export_version(draft) == first


def test_excel_round_trip_is_exact(model_version):
    data = export_version(model_version)
    again = data_from_workbook(io.BytesIO(workbook_from_data(data)))
    assert again == data


def test_export_takes_a_fixed_number_of_queries(model_version, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        export_version(model_version)


def test_commands_round_trip_through_files(model_version, tmp_path):
    json_path, xlsx_path = tmp_path / "m.json", tmp_path / "m.xlsx"
    call_command("export_model", "--version", "1", "--output", str(json_path))
    call_command("export_model", "--format", "xlsx", "--output", str(xlsx_path))
    out = io.StringIO()
    call_command("import_model", str(json_path), stdout=out)
    assert "draft version 2" in out.getvalue()
    call_command("import_model", str(xlsx_path), stdout=io.StringIO())
    assert ModelVersion.objects.count() == 3
    stdout = io.StringIO()
    call_command("export_model", "--version", "3", stdout=stdout)
    assert json.loads(stdout.getvalue()) == json.loads(json_path.read_text(encoding="utf-8"))


def test_invalid_document_creates_nothing_and_says_where(model_version, tmp_path):
    data = export_version(model_version)
    data["domains"][1]["categories"][0]["code"] = "1.1"  # duplicate code
    data["domains"][0]["categories"][2]["levels"].pop("4")
    data["grades"][0]["targets"]["1.1"] = 7
    data["industries"][0]["name"]["en"] = ""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("import_model", str(path))
    message = str(error.value)
    assert "domains[1].categories[0].code" in message
    assert "domains[0].categories[2].levels" in message
    assert "grades[0].targets.1.1" in message
    assert "industries[0].name.en" in message
    assert ModelVersion.objects.count() == 1


def test_unreadable_files_are_rejected_cleanly(model_version, tmp_path):
    not_json = tmp_path / "broken.json"
    not_json.write_text("{ nope", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid UTF-8 JSON"):
        call_command("import_model", str(not_json))
    with pytest.raises(ModelDataError):
        data_from_workbook(io.BytesIO(b"not a workbook"))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_model", str(tmp_path / "missing.json"))
    assert ModelVersion.objects.count() == 1


def test_a_failure_midway_rolls_back_the_whole_import(model_version):
    data = export_version(model_version)
    # Valid for the checker, but PostgreSQL refuses the last grade's over-long name after
    # everything before it was written: the whole version must vanish.
    data["grades"][-1]["name"]["zh-hans"] = "长" * 300
    with pytest.raises(DataError):
        import_model_data(data)
    assert ModelVersion.objects.count() == 1
