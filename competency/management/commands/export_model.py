import json
import sys

from django.core.management.base import BaseCommand, CommandError

from competency.exchange import export_version
from competency.models import ModelVersion
from competency.workbook import workbook_from_data


class Command(BaseCommand):
    help = (
        "Write a model version as JSON or Excel (default: the latest published version, to stdout)."
    )

    def add_arguments(self, parser):
        # Our --version means "model version N", replacing Django's "print Django's version".
        parser.conflict_handler = parser._optionals.conflict_handler = "resolve"
        parser.add_argument("--version", type=int, dest="number", help="model version number")
        parser.add_argument("--format", choices=["json", "xlsx"], default="json")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args, number=None, format="json", output=None, **options):
        if number is None:
            version = ModelVersion.objects.latest_published()
        else:
            version = ModelVersion.objects.filter(number=number).first()
        if version is None:
            raise CommandError(f"No model version {number or '(published)'} exists.")
        data = export_version(version)
        if format == "json":
            payload = (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        else:
            payload = workbook_from_data(data)
            if output is None and sys.stdout.isatty():
                raise CommandError(
                    "Refusing to write a binary workbook to a terminal; use --output."
                )
        if output:
            with open(output, "wb") as fh:
                fh.write(payload)
            self.stderr.write(f"Wrote version {version.number} to {output}")
        else:
            self._write_stdout(payload, binary=format == "xlsx")

    def _write_stdout(self, payload: bytes, *, binary: bool):
        stream = getattr(self.stdout, "_out", self.stdout)
        if hasattr(stream, "buffer"):
            stream.flush()
            stream.buffer.write(payload)
            stream.buffer.flush()
        elif binary:
            raise CommandError("Standard output cannot take a binary workbook; use --output.")
        else:
            self.stdout.write(payload.decode("utf-8"), ending="")
