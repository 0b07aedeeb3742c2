"""The supervisor's pages: the team's assessments, and reviewing one (save, return, complete).

Every page reads through ``supervised_q`` (via ``review_selectors``): an assessment the user does
not rate — their own, a peer head's, another team's — is a 404, whatever the user's role.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import OrgUnit
from accounts.permissions import Capability, capability_required

from ..forms.review import ReturnForm, ReviewForm
from ..models import Assessment, Cycle
from ..review_selectors import (
    ALL_CYCLES,
    ReviewSheet,
    read_filters,
    review_cycles,
    review_list_page,
    review_sheet,
    reviewable_assessment,
)
from ..services import (
    COMMENT_REQUIRED_DIFFERENCE,
    IncompleteAssessment,
    StaleAssessment,
    WorkflowError,
    complete_assessment,
    return_assessment,
    save_review,
)


@capability_required(Capability.REVIEW)
def review_list(request):
    """The assessments of everyone the user rates (whole subtree), filtered and paginated."""
    cycles = review_cycles(request.user)
    units = OrgUnit.objects.visible_to(request.user)
    filters = read_filters(request.GET, cycles, units)
    page, counts = review_list_page(
        request.user, filters, request.GET.get("page"), timezone.localdate()
    )
    context = {
        "page": page,
        "counts": counts,
        "filters": filters,
        "cycles": cycles,
        "units": units,
        "statuses": Assessment.Status.choices,
        "all_cycles": ALL_CYCLES,
    }
    return render(request, "assessments/review_list.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_assessment(request, pk):
    """GET: the review sheet. POST ("保存"): save the supervisor's ratings, then show it again."""
    assessment = _reviewed_or_404(request.user, pk)
    if request.method != "POST" and assessment.self_editable:
        messages.info(request, _("此评估尚未提交自评，暂时不能评价。"))
        return redirect("assessments:detail", pk)
    sheet = review_sheet(assessment)
    if request.method != "POST":
        return _page(request, sheet, ReviewForm(sheet=sheet))
    saved = _save(request, sheet, ReviewForm(request.POST, sheet=sheet))
    if isinstance(saved, HttpResponse):
        return saved
    messages.success(request, _("已保存。"))
    return redirect("assessments:review", pk)


@require_POST
@login_required
def return_to_manager(request, pk):
    """Send the assessment back to the manager with a reason; nothing else is saved."""
    assessment = _reviewed_or_404(request.user, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _page(request, review_sheet(assessment), None, return_form=form, status=400)
    try:
        return_assessment(
            assessment=assessment,
            by=request.user,
            revision=form.cleaned_data["revision"],
            reason=form.cleaned_data["reason"],
        )
    except WorkflowError as exc:
        sheet = review_sheet(assessment)
        return _page(request, sheet, None, return_form=form, error=exc, status=409)
    messages.success(
        request,
        _("已将 %(person)s 的评估退回，等待其修改后重新提交。") % {"person": assessment.person},
    )
    return redirect("assessments:review-list")


@require_POST
@login_required
def complete_review(request, pk):
    """Save what was posted (nothing typed is lost), then complete: final levels and T shape."""
    assessment = _reviewed_or_404(request.user, pk)
    sheet = review_sheet(assessment)
    saved = _save(request, sheet, ReviewForm(request.POST, sheet=sheet))
    if isinstance(saved, HttpResponse):
        return saved
    try:
        done = complete_assessment(assessment=saved, by=request.user, revision=saved.revision)
    except IncompleteAssessment as exc:
        sheet = review_sheet(saved)
        sheet.mark_missing(exc.missing)
        return _page(request, sheet, ReviewForm(sheet=sheet), missing=exc.missing, status=400)
    except WorkflowError as exc:
        sheet = review_sheet(saved)
        return _page(request, sheet, ReviewForm(sheet=sheet), error=exc, status=409)
    messages.success(
        request,
        _("评价已完成。T型分类：%(shape)s") % {"shape": done.get_classification_display()},
    )
    return redirect("assessments:detail", pk)


def _reviewed_or_404(user, pk) -> Assessment:
    try:
        return reviewable_assessment(user, pk)
    except Assessment.DoesNotExist:
        raise Http404 from None


def _save(request, sheet: ReviewSheet, form: ReviewForm) -> Assessment | HttpResponse:
    """The saved assessment, or the page again (what was typed kept) saying why not."""
    if not form.is_valid():
        return _page(request, sheet, form, status=400)
    try:
        return save_review(
            assessment=sheet.assessment,
            by=request.user,
            revision=form.cleaned_data["revision"],
            ratings=form.ratings(),
            depths=form.depths(),
            comment=form.cleaned_data["supervisor_comment"],
        )
    except WorkflowError as exc:
        return _page(request, sheet, form, error=exc, status=409)


def _page(
    request,
    sheet: ReviewSheet,
    form: ReviewForm | None,
    *,
    return_form: ReturnForm | None = None,
    missing=None,
    error: Exception | None = None,
    status: int = 200,
):
    """The review page: ``form`` (typed or stored values) over the sheet, with what went wrong."""
    assessment = sheet.assessment
    form = form or ReviewForm(sheet=sheet)
    sheet.overlay(form.typed_values(), form.errors if form.is_bound else {})
    context = {
        "assessment": assessment,
        "sheet": sheet,
        "form": form,
        "return_form": return_form or ReturnForm(initial={"revision": assessment.revision}),
        "missing": missing or [],
        "error": str(error) if error else "",
        "stale": isinstance(error, StaleAssessment),
        "editable": assessment.reviewable and assessment.cycle.status == Cycle.Status.OPEN,
        "late": assessment.is_late(timezone.localdate()),
        "gap": COMMENT_REQUIRED_DIFFERENCE,
    }
    return render(request, "assessments/review.html", context, status=status)
