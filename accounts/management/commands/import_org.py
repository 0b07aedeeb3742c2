"""``python manage.py import_org FILE [--dry-run]``: the organisation import from the command line."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.org_import import ImportReport, apply_org_import, check_org_file


class Command(BaseCommand):
    help = (
        "Import units and people from a .csv or .xlsx file "
        "(format: accounts/org_import/__init__.py); all or nothing. With --dry-run only check it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )

    def handle(self, *args, file, dry_run=False, **options):
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            message = _("无法读取文件 %(file)s：%(error)s") % {"file": file, "error": exc}
            raise CommandError(message) from exc
        if dry_run:
            report = check_org_file(content=content, file_name=path.name)
        else:
            report = apply_org_import(content=content, file_name=path.name, by=None)
        self._print(report, dry_run)

    def _print(self, report: ImportReport, dry_run: bool) -> None:
        for error in report.errors:
            self.stderr.write(error.as_line())
        if not report.ok:
            count = len(report.errors)
            raise CommandError(
                ngettext(
                    "%(count)d 处错误，没有导入任何数据。",
                    "%(count)d 处错误，没有导入任何数据。",
                    count,
                )
                % {"count": count}
            )
        for label, number in report.count_rows():
            self.stdout.write(f"{label}: {number}")
        done = _("试导入通过，没有写入任何数据。") if dry_run else _("导入完成。")
        self.stdout.write(self.style.SUCCESS(done))
