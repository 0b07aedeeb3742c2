"""Model files in the browser: upload (JSON, Excel, Moodle CSV) → preview → confirm a new draft."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.audit import AuditEvent, record_audit_event
from accounts.permissions import Capability, capability_required

from .. import services
from ..forms import ModelFileForm
from ..models import ModelImport


@capability_required(Capability.EDIT_MODEL)
def import_upload(request):
    """Upload a model file; it is checked and previewed before anything is created."""
    form = ModelFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = services.upload_model_file(
            content=upload.read(),
            file_name=upload.name,
            file_format=form.cleaned_data["file_format"],
            by=request.user,
        )
        return redirect("competency:import-detail", pk=record.pk)
    recent = ModelImport.objects.defer("content").select_related("uploaded_by", "version")[:20]
    return render(request, "competency/import_upload.html", {"form": form, "imports": recent})


@capability_required(Capability.EDIT_MODEL)
def import_detail(request, pk):
    """The preview of one upload; POST creates the draft (once, all or nothing)."""
    record = get_object_or_404(ModelImport.objects.select_related("uploaded_by", "version"), pk=pk)
    if request.method == "POST":
        try:
            version = services.confirm_model_import(record=record, by=request.user)
        except services.ImportRefused as exc:
            messages.error(request, str(exc))
            return redirect("competency:import-detail", pk=record.pk)
        record_audit_event(
            action=AuditEvent.Action.IMPORT,
            request=request,
            target=record,
            summary=record.file_name,
            details={"kind": "model", "format": record.file_format, "version": version.number},
        )
        messages.success(request, _("已创建草稿版本 %(n)s。") % {"n": version.number})
        return redirect("competency:version-edit", number=version.number)
    preview = services.preview_upload(record)
    return render(request, "competency/import_detail.html", {"record": record, "preview": preview})
