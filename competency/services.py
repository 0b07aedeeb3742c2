"""Workflows on model versions: copy to a new draft, edit a draft, publish, retire, import files.

Every edit runs under ``_editing``: the version row is locked and must still be a draft, so an
edit and a concurrent publish never interleave (``publish_version`` takes the same lock).
"""

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .exchange import (
    DEFAULT_MODEL_FILE,
    ModelDataError,
    export_version,
    import_model_data,
    validate_model_data,
)
from .imports import FilePreview, preview_model_file
from .models import (
    LEVEL_VALUES,
    Category,
    DepthLevel,
    Domain,
    Grade,
    GradeTarget,
    Industry,
    LevelDescription,
    ModelImport,
    ModelVersion,
    ModelVersionEvent,
    ProficiencyLevel,
    PublishedVersionImmutable,
)
from .moodle import DEFAULT_TARGET_LEVEL

__all__ = ["DEFAULT_MODEL_FILE"]

VERSION_SETTINGS = (
    "name_zh",
    "name_en",
    "breadth_level",
    "breadth_count",
    "breadth_floor",
    "depth_level",
    "pi_industries",
)
GRADE_PROFILE_FIELDS = (
    "required_depth",
    "depth_industries",
    "breadth_count",
    "breadth_level",
    "validity_months",
)


class VersionStateError(Exception):
    """A version workflow step that the version's state forbids."""


class ModelEditError(Exception):
    """An edit that would leave the draft broken in a way a form cannot see (e.g. a full domain)."""


class ImportRefused(Exception):
    """A model file that cannot (or can no longer) become a draft."""


# --- versions ------------------------------------------------------------------------------------


def create_draft_from(*, source: ModelVersion, by) -> ModelVersion:
    """A new draft with everything ``source`` owns, for editing (the source never changes)."""
    return import_model_data(
        export_version(source),
        by=by,
        based_on=source,
        note=_("基于版本 %(n)s 创建") % {"n": source.number},
    )


def publish_version(*, version: ModelVersion, by, note: str = "") -> ModelVersion:
    """Publish a complete draft: from now on it is immutable and open to new cycles.

    The event keeps what changed against the version it came from (``details["diff"]``).
    """
    from .publication import version_changes

    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if not version.is_draft:
            raise VersionStateError(_("只有草稿版本可以发布。"))
        document = export_version(version)
        errors = validate_model_data(document)
        if errors:
            raise ModelDataError(errors)
        base, changes = version_changes(version, document=document)
        version.status = ModelVersion.Status.PUBLISHED
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_at"])
        ModelVersionEvent.objects.create(
            version=version,
            action=ModelVersionEvent.Action.PUBLISHED,
            actor=by,
            note=note,
            details={"compared_with": base.number if base else None, "diff": changes},
        )
    return version


def retire_version(*, version: ModelVersion, by, note: str = "") -> ModelVersion:
    """Hide a published version from new cycles; cycles that use it keep it."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != ModelVersion.Status.PUBLISHED:
            raise VersionStateError(_("只有已发布的版本可以停用。"))
        version.status = ModelVersion.Status.RETIRED
        version.save(update_fields=["status"])
        ModelVersionEvent.objects.create(
            version=version, action=ModelVersionEvent.Action.RETIRED, actor=by, note=note
        )
    return version


def install_default_model() -> ModelVersion | None:
    """Install and publish the default model as the first version; nothing when any version exists."""
    with transaction.atomic():
        if ModelVersion.objects.exists():
            return None
        data = json.loads(DEFAULT_MODEL_FILE.read_text(encoding="utf-8"))
        version = import_model_data(data, note=_("默认模型"))
        return publish_version(version=version, by=None, note=_("安装默认模型"))


# --- editing a draft -----------------------------------------------------------------------------


@contextmanager
def _editing(version: ModelVersion) -> Iterator[ModelVersion]:
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if not locked.is_draft:
            raise PublishedVersionImmutable()
        yield locked


def update_version_settings(*, version: ModelVersion, values: dict) -> ModelVersion:
    """Rename a draft or change its classification thresholds (only those fields)."""
    changed = {k: v for k, v in values.items() if k in VERSION_SETTINGS}
    with _editing(version) as draft:
        for name, value in changed.items():
            setattr(draft, name, value)
        draft.save(update_fields=list(changed))
    return draft


def _renumbered(rows: list[dict], group=None) -> list[dict]:
    """Rows sorted by the order the admin typed (ties keep the page order, no number goes last),
    numbered 1…n per group."""

    def position(pair):
        order = pair[1].get("order")
        return (float("inf") if order is None else order, pair[0])

    ranked = sorted(enumerate(rows), key=position)
    counters: dict = {}
    result = []
    for _index, row in ranked:
        key = group(row) if group else None
        counters[key] = counters.get(key, 0) + 1
        result.append({**row, "order": counters[key]})
    return result


def _save_rows(model, version, rows: list[dict], fields: Iterable[str], *, group=None):
    """Apply one list page: delete ticked rows, update the others, create new ones.

    A row is ``{"pk": id or None, "delete": bool, "order": n, <fields>}``. Codes may be swapped
    between rows: changed codes pass through a temporary value, because the unique constraint
    is checked row by row. Returns the created objects.
    """
    fields = [*fields, "order"]
    existing = {obj.pk: obj for obj in model.objects.filter(version=version)}
    unknown = [r["pk"] for r in rows if r.get("pk") and r["pk"] not in existing]
    if unknown:
        raise ModelEditError(_("要修改的条目不属于此草稿版本。"))
    doomed = [r["pk"] for r in rows if r.get("pk") and r.get("delete")]
    if doomed:
        model.objects.filter(version=version, pk__in=doomed).delete()
    kept = _renumbered([r for r in rows if not r.get("delete")], group)
    updated = [r for r in kept if r.get("pk")]
    recoded = [existing[r["pk"]] for r in updated if r["code"] != existing[r["pk"]].code]
    for obj in recoded:
        obj.code = f"~{obj.pk}"
    if recoded:
        model.objects.bulk_update(recoded, ["code"])
    for row in updated:
        obj = existing[row["pk"]]
        for name in fields:
            setattr(obj, name, row[name])
    if updated:
        model.objects.bulk_update([existing[r["pk"]] for r in updated], fields)
    return [
        model.objects.create(version=version, **{name: row[name] for name in fields})
        for row in kept
        if not row.get("pk")
    ]


def save_domains(*, version: ModelVersion, rows: list[dict]):
    """Add, rename, re-motto, reorder and remove domains; a domain with categories stays."""
    with _editing(version) as draft:
        doomed = [r["pk"] for r in rows if r.get("pk") and r.get("delete")]
        if Category.objects.filter(version=draft, domain__in=doomed).exists():
            raise ModelEditError(_("能力领域下还有能力类别：请先移走或删除这些类别。"))
        _save_rows(Domain, draft, rows, ("code", "name_zh", "name_en", "motto_zh", "motto_en"))


def save_categories(*, version: ModelVersion, rows: list[dict]):
    """Rename, recode, move between domains, reorder and remove categories (with their texts
    and targets)."""
    with _editing(version) as draft:
        domains = set(Domain.objects.filter(version=draft).values_list("pk", flat=True))
        if any(r["domain"].pk not in domains for r in rows if not r.get("delete")):
            raise ModelEditError(_("能力领域必须属于同一模型版本。"))
        _save_rows(
            Category,
            draft,
            rows,
            ("code", "domain", "name_zh", "name_en"),
            group=lambda r: r["domain"].pk,
        )


def add_category(*, version: ModelVersion, values: dict, levels: dict) -> Category:
    """A new category with its five level descriptions; every grade requires the default level."""
    with _editing(version) as draft:
        domain = values["domain"]
        if domain.version_id != draft.pk:
            raise ModelEditError(_("能力领域必须属于同一模型版本。"))
        last = Category.objects.filter(domain=domain).aggregate(n=Max("order"))["n"] or 0
        category = Category.objects.create(version=draft, order=last + 1, **values)
        LevelDescription.objects.bulk_create(
            LevelDescription(version=draft, category=category, level=level, **levels[level])
            for level in LEVEL_VALUES
        )
        GradeTarget.objects.bulk_create(
            GradeTarget(
                version=draft, grade=grade, category=category, min_level=DEFAULT_TARGET_LEVEL
            )
            for grade in Grade.objects.filter(version=draft)
        )
    return category


def update_category(*, category: Category, values: dict, levels: dict) -> Category:
    """Change a category's names, description and its five level descriptions (both languages)."""
    with _editing(category.version) as draft:
        category = Category.objects.select_for_update().get(pk=category.pk, version=draft)
        for name, value in values.items():
            setattr(category, name, value)
        category.save(update_fields=list(values))
        stored = {d.level: d for d in category.level_descriptions.all()}
        for level in LEVEL_VALUES:
            texts = levels[level]
            description = stored.get(level)
            if description is None:
                LevelDescription(version=draft, category=category, level=level, **texts).save()
            elif any(getattr(description, name) != text for name, text in texts.items()):
                for name, text in texts.items():
                    setattr(description, name, text)
                description.save(update_fields=list(texts))
    return category


def save_scales(*, version: ModelVersion, levels: dict, depth_levels: dict):
    """Rename the proficiency levels and rename / re-describe the depth levels (1–5 stay)."""
    with _editing(version) as draft:
        for model, values in ((ProficiencyLevel, levels), (DepthLevel, depth_levels)):
            objs = list(model.objects.filter(version=draft, value__in=values))
            for obj in objs:
                for name, value in values[obj.value].items():
                    setattr(obj, name, value)
            if objs:
                model.objects.bulk_update(objs, list(next(iter(values.values()))))


def save_industries(*, version: ModelVersion, rows: list[dict]):
    """Add, rename, reorder and remove the industries whose research depth is rated."""
    with _editing(version) as draft:
        _save_rows(Industry, draft, rows, ("code", "name_zh", "name_en"))


def save_grades(*, version: ModelVersion, rows: list[dict]):
    """Add, rename, reorder and remove grades; a new grade requires the default level everywhere."""
    with _editing(version) as draft:
        created = _save_rows(Grade, draft, rows, ("code", "name_zh", "name_en"))
        categories = list(Category.objects.filter(version=draft))
        GradeTarget.objects.bulk_create(
            GradeTarget(version=draft, grade=grade, category=c, min_level=DEFAULT_TARGET_LEVEL)
            for grade in created
            for c in categories
        )


def save_target_profiles(*, version: ModelVersion, targets: dict, profiles: dict):
    """Set the grade × category grid of minimum levels and each grade's depth, breadth, validity.

    ``targets`` maps (grade pk, category pk) → level; ``profiles`` maps grade pk → field values.
    """
    with _editing(version) as draft:
        grades = {g.pk: g for g in Grade.objects.filter(version=draft)}
        categories = set(Category.objects.filter(version=draft).values_list("pk", flat=True))
        stored = {(t.grade_id, t.category_id): t for t in GradeTarget.objects.filter(version=draft)}
        changed, created = [], []
        for (grade_pk, category_pk), level in targets.items():
            if grade_pk not in grades or category_pk not in categories:
                raise ModelEditError(_("要修改的条目不属于此草稿版本。"))
            target = stored.get((grade_pk, category_pk))
            if target is None:
                created.append(
                    GradeTarget(
                        version=draft, grade_id=grade_pk, category_id=category_pk, min_level=level
                    )
                )
            elif target.min_level != level:
                target.min_level = level
                changed.append(target)
        GradeTarget.objects.bulk_update(changed, ["min_level"])
        GradeTarget.objects.bulk_create(created)
        for grade_pk, values in profiles.items():
            for name in GRADE_PROFILE_FIELDS:
                setattr(grades[grade_pk], name, values[name])
        if profiles:
            Grade.objects.bulk_update([grades[pk] for pk in profiles], list(GRADE_PROFILE_FIELDS))


# --- importing files -----------------------------------------------------------------------------


def upload_model_file(*, content: bytes, file_name: str, file_format: str, by) -> ModelImport:
    """Keep an uploaded model file with its check result; nothing else changes until confirmed."""
    preview = preview_model_file(content=content, file_format=file_format)
    return ModelImport.objects.create(
        file_name=file_name[-255:],
        file_format=file_format,
        content=content,
        status=ModelImport.Status.CHECKED if preview.ok else ModelImport.Status.FAILED,
        preview={"reference_number": preview.reference_number},
        uploaded_by=by,
    )


def preview_upload(record: ModelImport) -> FilePreview:
    """The preview of a stored upload, read again (Moodle: against the same reference version)."""
    return preview_model_file(
        content=bytes(record.content),
        file_format=record.file_format,
        reference_number=record.preview.get("reference_number"),
    )


def confirm_model_import(*, record: ModelImport, by) -> ModelVersion:
    """Create the draft an upload previewed, at most once; all or nothing."""
    with transaction.atomic():
        claimed = ModelImport.objects.filter(
            pk=record.pk, status=ModelImport.Status.CHECKED
        ).update(status=ModelImport.Status.APPLIED, applied_at=timezone.now())
        if not claimed:
            raise ImportRefused(_("此文件已经导入过，或未通过校验。"))
        preview = preview_upload(record)
        if not preview.ok:
            raise ImportRefused(_("重新校验时发现错误，没有创建草稿。"))
        version = import_file_preview(preview, file_name=record.file_name, by=by)
        ModelImport.objects.filter(pk=record.pk).update(version=version)
    return version


def import_file_preview(
    preview: FilePreview, *, file_name: str, by=None, note: str = ""
) -> ModelVersion:
    """A new draft from a checked preview (the browser's confirmation and ``import_model``)."""
    if not preview.ok:
        raise ModelDataError([e["message"] for e in preview.errors])
    return import_model_data(
        preview.document,
        by=by,
        note=note or _("导入文件 %(name)s") % {"name": file_name},
        details={
            "source": preview.file_format,
            "file": file_name,
            "reference": preview.reference_number,
            "warnings": [w["message"] for w in preview.warnings],
        },
    )
