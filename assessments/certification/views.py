"""Certification pages: the manager's page, the approval and confirmation queues, the decisions,
HR's register with its export, certificates, and the public verification by number.

Reads go through the scoping querysets: an application or certificate the user may not see is a
404; a page or action the user's role has no business with is a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import record_download
from accounts.models import OrgUnit
from accounts.permissions import Capability, capability_required, has_capability

from ..models import Assessment, Certificate, CertificationApplication
from ..models.certification import normalize_certificate_number
from . import selectors, services
from .exports import EXPORTERS, FORMATS
from .forms import ApplyForm, BulkApplyForm, LookupForm, NoteForm, ReasonForm, RegisterFilterForm
from .pdf import certificate_filename, certificate_pdf

review = capability_required(Capability.REVIEW)
confirm = capability_required(Capability.CONFIRM_CERTIFICATION)


def _render(request, template: str, context: dict, status: int = 200):
    """Render with what the feature's sub-menu needs to know about the user's roles."""
    user = request.user
    context = {
        **context,
        "perms_review": has_capability(user, Capability.REVIEW),
        "perms_confirm": has_capability(user, Capability.CONFIRM_CERTIFICATION),
    }
    return render(request, f"certification/{template}.html", context, status=status)


# --- the manager's page -------------------------------------------------------------------------


def _my_page(request, form=None, status=200):
    data = selectors.my_certification(request.user, timezone.localdate())
    may_apply = data.can_apply and has_capability(request.user, Capability.SELF_ASSESS)
    if form is None and may_apply:
        form = ApplyForm(grades=data.choices)
    context = {"data": data, "form": form if may_apply else None}
    return _render(request, "my_overview", context, status=status)


@login_required
def my_overview(request):
    """Current certificate, eligibility, what the next grade needs, the apply form, history."""
    return _my_page(request)


@capability_required(Capability.SELF_ASSESS)
@require_POST
def application_create(request, pk):
    """Apply from one's own completed assessment for a grade up to the eligible one."""
    assessment = get_object_or_404(
        Assessment.objects.filter(person=request.user, status=Assessment.Status.COMPLETED), pk=pk
    )
    form = ApplyForm(request.POST, grades=selectors.eligibility_report(assessment).applicable)
    if not form.is_valid():
        return _my_page(request, form, status=400)
    try:
        application = services.apply_for_certification(
            assessment=assessment,
            grade_code=form.cleaned_data["grade"],
            by=request.user,
            note=form.cleaned_data["note"],
        )
    except services.CertificationError as exc:
        messages.error(request, str(exc))
        return _my_page(request, form, status=409)
    messages.success(
        request,
        _("已提交 %(grade)s 认证申请，等待主管审批。") % {"grade": application.grade},
    )
    return redirect("certification:my-overview")


# --- one application ----------------------------------------------------------------------------


def _application(queryset, pk) -> CertificationApplication:
    return get_object_or_404(
        queryset.select_related(
            "person", "person__org_unit", "cycle__model_version", "grade", "eligible_grade"
        ),
        pk=pk,
    )


def _detail(request, application, status=200, error=None, **forms):
    check, profile = selectors.grade_check(application)
    may_approve = application.status == CertificationApplication.Status.SUPERVISOR_PENDING and (
        services.may_approve(request.user, application)
    )
    may_confirm = application.status == CertificationApplication.Status.HR_PENDING and (
        services.may_confirm(request.user, application)
    )
    context = {
        "application": application,
        "check": check,
        "profile": profile,
        "missing": selectors.named_missing_lines(check, profile.category_names),
        "requirements": selectors.requirement_rows(check, profile),
        "events": application.events.select_related("actor", "certificate"),
        "may_approve": may_approve,
        "may_confirm": may_confirm,
        "error": error,
        "approve_form": forms.get("approve_form", NoteForm()),
        "reject_form": forms.get("reject_form", ReasonForm()),
        "confirm_form": forms.get("confirm_form", NoteForm()),
        "send_back_form": forms.get("send_back_form", ReasonForm()),
    }
    return _render(request, "application_detail", context, status=status)


@login_required
def application_detail(request, pk):
    """The application, the applicant's final levels against the grade, the decisions so far."""
    return _detail(
        request, _application(CertificationApplication.objects.visible_to(request.user), pk)
    )


def _decide(request, application, form_name, form, step, done_message, done_url):
    """Validate ``form``, run the service ``step``; the page again on a problem, else redirect."""
    if not form.is_valid():
        return _detail(request, application, status=400, **{form_name: form})
    try:
        step(**form.cleaned_data)
    except services.CertificationError as exc:
        return _detail(request, application, status=409, error=exc, **{form_name: form})
    messages.success(request, done_message % {"person": application.person})
    return redirect(done_url)


@review
@require_POST
def application_approve(request, pk):
    application = _application(CertificationApplication.objects.supervised_by(request.user), pk)
    return _decide(
        request,
        application,
        "approve_form",
        NoteForm(request.POST),
        lambda note: services.approve_application(
            application=application, by=request.user, note=note
        ),
        _("已同意 %(person)s 的认证申请，等待人力资源确认。"),
        "certification:approval-list",
    )


@review
@require_POST
def application_reject(request, pk):
    application = _application(CertificationApplication.objects.supervised_by(request.user), pk)
    return _decide(
        request,
        application,
        "reject_form",
        ReasonForm(request.POST),
        lambda reason: services.reject_application(
            application=application, by=request.user, reason=reason
        ),
        _("已驳回 %(person)s 的认证申请。"),
        "certification:approval-list",
    )


@confirm
@require_POST
def application_confirm(request, pk):
    application = _application(CertificationApplication.objects.visible_to(request.user), pk)
    return _decide(
        request,
        application,
        "confirm_form",
        NoteForm(request.POST),
        lambda note: services.confirm_application(
            application=application, by=request.user, note=note
        ),
        _("已确认 %(person)s 的认证，证书已颁发。"),
        "certification:confirmation-list",
    )


@confirm
@require_POST
def application_send_back(request, pk):
    application = _application(CertificationApplication.objects.visible_to(request.user), pk)
    return _decide(
        request,
        application,
        "send_back_form",
        ReasonForm(request.POST),
        lambda reason: services.send_back_application(
            application=application, by=request.user, reason=reason
        ),
        _("已将 %(person)s 的认证申请退回主管审批。"),
        "certification:confirmation-list",
    )


# --- queues -------------------------------------------------------------------------------------


@review
def approval_list(request):
    """Applications of the people the user rates, waiting for the supervisor's decision."""
    page = selectors.page_of(selectors.approval_queue(request.user), request.GET.get("page"))
    return _render(request, "approval_list", {"page": page})


@confirm
def confirmation_list(request):
    """Applications approved by a supervisor, waiting for HR's confirmation."""
    page = selectors.page_of(selectors.confirmation_queue(request.user), request.GET.get("page"))
    return _render(request, "confirmation_list", {"page": page})


@confirm
def application_bulk_create(request):
    """HR applies, for one cycle, for everyone eligible who has no open application."""
    form = BulkApplyForm(request.POST or None, cycles=selectors.cycles_with_completed())
    if request.method == "POST" and form.is_valid():
        cycle = form.cleaned_data["cycle"]
        created = services.raise_applications_for_cycle(cycle=cycle, by=request.user)
        messages.success(
            request,
            _("已为“%(cycle)s”中 %(n)d 位符合条件的人员发起认证申请。")
            % {"cycle": cycle.name, "n": created},
        )
        return redirect("certification:confirmation-list")
    status = 400 if request.method == "POST" else 200
    return _render(request, "bulk_apply", {"form": form}, status=status)


# --- the register -------------------------------------------------------------------------------


def _register_filters(request):
    form = RegisterFilterForm(
        request.GET,
        grades=selectors.register_grades(),
        units=OrgUnit.objects.visible_to(request.user),
    )
    form.is_valid()  # invalid fields are reported on the page and left out of the filter
    data = form.cleaned_data
    filters = selectors.RegisterFilters(
        grade=data.get("grade") or "",
        state=data.get("state") or "",
        unit=data.get("unit"),
        valid_from=data.get("valid_from"),
        valid_to=data.get("valid_to"),
        query=(data.get("q") or "").strip(),
    )
    return form, filters


@confirm
@require_GET
def certificate_list(request):
    """HR's register of certificates, filtered by grade, state, unit and validity window."""
    form, filters = _register_filters(request)
    today = timezone.localdate()
    page = selectors.register_page(request.user, filters, today, request.GET.get("page"))
    context = {"form": form, "page": page, "today": today, "formats": FORMATS}
    return _render(request, "certificate_list", context)


@confirm
@require_GET
def certificate_export(request):
    """The register under the same filters, as an Excel workbook or a CSV file."""
    _form, filters = _register_filters(request)
    today = timezone.localdate()
    rows = selectors.register_rows(request.user, filters, today)
    file_format = request.GET.get("format", "xlsx")
    file_format = file_format if file_format in FORMATS else "xlsx"
    exporter = EXPORTERS["certificates"](rows, today)
    record_download(request, summary=exporter.filename(file_format))
    return exporter.response(file_format)


# --- one certificate ----------------------------------------------------------------------------


def _certificate(user, pk) -> Certificate:
    return get_object_or_404(
        Certificate.objects.visible_to(user).select_related(
            "person", "person__org_unit", "grade", "application__cycle"
        ),
        pk=pk,
    )


def _certificate_page(request, certificate, form=None, status=200, error=None):
    context = {
        "certificate": certificate,
        "state": certificate.state(timezone.localdate()),
        "events": certificate.application.events.select_related("actor"),
        "may_revoke": certificate.status != Certificate.Status.REVOKED
        and certificate.person_id != request.user.pk
        and has_capability(request.user, Capability.CONFIRM_CERTIFICATION),
        "revoke_form": form or ReasonForm(),
        "error": error,
    }
    return _render(request, "certificate_detail", context, status=status)


@login_required
def certificate_detail(request, pk):
    """A certificate with its state, its history and (for HR) the revoke form."""
    return _certificate_page(request, _certificate(request.user, pk))


@login_required
def certificate_pdf_download(request, pk):
    """The bilingual certificate PDF, as an attachment."""
    certificate = _certificate(request.user, pk)
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate_filename(certificate)}"'
    record_download(request, target=certificate, summary=certificate_filename(certificate))
    response["X-Content-Type-Options"] = "nosniff"
    return response


@confirm
@require_POST
def certificate_revoke(request, pk):
    """HR revokes a certificate with a reason."""
    certificate = _certificate(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _certificate_page(request, certificate, form, status=400)
    try:
        services.revoke_certificate(
            certificate=certificate, by=request.user, reason=form.cleaned_data["reason"]
        )
    except services.CertificationError as exc:
        return _certificate_page(request, certificate, form, status=409, error=exc)
    messages.success(request, _("证书 %(number)s 已撤销。") % {"number": certificate.number})
    return redirect("certification:certificate-detail", certificate.pk)


# --- public verification ------------------------------------------------------------------------


@require_GET
def certificate_lookup(request):
    """Anyone: type a certificate number to check it."""
    form = LookupForm(request.GET or None)
    if form.is_bound and form.is_valid():
        number = normalize_certificate_number(form.cleaned_data["number"])
        return redirect("certification:certificate-verify", number)
    return _render(request, "certificate_lookup", {"form": form})


@never_cache
@require_GET
def certificate_verify(request, number):
    """Anyone: name, grade and validity of the certificate with this number, nothing else."""
    # A lookup by the unguessable number is the whole access rule of this public page.
    certificate = (
        Certificate.objects.filter(number=normalize_certificate_number(number))
        .select_related("grade")
        .first()
    )
    context = {"number": number, "certificate": certificate, "form": LookupForm()}
    if certificate is not None:
        context["state"] = certificate.state(timezone.localdate())
    response = _render(
        request,
        "certificate_verify",
        context,
        status=200 if certificate else 404,
    )
    response["X-Robots-Tag"] = "noindex"
    return response
