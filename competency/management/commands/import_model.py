import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from competency.exchange import FILE_FORMATS, ModelDataError, format_for
from competency.imports import preview_model_file
from competency.services import import_file_preview

FORMATS = sorted(set(FILE_FORMATS.values()))


class Command(BaseCommand):
    help = (
        "Validate a model file (tshape-model/1 .json, the .xlsx workbook, or a Moodle competency "
        "framework .csv) and create a new draft version from it; nothing on error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--format",
            dest="file_format",
            choices=FORMATS,
            help="json | xlsx | moodle-csv (default: by the file's extension)",
        )
        parser.add_argument("--note", default="")

    def handle(self, *args, file, note="", file_format=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        file_format = file_format or format_for(path.name) or "json"
        content = path.read_bytes()
        if file_format == "json":
            _check_json(path, content)
        preview = preview_model_file(content=content, file_format=file_format)
        for warning in preview.warnings:
            self.stderr.write(f"warning: {_located(warning)}")
        if not preview.ok:
            lines = "\n".join(_located(e) for e in preview.errors)
            raise CommandError(f"The model file is not valid:\n{lines}")
        try:
            version = import_file_preview(
                preview, file_name=path.name, note=note or f"import {path.name}"
            )
        except ModelDataError as exc:
            raise CommandError("The model file is not valid:\n" + "\n".join(exc.errors)) from exc
        self.stdout.write(
            f"Created draft version {version.number} ({version.name_zh} / {version.name_en})."
        )


def _check_json(path: Path, content: bytes):
    try:
        json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path.name}: not valid UTF-8 JSON ({exc})") from exc


def _located(problem: dict) -> str:
    where = f"row {problem['row']}" if problem.get("row") else problem.get("where") or ""
    return f"{where}: {problem['message']}" if where else problem["message"]
