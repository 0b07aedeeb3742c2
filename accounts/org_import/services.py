"""The import's workflows: dry run, upload, confirm and apply (all or nothing)."""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from ..models import OrgImport
from .checking import Plan, error_order, plan_import
from .reading import parse_file
from .report import ImportReport, OrgImportRefused, Row
from .writing import write_plan

# The package's name, as before it was split, so logging filters on it keep matching.
logger = logging.getLogger(__package__)


def check_org_rows(units: list[Row], people: list[Row]) -> ImportReport:
    """What importing these rows would change, or every reason it cannot; writes nothing."""
    return plan_import(units, people, [])[0]


def check_org_file(*, content: bytes, file_name: str) -> ImportReport:
    """The dry run of a file: all its errors, or the counts of what importing it would change."""
    return _check(content, file_name)[0]


def _check(content: bytes, file_name: str) -> tuple[ImportReport, Plan | None]:
    units, people, errors = parse_file(file_name, content)
    if errors and not units and not people:
        return ImportReport(errors=sorted(errors, key=error_order)), None
    return plan_import(units, people, errors)


def _check_and_write(content: bytes, file_name: str, by) -> ImportReport:
    """Check again and, when nothing is wrong, write (the caller holds the transaction)."""
    report, plan = _check(content, file_name)
    if plan is not None:
        write_plan(plan)
        logger.info("Organisation file %s imported by %s: %s", file_name, by, report.counts)
    return report


def apply_org_import(*, content: bytes, file_name: str, by) -> ImportReport:
    """Re-check a file and write it in one transaction: all of it, or nothing on any error."""
    with transaction.atomic():
        report = _check_and_write(content, file_name, by)
        if report.ok:
            OrgImport.objects.create(
                file_name=file_name,
                content=content,
                status=OrgImport.Status.APPLIED,
                summary=report.as_dict(),
                uploaded_by=by,
                applied_by=by,
                applied_at=timezone.now(),
            )
    return report


def upload_org_file(*, content: bytes, file_name: str, by) -> OrgImport:
    """Keep an uploaded file with its dry-run report; nothing of the organisation changes."""
    report = check_org_file(content=content, file_name=file_name)
    return OrgImport.objects.create(
        file_name=file_name,
        content=content,
        status=OrgImport.Status.CHECKED if report.ok else OrgImport.Status.FAILED,
        summary=report.as_dict(),
        uploaded_by=by,
    )


def confirm_org_import(*, org_import: OrgImport, by) -> ImportReport:
    """Apply a checked upload at most once; a failed re-check writes nothing and marks it failed."""
    with transaction.atomic():
        record = OrgImport.objects.select_for_update().get(pk=org_import.pk)
        _refuse_unless_checked(record)
        report = _check_and_write(bytes(record.content), record.file_name, by)
        record.status = OrgImport.Status.APPLIED if report.ok else OrgImport.Status.FAILED
        record.summary = report.as_dict()
        record.applied_at = timezone.now() if report.ok else None
        record.applied_by = by if report.ok else None
        record.save(update_fields=["status", "summary", "applied_at", "applied_by"])
    return report


def _refuse_unless_checked(record: OrgImport) -> None:
    if record.status == OrgImport.Status.APPLIED:
        raise OrgImportRefused(gettext("该文件已经导入，不能重复导入。"))
    if record.status != OrgImport.Status.CHECKED:
        raise OrgImportRefused(gettext("该文件未通过校验，请修改后重新上传。"))
