"""Evidence files: uploaded and deleted by the person while the self-assessment is editable,
downloaded by whoever may see the assessment (everyone else gets 404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import record_download
from config import uploads

from .. import selectors, services
from ..forms.self_assessment import EvidenceForm
from ..models import Assessment, Evidence
from .manager import own_assessment


def _back(assessment: Assessment, anchor: str = ""):
    return redirect(
        reverse("assessments:self", args=[assessment.pk]) + (f"#{anchor}" if anchor else "")
    )


@login_required
@require_POST
def evidence_upload(request, pk):
    """Attach a file to a category or an industry; refused with the limit or the allowed types."""
    assessment = own_assessment(request.user, pk)
    if not selectors.self_editable(assessment):
        messages.error(request, _("自评已提交或评估周期已结束，不能再上传佐证材料。"))
        return redirect("assessments:detail", pk=assessment.pk)
    form = EvidenceForm(request.POST, request.FILES, sheet=selectors.assessment_sheet(assessment))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(assessment, form.anchor())
    try:
        evidence = services.attach_evidence(
            assessment=assessment, by=request.user, evidence=form.evidence(by=request.user)
        )
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect("assessments:detail", pk=assessment.pk)
    messages.success(request, _("已上传“%(name)s”。") % {"name": evidence.original_name})
    return _back(assessment, form.anchor())


@login_required
@require_GET
def evidence_download(request, pk):
    """The file as an attachment under its sanitised original name, typed from our table by the
    stored name (never what the browser said), never rendered or sniffed, never cached shared."""
    visible = Assessment.objects.visible_to(request.user)
    evidence = get_object_or_404(Evidence.objects.filter(assessment__in=visible), pk=pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    kind = uploads.kind_for(evidence.file.name)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=uploads.safe_name(evidence.original_name),
        content_type=kind.content_type if kind else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser still open it, it runs nothing and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    record_download(request, target=evidence.assessment, summary=evidence.original_name)
    return response


@login_required
@require_POST
def evidence_delete(request, pk):
    """Remove a file of one's own editable self-assessment; the stored file goes after commit."""
    mine = Assessment.objects.visible_to(request.user).filter(person=request.user)
    evidence = get_object_or_404(
        Evidence.objects.filter(assessment__in=mine).select_related(
            "assessment", "category", "industry"
        ),
        pk=pk,
    )
    assessment = evidence.assessment
    try:
        services.remove_evidence(evidence=evidence, by=request.user)
    except services.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect("assessments:detail", pk=assessment.pk)
    messages.success(request, _("已删除“%(name)s”。") % {"name": evidence.original_name})
    return _back(assessment, _anchor(evidence))


def _anchor(evidence: Evidence) -> str:
    if evidence.category:
        return selectors.anchor_for("cat", evidence.category.code)
    if evidence.industry:
        return selectors.anchor_for("ind", evidence.industry.code)
    return ""
