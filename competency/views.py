"""Pages of the competency model: read by everyone signed in; drafts and publishing for admins."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import Capability, capability_required, has_capability

from . import services
from .exchange import ModelDataError, export_version, workbook_from_data
from .models import ModelVersion
from .selectors import model_overview


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
    return render(
        request,
        "competency/version_detail.html",
        {
            "version": version,
            "overview": model_overview(version),
            "events": version.events.select_related("actor"),
            "can_edit": has_capability(request.user, Capability.EDIT_MODEL),
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
    return response


@require_POST
@capability_required(Capability.EDIT_MODEL)
def version_new_draft(request, number):
    source = get_object_or_404(ModelVersion, number=number)
    draft = services.create_draft_from(source=source, by=request.user)
    messages.success(
        request, _("已基于版本 %(n)s 创建草稿版本 %(d)s。") % {"n": number, "d": draft.number}
    )
    return redirect("competency:version-detail", number=draft.number)


@require_POST
@capability_required(Capability.EDIT_MODEL)
def version_publish(request, number):
    version = get_object_or_404(ModelVersion, number=number)
    try:
        services.publish_version(
            version=version, by=request.user, note=request.POST.get("note", "")
        )
    except (ModelDataError, services.VersionStateError) as exc:
        for error in getattr(exc, "errors", [str(exc)]):
            messages.error(request, error)
    else:
        messages.success(request, _("版本 %(n)s 已发布。") % {"n": number})
    return redirect("competency:version-detail", number=number)


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
