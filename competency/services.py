"""Workflows on model versions: copy to a new draft, publish, retire, install the default."""

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .exchange import ModelDataError, export_version, import_model_data
from .models import ModelVersion, ModelVersionEvent

DEFAULT_MODEL_FILE = Path(__file__).resolve().parent / "data" / "default_model.json"


class VersionStateError(Exception):
    """A version workflow step that the version's state forbids."""


def create_draft_from(*, source: ModelVersion, by) -> ModelVersion:
    """A new draft with everything ``source`` owns, for editing (the source never changes)."""
    return import_model_data(
        export_version(source),
        by=by,
        based_on=source,
        note=_("基于版本 %(n)s 创建") % {"n": source.number},
    )


def publish_version(*, version: ModelVersion, by, note: str = "") -> ModelVersion:
    """Publish a complete draft: from now on it is immutable and open to new cycles."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if not version.is_draft:
            raise VersionStateError(_("只有草稿版本可以发布。"))
        errors = version.completeness_errors()
        if errors:
            raise ModelDataError(errors)
        version.status = ModelVersion.Status.PUBLISHED
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_at"])
        ModelVersionEvent.objects.create(
            version=version, action=ModelVersionEvent.Action.PUBLISHED, actor=by, note=note
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
