"""Calibration pages: sessions, the session page (raters, distribution, grid), one assessment's
adjustments, the guide, close / reopen, history and the Excel export.

Access: HR and heads only (``may_use_calibration``, else 403); a session is read through
``CalibrationSession.objects.visible_to`` (out of scope: 404); each action asks ``services``,
which raises ``PermissionDenied`` (403) for what the user's role may not do there.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.audit import record_download
from accounts.models import OrgUnit
from competency.models import ProficiencyLevel

from ..models import Assessment, CalibrationAdjustment, CalibrationEvent, CalibrationSession
from ..models.calibration import GUIDE_LEVELS
from ..services import WorkflowError
from . import services, statistics
from .exports import SessionExport
from .forms import AdjustForm, CloseForm, GuideForm, ReopenForm, SessionForm, calibratable_units

GRID_PAGE_SIZE = 25
LIST_PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50
RECENT = 10


def calibration_required(view):
    """Sign-in required, then 403 unless the user is HR or a head (supervisor role)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not services.may_use_calibration(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _session(user, pk) -> CalibrationSession:
    sessions = CalibrationSession.objects.visible_to(user).select_related(
        "cycle", "cycle__model_version", "org_unit", "created_by"
    )
    return get_object_or_404(sessions, pk=pk)


def _assessment(session, pk) -> Assessment:
    assessments = session.assessments().select_related(
        "person", "org_unit", "reviewer", "cycle", "cycle__model_version"
    )
    return get_object_or_404(assessments, pk=pk)


def _to_session(session):
    return redirect("calibration:session-detail", session.pk)


# --- sessions -----------------------------------------------------------------------------------


@calibration_required
def session_list(request):
    """The sessions the user may see, newest first, with their size and adjustments."""
    sessions = statistics.session_overview(request.user)
    context = {
        "page": Paginator(sessions, LIST_PAGE_SIZE).get_page(request.GET.get("page")),
        "may_create": calibratable_units(request.user).exists(),
    }
    return render(request, "calibration/session_list.html", context)


@calibration_required
def session_create(request):
    """Open a session for a cycle and a unit within the user's reach."""
    form = SessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        cycle, unit = form.cleaned_data["cycle"], form.cleaned_data["unit"]
        try:
            session = services.open_session(cycle=cycle, unit=unit, by=request.user)
        except services.CalibrationError as exc:
            existing = (
                CalibrationSession.objects.visible_to(request.user)
                .filter(cycle=cycle, org_unit=unit)
                .first()
            )
            if existing is None:
                form.add_error(None, str(exc))
                return render(request, "calibration/session_form.html", {"form": form}, status=400)
            messages.info(request, str(exc))
            return _to_session(existing)
        messages.success(request, _("已发起“%(unit)s”的等级校准。") % {"unit": unit})
        return _to_session(session)
    status = 400 if request.method == "POST" else 200
    return render(request, "calibration/session_form.html", {"form": form}, status=status)


def _grid_filters(request, session, raters):
    unit_id, rater_id = request.GET.get("unit", ""), request.GET.get("rater", "")
    units = list(OrgUnit.objects.subtree_of(session.org_unit).order_by("path"))
    unit = next((u for u in units if str(u.pk) == unit_id), None)
    rater = next((r for r in raters.rows if str(r.reviewer_id) == rater_id), None)
    return units, unit, rater


@calibration_required
def session_detail(request, pk):
    """Rater statistics, the distribution per category, the grid and the latest changes."""
    session = _session(request.user, pk)
    raters = statistics.rater_statistics(session)
    units, unit, rater = _grid_filters(request, session, raters)
    assessments = statistics.grid_assessments(
        session, unit=unit, reviewer_id=rater.reviewer_id if rater else None
    )
    page = Paginator(assessments, GRID_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    ratings = statistics.grid_ratings(page.object_list)
    context = _session_context(request, session) | {
        "raters": raters,
        "categories": statistics.category_distribution(session),
        "grid_categories": list(session.cycle.model_version.categories_in_order()),
        "page": page,
        "rows": [(a, ratings[a.pk]) for a in page.object_list],
        "units": units,
        "unit": unit,
        "rater": rater,
        "recent": _adjustments(session)[:RECENT],
        "pending": _pending_count(session),
    }
    return render(request, "calibration/session_detail.html", context)


def _session_context(request, session) -> dict:
    user = request.user
    return {
        "session": session,
        "levels": GUIDE_LEVELS,
        "may_run": services.may_calibrate(user, session.org_unit),
        "may_guide": services.may_manage_guide_and_reopen(user),
        "close_form": CloseForm(),
        "reopen_form": ReopenForm(),
        "rule": {
            "min_assessments": statistics.MIN_ASSESSMENTS,
            "min_raters": statistics.MIN_RATERS,
            "sd_factor": statistics.SD_FACTOR,
            "min_gap": statistics.MIN_GAP,
        },
    }


def _adjustments(session):
    return (
        CalibrationAdjustment.objects.filter(session=session)
        .select_related("actor", "assessment__person", "category")
        .order_by("-at", "-pk")
    )


def _pending_count(session) -> int:
    """Assessments of the subtree not completed yet (they are outside the calibration)."""
    return (
        Assessment.objects.filter(
            cycle_id=session.cycle_id, org_unit__path__startswith=session.org_unit.path
        )
        .exclude(status__in=[Assessment.Status.COMPLETED, Assessment.Status.NOT_COMPLETED])
        .count()
    )


@calibration_required
def session_history(request, pk):
    """Every adjustment (newest first) and every step of the session."""
    session = _session(request.user, pk)
    context = {
        "session": session,
        "page": Paginator(_adjustments(session), HISTORY_PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
        "events": CalibrationEvent.objects.filter(session=session)
        .select_related("actor")
        .order_by("-at", "-pk"),
    }
    return render(request, "calibration/session_history.html", context)


@calibration_required
def session_guide(request, pk):
    """HR sets the guide distribution (shares per level summing to 100%), or clears it."""
    session = _session(request.user, pk)
    if not services.may_manage_guide_and_reopen(request.user):
        raise PermissionDenied
    form = GuideForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_guide(session=session, by=request.user, shares=form.cleaned_data["shares"])
        except services.CalibrationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("参考分布已保存。"))
        return _to_session(session)
    status = 400 if request.method == "POST" else 200
    context = {"session": session, "form": form}
    return render(request, "calibration/session_guide.html", context, status=status)


@calibration_required
@require_POST
def session_close(request, pk):
    """Close the session (confirmation required): its final levels are locked."""
    session = _session(request.user, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请先勾选确认框，再结束校准。"))
        return _to_session(session)
    try:
        services.close_session(session=session, by=request.user, note=form.cleaned_data["note"])
    except services.CalibrationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("校准已结束，最终等级已锁定。"))
    return _to_session(session)


@calibration_required
@require_POST
def session_reopen(request, pk):
    """HR reopens a closed session, with a reason (recorded)."""
    session = _session(request.user, pk)
    if not services.may_manage_guide_and_reopen(request.user):
        raise PermissionDenied
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("重新开启校准时必须填写原因。"))
        return _to_session(session)
    try:
        services.reopen_session(
            session=session, by=request.user, reason=form.cleaned_data["reason"]
        )
    except services.CalibrationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("校准已重新开启。"))
    return _to_session(session)


@calibration_required
def session_export(request, pk):
    """The session as an Excel workbook: before and after per assessment and category."""
    export = SessionExport(_session(request.user, pk))
    record_download(request, target=export.session, summary=export.filename)
    return FileResponse(
        export.to_file(),
        as_attachment=True,
        filename=export.filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- one assessment -----------------------------------------------------------------------------


@calibration_required
def assessment_detail(request, pk, assessment_pk):
    """One assessment in the session: levels per category, the adjust forms, its history."""
    session = _session(request.user, pk)
    return _assessment_page(request, session, _assessment(session, assessment_pk))


@calibration_required
@require_POST
def assessment_adjust(request, pk, assessment_pk):
    """Change one final level with a reason, then back to the assessment's page."""
    session = _session(request.user, pk)
    assessment = _assessment(session, assessment_pk)
    form = AdjustForm(request.POST)
    if not form.is_valid():
        return _assessment_page(request, session, assessment, form=form, status=400)
    data = form.cleaned_data
    try:
        services.adjust_final_level(
            session=session,
            assessment=assessment,
            category_code=data["category"],
            level=data["level"],
            reason=data["reason"],
            by=request.user,
            revision=data["revision"],
        )
    except WorkflowError as exc:
        return _assessment_page(request, session, assessment, form=form, error=exc, status=409)
    messages.success(
        request,
        _("已将 %(person)s 的“%(code)s”最终等级调整为 %(level)s。")
        % {"person": assessment.person, "code": data["category"], "level": data["level"]},
    )
    return redirect("calibration:assessment-detail", session.pk, assessment.pk)


def _assessment_page(request, session, assessment, *, form=None, error=None, status=200):
    ratings, history = statistics.assessment_ratings(assessment)
    for rating in ratings:
        posted = form is not None and form.data.get("category") == rating.category.code
        rating.form = form if posted else None
    locked_by = CalibrationSession.objects.closed_covering(assessment).select_related("org_unit")
    locked_by = [s for s in locked_by if s.pk != session.pk]
    context = {
        "session": session,
        "assessment": assessment,
        "ratings": ratings,
        "history": history,
        "level_options": _level_options(assessment.cycle.model_version_id),
        "may_adjust": session.is_open
        and not locked_by
        and services.may_adjust(request.user, session, assessment),
        "own": assessment.person_id == request.user.pk,
        "locked_by": locked_by,
        "error": str(error) if error else "",
    }
    return render(request, "calibration/assessment.html", context, status=status)


def _level_options(version_id) -> list[tuple[int, str]]:
    names = {lv.value: lv.name for lv in ProficiencyLevel.objects.filter(version=version_id)}
    return [(v, names.get(v, "")) for v in GUIDE_LEVELS]
