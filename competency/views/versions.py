"""Version pages: read by everyone signed in; new drafts, publishing and retiring for admins."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.audit import record_download
from accounts.permissions import Capability, capability_required, has_capability

from .. import services
from ..diff import display_rows
from ..exchange import ModelDataError, export_version, validate_model_data
from ..models import ModelVersion, ModelVersionEvent
from ..publication import publish_impact, retire_impact, version_changes
from ..selectors import model_overview
from ..workbook import workbook_from_data


def _visible_versions(user):
    """Admins see drafts too; everyone else sees what has been published."""
    versions = ModelVersion.objects.all()
    if not has_capability(user, Capability.EDIT_MODEL):
        versions = versions.exclude(status=ModelVersion.Status.DRAFT)
    return versions


@login_required
def version_list(request):
    return render(
        request,
        "competency/version_list.html",
        {
            "versions": _visible_versions(request.user),
            "can_edit": has_capability(request.user, Capability.EDIT_MODEL),
        },
    )


@login_required
def version_detail(request, number):
    version = get_object_or_404(_visible_versions(request.user), number=number)
    can_edit = has_capability(request.user, Capability.EDIT_MODEL)
    events = list(version.events.select_related("actor"))
    published = next((e for e in events if e.action == ModelVersionEvent.Action.PUBLISHED), None)
    changes = (published.details or {}).get("diff") if published else None
    return render(
        request,
        "competency/version_detail.html",
        {
            "version": version,
            "overview": model_overview(version),
            "events": events,
            "can_edit": can_edit,
            "changes": display_rows(changes, get_language()) if changes else [],
            "compared_with": (published.details or {}).get("compared_with") if published else None,
            "retire_cycles": retire_impact(version)
            if can_edit and version.status == ModelVersion.Status.PUBLISHED
            else [],
        },
    )


@login_required
def version_export(request, number, fmt):
    version = get_object_or_404(_visible_versions(request.user), number=number)
    data = export_version(version)
    if fmt == "xlsx":
        response = HttpResponse(
            workbook_from_data(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
        )
    response["Content-Disposition"] = f'attachment; filename="tshape-model-v{number}.{fmt}"'
    record_download(request, target=version, summary=f"tshape-model-v{number}.{fmt}")
    return response


@require_POST
@capability_required(Capability.EDIT_MODEL)
def version_new_draft(request, number):
    source = get_object_or_404(ModelVersion, number=number)
    draft = services.create_draft_from(source=source, by=request.user)
    messages.success(
        request, _("已基于版本 %(n)s 创建草稿版本 %(d)s。") % {"n": number, "d": draft.number}
    )
    return redirect("competency:version-edit", number=draft.number)


@capability_required(Capability.EDIT_MODEL)
def version_publish(request, number):
    """GET: what publishing changes (diff, problems, affected cycles); POST: publish."""
    version = get_object_or_404(ModelVersion, number=number)
    if request.method != "POST":
        if not version.is_draft:
            messages.error(request, _("只有草稿版本可以发布。"))
            return redirect("competency:version-detail", number=number)
        return render(request, "competency/version_publish.html", _publish_context(version))
    try:
        services.publish_version(
            version=version, by=request.user, note=request.POST.get("note", "")[:2000]
        )
    except (ModelDataError, services.VersionStateError) as exc:
        for error in getattr(exc, "errors", [str(exc)]):
            messages.error(request, error)
        if version.is_draft:
            return redirect("competency:version-publish", number=number)
    else:
        messages.success(request, _("版本 %(n)s 已发布。") % {"n": number})
    return redirect("competency:version-detail", number=number)


def _publish_context(version: ModelVersion) -> dict:
    document = export_version(version)
    base, changes = version_changes(version, document=document)
    return {
        "version": version,
        "base": base,
        "problems": validate_model_data(document),
        "changes": display_rows(changes, get_language()),
        "impact": publish_impact(version),
    }


@require_POST
@capability_required(Capability.EDIT_MODEL)
def version_retire(request, number):
    version = get_object_or_404(ModelVersion, number=number)
    try:
        services.retire_version(version=version, by=request.user, note=request.POST.get("note", ""))
    except services.VersionStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("版本 %(n)s 已停用。") % {"n": number})
    return redirect("competency:version-detail", number=number)
