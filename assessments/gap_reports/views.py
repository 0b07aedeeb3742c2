"""Team gap report pages: HR starts runs and watches them; HR and heads read the reports of the
units they may see; HR exports them (files built by a worker, downloaded when ready).

Out-of-scope runs, units and files answer 404; a role with no business here answers 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import Capability, capability_required

from ..models import GapReportExport
from . import charts, reports, services
from .exporters import EXPORTERS, download_response
from .forms import StartRunForm

MEMBERS_PER_PAGE = 50
RUNS_PER_PAGE = 20
export_reports = capability_required(Capability.EXPORT_REPORTS)


def _reader(request):
    if not reports.may_see_reports(request.user):
        raise PermissionDenied


def _starter(request):
    if not reports.may_start_runs(request.user):
        raise PermissionDenied


@login_required
@require_GET
def run_list(request):
    """The runs the user may read; for HR also the form that starts one."""
    _reader(request)
    page = Paginator(reports.visible_runs(request.user), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    form = StartRunForm() if reports.may_start_runs(request.user) else None
    return render(request, "gap_reports/run_list.html", {"page": page, "form": form})


@login_required
@require_POST
def run_start(request):
    """Start a run (or join the one already computing the same cycle and rule)."""
    _starter(request)
    form = StartRunForm(request.POST)
    if not form.is_valid():
        page = Paginator(reports.visible_runs(request.user), RUNS_PER_PAGE).get_page(1)
        return render(request, "gap_reports/run_list.html", {"page": page, "form": form})
    try:
        run = services.start_gap_report(by=request.user, **form.cleaned_data)
    except services.GapReportError as exc:
        messages.error(request, str(exc))
        return redirect("reports:run-list")
    messages.success(request, _("已开始计算“%(cycle)s”的团队差距报告。") % {"cycle": run.cycle})
    return redirect("reports:run-detail", run.pk)


@login_required
@require_GET
def run_detail(request, pk):
    """A run: its progress while computing, then the units the user may open."""
    _reader(request)
    run = reports.get_run(request.user, pk)
    units = reports.run_units(run, request.user) if run.status == run.Status.SUCCEEDED else []
    context = {
        "run": run,
        "units": units,
        "top_units": reports.top_units(units),
        "may_resume": reports.may_start_runs(request.user)
        and (run.status == run.Status.FAILED or run.is_stale(services.STALE_AFTER)),
    }
    return render(request, "gap_reports/run_detail.html", context)


@login_required
@require_GET
def run_progress(request, pk):
    """The run's progress as a small JSON document (polled by the progress bar)."""
    _reader(request)
    run = reports.get_run(request.user, pk)
    return JsonResponse(
        {
            "status": run.status,
            "status_label": run.get_status_display(),
            "progress": run.progress,
            "units_done": run.units_done,
            "units_total": run.units_total,
            "finished": not run.is_active,
            "error": run.error if run.status == run.Status.FAILED else "",
        }
    )


@login_required
@require_POST
def run_resume(request, pk):
    """Queue again what a lost worker left undone (or retry a failed run)."""
    _starter(request)
    run = reports.get_run(request.user, pk)
    if services.resume_gap_report(run=run):
        messages.success(request, _("已重新安排未完成的计算。"))
    else:
        messages.info(request, _("这次计算已经完成，无需继续。"))
    return redirect("reports:run-detail", run.pk)


@login_required
@require_GET
def unit_report(request, pk, unit_id):
    """One unit's report: figures, charts, priorities, industries and the member heatmap."""
    _reader(request)
    run = reports.get_run(request.user, pk)
    unit = reports.get_unit(request.user, run, unit_id)
    report = reports.unit_report(run, unit)
    members = Paginator(reports.member_rows(run, unit), MEMBERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "run": run,
        "unit": unit,
        "report": report,
        "charts": charts.unit_charts(report),
        "members": members,
        "matrix": [(m, reports.heat_cells(m, run.targets_of(m.grade))) for m in members],
        "category_codes": [c["code"] for c in run.categories],
        "category_names": report.category_names,
        "formats": GapReportExport.Format.choices,
        "may_export": reports.may_export(request.user, unit),
    }
    return render(request, "gap_reports/unit_report.html", context)


@export_reports
@require_POST
def export_create(request, pk, unit_id, fmt):
    """Ask for the unit's report as a file; the page then waits until a worker has built it."""
    if fmt not in EXPORTERS:
        raise Http404
    run = reports.get_run(request.user, pk)
    unit = reports.get_unit(request.user, run, unit_id)
    if not reports.may_export(request.user, unit):
        raise PermissionDenied
    try:
        export = services.request_export(
            run=run, unit=unit, file_format=fmt, language=get_language(), by=request.user
        )
    except services.GapReportError as exc:
        messages.error(request, str(exc))
        return redirect("reports:run-detail", run.pk)
    return redirect("reports:export-detail", export.pk)


def _get_export(request, pk) -> GapReportExport:
    """An export of a run and unit the user may export (checked again on every request)."""
    export = get_object_or_404(
        GapReportExport.objects.select_related("run", "run__cycle", "org_unit"), pk=pk
    )
    reports.get_run(request.user, export.run_id)
    if not reports.may_export(request.user, export.org_unit):
        raise Http404
    return export


@export_reports
@require_GET
def export_detail(request, pk):
    """Waits for the file (the page polls its status), then offers the download."""
    return render(request, "gap_reports/export_detail.html", {"export": _get_export(request, pk)})


@export_reports
@require_GET
def export_status(request, pk):
    export = _get_export(request, pk)
    ready = export.status == GapReportExport.Status.READY
    return JsonResponse(
        {
            "status": export.status,
            "status_label": export.get_status_display(),
            "ready": ready,
            "download_url": reverse("reports:export-download", args=[export.pk]) if ready else "",
            "error": export.error,
        }
    )


@export_reports
@require_GET
def export_download(request, pk):
    """The built file as an attachment; permission is checked again here, not only on the page."""
    export = _get_export(request, pk)
    if export.status != GapReportExport.Status.READY or not export.file:
        raise Http404
    return download_response(request, export)
