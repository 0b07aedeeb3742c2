"""Pages of the audit log (HR and admin) and of a person's personal data (HR).

Nothing here edits an audit event: the log is listed, filtered and exported; a person's data is
exported, the person marked as left or erased through ``accounts.services``.
"""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import services
from .audit import AuditEvent, record_download
from .audit_export import FORMATS, AuditLogExporter
from .audit_forms import AuditFilterForm, EraseForm
from .models import User
from .permissions import Capability, capability_required

EVENTS_PER_PAGE = 50


def _filtered(request) -> tuple[AuditFilterForm, dict, object]:
    form = AuditFilterForm(request.GET)
    filters = form.filters()
    events = AuditEvent.objects.visible_to(request.user).matching(**filters)
    return form, filters, events


@capability_required(Capability.VIEW_AUDIT)
@require_GET
def audit_log(request):
    """The audit log, newest first, filtered by action, actor, dates and text."""
    form, _filters, events = _filtered(request)
    page = Paginator(events.order_by("-at", "-pk"), EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/audit_log.html", {"form": form, "page": page})


@capability_required(Capability.VIEW_AUDIT)
@require_GET
def audit_export(request):
    """The filtered log as CSV or XLSX; the export is itself an audit event."""
    _form, filters, events = _filtered(request)
    file_format = request.GET.get("format")
    file_format = file_format if file_format in FORMATS else "csv"
    exporter = AuditLogExporter(events.order_by("-at", "-pk"))
    details = {"format": file_format, "filters": {k: str(v) for k, v in filters.items()}}
    record_download(request, summary=exporter.filename(file_format), details=details)
    return exporter.response(file_format)


# --- personal data --------------------------------------------------------------------------------


def _person(request, pk) -> User:
    return get_object_or_404(
        User.objects.visible_to(request.user).select_related("org_unit"), pk=pk
    )


def _person_page(request, person, *, form=None, error="", status=200):
    context = {
        "person": person,
        "form": form or EraseForm(),
        "error": error,
        "events": AuditEvent.objects.visible_to(request.user)
        .concerning(person)
        .order_by("-at", "-pk")[:20],
    }
    return render(request, "accounts/person_data.html", context, status=status)


@capability_required(Capability.MANAGE_PERSONAL_DATA)
@require_GET
def person_data(request, pk):
    """What HR may do with one person's data: export it, mark the person as left, erase them."""
    return _person_page(request, _person(request, pk))


@capability_required(Capability.MANAGE_PERSONAL_DATA)
@require_GET
def person_data_export(request, pk):
    """Everything stored about the person as one JSON document (an attachment)."""
    person = _person(request, pk)
    document = services.export_personal_data(person=person, by=request.user, request=request)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    name = f"personal-data-{person.pk}-{timezone.localdate():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@capability_required(Capability.MANAGE_PERSONAL_DATA)
@require_POST
def person_deactivate(request, pk):
    """Mark the person as having left (their account is deactivated)."""
    person = _person(request, pk)
    try:
        services.deactivate_person(person=person, by=request.user, request=request)
    except services.PersonalDataError as exc:
        return _person_page(request, person, error=str(exc), status=400)
    messages.success(request, _("已将 %(name)s 标记为已离职。") % {"name": person})
    return redirect("accounts:person-data", person.pk)


@capability_required(Capability.MANAGE_PERSONAL_DATA)
@require_POST
def person_erase(request, pk):
    """Erase a person who has left: identity replaced by a pseudonym, ratings kept."""
    person = _person(request, pk)
    form = EraseForm(request.POST)
    if not form.is_valid():
        return _person_page(request, person, form=form, status=400)
    try:
        pseudonym = services.erase_person(person=person, by=request.user, request=request)
    except services.PersonalDataError as exc:
        return _person_page(request, person, form=form, error=str(exc), status=400)
    messages.success(request, _("身份信息已删除，此人现在显示为 %(p)s。") % {"p": pseudonym})
    return redirect("accounts:person-data", person.pk)
