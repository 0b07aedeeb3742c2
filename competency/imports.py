"""Uploaded model files read into a preview: what a confirmation would create, or why it cannot.

One shape for every format (``tshape-model/1`` JSON, the Excel workbook, a Moodle framework CSV),
so that the browser, the ``import_model`` command and the tests read the same thing. Reading is
side-effect free; creating the draft is ``services.confirm_model_import`` / ``import_model_file``.
"""

import json
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .exchange import (
    DEFAULT_MODEL_FILE,
    ModelDataError,
    export_version,
    read_document,
    validate_model_data,
)
from .models import ModelImport, ModelVersion
from .moodle import MoodlePreview, read_moodle_csv


@dataclass
class FilePreview:
    """A file's preview: the document it maps to (None on error), its problems, and its tree."""

    file_format: str
    document: dict | None = None
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    moodle: MoodlePreview | None = None
    reference_number: int | None = None

    @property
    def ok(self) -> bool:
        return self.document is not None and not self.errors

    def tree(self) -> list[dict]:
        """Domains → categories for display (Moodle rows and ID numbers when there are any)."""
        if self.moodle is not None:
            return self.moodle.domains
        if self.document is None:
            return []
        return [
            {
                "code": d["code"],
                "name": _label(d["name"]),
                "categories": [
                    {"code": c["code"], "name": _label(c["name"])} for c in d["categories"]
                ],
            }
            for d in self.document["domains"]
        ]

    def levels(self) -> list[dict]:
        if self.moodle is not None:
            return self.moodle.scale
        if self.document is None:
            return []
        return [
            {"level": lv["value"], "name": _label(lv["name"])} for lv in self.document["levels"]
        ]


def _label(texts: dict) -> str:
    zh, en = texts.get("zh-hans", ""), texts.get("en", "")
    return zh if zh == en else f"{zh} / {en}"


def _located(problem: str) -> dict:
    """A validator message "where: what" split for a table."""
    where, sep, message = problem.partition(": ")
    return (
        {"row": None, "where": where, "message": message}
        if sep
        else {
            "row": None,
            "where": "",
            "message": problem,
        }
    )


def reference_document(number: int | None = None) -> tuple[dict, int | None, str]:
    """Where a Moodle import takes what Moodle lacks: version ``number``, else the latest
    published version, else the shipped default model (published versions never change)."""
    version = (
        ModelVersion.objects.exclude(status=ModelVersion.Status.DRAFT).filter(number=number).first()
        if number
        else ModelVersion.objects.latest_published()
    )
    if version is not None:
        return export_version(version), version.number, _("版本 v%(n)s") % {"n": version.number}
    data = json.loads(DEFAULT_MODEL_FILE.read_text(encoding="utf-8"))
    return data, None, _("默认模型")


def preview_model_file(
    *, content: bytes, file_format: str, reference_number: int | None = None
) -> FilePreview:
    """Read a file of ``file_format`` (json | xlsx | moodle-csv) into its preview."""
    if file_format == ModelImport.Format.MOODLE_CSV:
        reference, number, label = reference_document(reference_number)
        moodle = read_moodle_csv(content, reference=reference, reference_label=label)
        return FilePreview(
            file_format=file_format,
            document=moodle.document,
            errors=[{**e, "where": ""} for e in moodle.errors],
            warnings=[{**w, "where": ""} for w in moodle.warnings],
            moodle=moodle,
            reference_number=number,
        )
    preview = FilePreview(file_format=file_format)
    try:
        document = read_document(content, file_format)
    except ModelDataError as exc:
        preview.errors = [_located(e) for e in exc.errors]
        return preview
    preview.errors = [_located(e) for e in validate_model_data(document)]
    if not preview.errors:
        preview.document = document
    return preview
