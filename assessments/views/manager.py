"""The account manager's pages: my assessments, the self-assessment page, submit, the read-only
detail page (which everyone who may see the assessment reads)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..forms.self_assessment import SelfAssessmentForm, allowed_types_text, megabytes
from ..models import Assessment, Evidence


def own_assessment(user, pk) -> Assessment:
    """The user's own assessment, or 404: nobody else's, whatever their role."""
    queryset = Assessment.objects.visible_to(user).filter(person=user).select_related("cycle")
    return get_object_or_404(queryset, pk=pk)


def is_autosave(request) -> bool:
    return request.headers.get("X-Autosave") == "1"


@login_required
def my_assessments(request):
    """The signed-in person's own assessments over all cycles, newest first."""
    assessments = selectors.my_assessments(request.user)
    return render(request, "assessments/my_list.html", {"assessments": assessments})


@login_required
def assessment_detail(request, pk):
    """Read-only view for anyone who may see the assessment; the supervisor's draft stays hidden
    from the person until the assessment is final."""
    queryset = Assessment.objects.visible_to(request.user).select_related(
        "cycle", "person", "org_unit", "reviewer"
    )
    assessment = get_object_or_404(queryset, pk=pk)
    is_person = assessment.person_id == request.user.pk
    context = {
        "assessment": assessment,
        "sheet": selectors.assessment_sheet(assessment),
        "events": selectors.history(assessment),
        "returned": selectors.return_reason(assessment),
        "is_person": is_person,
        "editable": is_person and selectors.self_editable(assessment),
        "show_supervisor": not is_person or assessment.is_final,
    }
    return render(request, "assessments/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def self_assessment(request, pk):
    """The one self-assessment page; autosave posts the same form here with ``X-Autosave: 1``."""
    assessment = own_assessment(request.user, pk)
    if request.method == "GET" and not selectors.self_editable(assessment):
        return redirect("assessments:detail", pk=pk)
    sheet = selectors.assessment_sheet(assessment)
    if request.method == "GET":
        return render_page(request, SelfAssessmentForm(sheet=sheet))
    saved = save_posted(request, SelfAssessmentForm(request.POST, sheet=sheet))
    if isinstance(saved, HttpResponse):
        return saved
    if is_autosave(request):
        return JsonResponse({"revision": saved.revision, "saved_at": _clock(saved)})
    messages.success(request, _("已保存 %(time)s") % {"time": _clock(saved)})
    return redirect("assessments:self", pk=pk)


@login_required
@require_POST
def submit_self(request, pk):
    """Save what was posted (nothing typed is lost), then hand the assessment to the supervisor."""
    assessment = own_assessment(request.user, pk)
    form = SelfAssessmentForm(request.POST, sheet=selectors.assessment_sheet(assessment))
    saved = save_posted(request, form)
    if isinstance(saved, HttpResponse):
        return saved
    try:
        services.submit_self_assessment(assessment=saved, by=request.user, revision=saved.revision)
    except services.IncompleteAssessment as exc:
        form.mark_missing(exc.missing)
        return render_page(
            request,
            form,
            assessment=saved,
            revision=saved.revision,
            status=400,
            missing=exc.missing,
        )
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect("assessments:self", pk=pk)
    messages.success(request, _("自评已提交，等待主管评价。"))
    return redirect("assessments:detail", pk=pk)


def save_posted(request, form: SelfAssessmentForm) -> Assessment | HttpResponse:
    """The saved assessment, or the response that tells why nothing was saved."""
    if not form.is_valid():
        return refuse(request, form, 400, _("请更正标出的错误，您的修改尚未保存。"))
    try:
        return services.save_self_assessment(
            assessment=form.sheet.assessment, by=request.user, **form.service_arguments()
        )
    except services.StaleAssessment as exc:
        return refuse(request, form, 409, str(exc))
    except services.WorkflowError as exc:
        if is_autosave(request):
            return JsonResponse({"error": str(exc), "errors": {}}, status=400)
        # Only a state change gets here (submitted, cycle closed): the page turns read-only.
        messages.error(request, str(exc))
        return redirect("assessments:self", pk=form.sheet.assessment.pk)


def refuse(request, form: SelfAssessmentForm, status: int, message: str) -> HttpResponse:
    """JSON for autosave; otherwise the page again, with what was typed and the message."""
    if is_autosave(request):
        payload = {"error": message, "errors": form.error_dict(), "stale": status == 409}
        return JsonResponse(payload, status=status)
    return render_page(request, form, status=status, error=message)


def render_page(request, form, *, assessment=None, revision=None, status=200, error="", missing=()):
    """The page; after a save, ``assessment`` and ``revision`` are the fresh ones."""
    assessment = assessment or form.sheet.assessment
    context = {
        "assessment": assessment,
        "form": form,
        "sections": form.category_sections(),
        "industries": form.industry_rows(),
        "depth_levels": form.sheet.depth_levels,
        "revision": form["revision"].value() if revision is None else revision,
        "error": error,
        "missing": missing,
        "returned": selectors.return_reason(assessment),
        "comment_max": services.COMMENT_MAX,
        "max_size": megabytes(Evidence.MAX_BYTES),
        "allowed_types": allowed_types_text(),
        "accept": ",".join(sorted(Evidence.ALLOWED_SUFFIXES)),
    }
    return render(request, "assessments/self_assessment.html", context, status=status)


def _clock(assessment: Assessment) -> str:
    return timezone.localtime(assessment.self_saved_at).strftime("%H:%M:%S")
