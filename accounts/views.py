"""Pages about people and the organisation: home, people list, language choice, org import."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import set_language as django_set_language

from competency.models import ModelVersion
from config import health

from .audit import AuditEvent, record_audit_event
from .forms import OrgImportForm
from .models import OrgImport, OrgUnit, User
from .org_import import ImportReport, OrgImportRefused, confirm_org_import, upload_org_file
from .permissions import (
    Capability,
    capability_required,
    chosen_or_404,
    has_capability,
    people_scope,
    roles_of,
)


@login_required
def home(request):
    """The first page after signing in: who you are, where you sit, what you can do here."""
    user = request.user
    scope = people_scope(user)
    context = {
        "unit": user.org_unit,
        "supervisors": list(user.supervisors()),
        "headed_units": list(scope.units),
        "visible_people": User.objects.visible_to(user).filter(is_active=True).count(),
        "model_version": ModelVersion.objects.latest_published(),
        "roles": roles_of(user),
    }
    return render(request, "accounts/home.html", context)


@require_POST
def set_language(request):
    """Django's language switch, remembered on the profile of a signed-in person."""
    language = request.POST.get("language")
    response = django_set_language(request)
    user = request.user
    choices = dict(User._meta.get_field("preferred_language").choices)
    if user.is_authenticated and language in choices and user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    return response


@require_safe
def healthz(request):
    """200 when every part answers (database, redis, celery, migrations); 503 naming what is down.

    ``?checks=database,migrations`` limits the answer to those parts (a load balancer's probe
    should not take every replica out because the worker is down). Answered for any Host.
    """
    wanted = [name for name in request.GET.get("checks", "").split(",") if name]
    unknown = sorted(set(wanted) - set(health.CHECKS))
    if unknown:
        response = JsonResponse({"status": "error", "unknown_checks": unknown}, status=400)
    else:
        checks = health.run_checks(wanted)
        ok = health.healthy(checks)
        body = {"status": "ok" if ok else "error", "checks": checks}
        response = JsonResponse(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


@capability_required(Capability.VIEW_TEAM)
def people_list(request):
    """The people the user may see, by unit (HR/admin: everyone; heads: their subtrees)."""
    units = OrgUnit.objects.visible_to(request.user)
    people = User.objects.visible_to(request.user).select_related("org_unit")
    unit = chosen_or_404(units, request.GET.get("unit"))
    if unit:
        people = people.in_subtree(unit)
    query = request.GET.get("q", "").strip()
    if query:
        people = people.filter(
            Q(display_name__icontains=query)
            | Q(employee_no__icontains=query)
            | Q(username__icontains=query)
        )
    page = Paginator(people.order_by("org_unit__path", "employee_no"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/people_list.html",
        {
            "page": page,
            "units": units,
            "unit": unit,
            "query": query,
            "may_manage_data": has_capability(request.user, Capability.MANAGE_PERSONAL_DATA),
        },
    )


@capability_required(Capability.IMPORT_ORG)
def org_import(request):
    """Upload an organisation file; a dry run is shown before anything changes."""
    form = OrgImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = upload_org_file(content=upload.read(), file_name=upload.name, by=request.user)
        return redirect("accounts:org-import-detail", record.pk)
    recent = OrgImport.objects.defer("content").select_related("uploaded_by")[:20]
    return render(request, "accounts/org_import.html", {"form": form, "imports": recent})


@capability_required(Capability.IMPORT_ORG)
def org_import_detail(request, pk):
    """The dry-run report of one upload; POST applies it (once, all or nothing)."""
    records = OrgImport.objects.defer("content").select_related("uploaded_by", "applied_by")
    record = get_object_or_404(records, pk=pk)
    if request.method == "POST":
        _confirm_org_import(request, record)
        return redirect("accounts:org-import-detail", record.pk)
    report = ImportReport.from_dict(record.summary)
    return render(request, "accounts/org_import_detail.html", {"record": record, "report": report})


def _confirm_org_import(request, record):
    try:
        report = confirm_org_import(org_import=record, by=request.user)
    except OrgImportRefused as exc:
        messages.error(request, str(exc))
        return
    if report.ok:
        record_audit_event(
            action=AuditEvent.Action.IMPORT,
            request=request,
            target=record,
            summary=record.file_name,
            details={"kind": "org"},
        )
        messages.success(request, _("导入完成。"))
    else:
        messages.error(request, _("重新校验时发现错误，没有导入任何数据。"))
