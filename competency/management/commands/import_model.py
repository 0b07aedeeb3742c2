import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from competency.exchange import ModelDataError, data_from_workbook, import_model_data


class Command(BaseCommand):
    help = "Validate a model file (.json or .xlsx) and create a new draft version from it; nothing on error."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--note", default="")

    def handle(self, *args, file, note="", **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            data = _read(path)
            version = import_model_data(data, note=note or f"import {path.name}")
        except ModelDataError as exc:
            raise CommandError("The model file is not valid:\n" + "\n".join(exc.errors)) from exc
        self.stdout.write(
            f"Created draft version {version.number} ({version.name_zh} / {version.name_en})."
        )


def _read(path: Path):
    if path.suffix.lower() == ".xlsx":
        with path.open("rb") as fh:
            return data_from_workbook(fh)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelDataError([f"{path.name}: not valid UTF-8 JSON ({exc})"]) from exc
