"""Workflows of certification: apply, raise in bulk, approve or reject, confirm or send back,
revoke, expire.

Each step runs in a transaction on the locked application (or certificate) row, checks the state it
starts from, writes a ``CertificationEvent`` (never changed afterwards) and queues its e-mail only
after the commit. Nobody decides on their own application, on any path.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import Capability, has_capability, supervised_q
from competency.models import Grade

from ..models import (
    Assessment,
    Certificate,
    CertificationApplication,
    CertificationEvent,
    Cycle,
)
from ..models.certification import new_certificate_number
from .selectors import (
    cycle_eligibility,
    eligibility_report,
    latest_completed_assessment,
    superseded_q,
)

TEXT_MAX = 2000
DEFAULT_VALIDITY_MONTHS = 24
NUMBER_ATTEMPTS = 5
Status = CertificationApplication.Status
Action = CertificationEvent.Action


class CertificationError(Exception):
    """A step the current state forbids; the message is translated and shown as it is."""


def _text(value: str | None, *, required: str = "") -> str:
    """Trimmed free text; ``required`` is the message when it may not be empty."""
    value = (value or "").strip()
    if required and not value:
        raise CertificationError(required)
    if len(value) > TEXT_MAX:
        raise CertificationError(_("说明不能超过 %(n)s 个字。") % {"n": TEXT_MAX})
    return value


def _record(application, action: str, by, note: str = "", certificate=None, **details):
    return CertificationEvent.objects.create(
        application=application,
        certificate=certificate,
        action=action,
        actor=by,
        note=note,
        details=details,
    )


def _notify(event: CertificationEvent) -> None:
    """Queue the e-mail about ``event`` once the transaction commits."""
    from . import tasks  # tasks imports this module for the daily expiry run

    transaction.on_commit(lambda: tasks.send_certification_decision.delay(event.pk))


# --- applying -----------------------------------------------------------------------------------


def _lock_cycle(cycle_id: int) -> Cycle:
    # Applications of one cycle are written one transaction at a time, so the "no open
    # application yet" check and the insert cannot interleave (a manager vs HR's bulk run).
    return Cycle.objects.select_for_update().select_related("model_version").get(pk=cycle_id)


def _version_grades(cycle: Cycle) -> dict[str, Grade]:
    return {g.code: g for g in Grade.objects.filter(version_id=cycle.model_version_id)}


def apply_for_certification(
    *, assessment: Assessment, grade_code: str, by, note: str = ""
) -> CertificationApplication:
    """The person applies, from their latest completed assessment, for a grade up to the one it
    qualifies for; refused while an application of the same cycle is open."""
    note = _text(note)
    with transaction.atomic():
        cycle = _lock_cycle(assessment.cycle_id)
        assessment = Assessment.objects.select_related("cycle__model_version").get(pk=assessment.pk)
        if assessment.person_id != by.pk:
            raise PermissionDenied
        latest = latest_completed_assessment(by)
        if latest is None or latest.pk != assessment.pk:
            raise CertificationError(_("只能以您最近一次已完成的评估申请认证。"))
        report = eligibility_report(assessment)
        wanted = next((g for g in report.applicable if g.code == grade_code), None)
        if wanted is None:
            raise CertificationError(_("您的最终等级尚未达到所申请的认证等级。"))
        existing = CertificationApplication.objects.filter(person=by, cycle=cycle)
        if existing.open().exists():
            raise CertificationError(_("您在该评估周期已有进行中的认证申请。"))
        if existing.filter(status=Status.CONFIRMED, grade__order__gte=wanted.order).exists():
            raise CertificationError(_("您已凭该评估获得此等级或更高等级的认证。"))
        grades = _version_grades(cycle)
        application = CertificationApplication.objects.create(
            person=by,
            cycle=cycle,
            assessment=assessment,
            grade=grades[wanted.code],
            eligible_grade=grades[report.eligible.code],
            raised_by=by,
        )
        _record(
            application, Action.APPLIED, by, note, grade=wanted.code, eligible=report.eligible.code
        )
    return application


def raise_applications_for_cycle(*, cycle: Cycle, by) -> int:
    """HR applies for everyone of the cycle at their eligible grade, skipping whoever has an
    open application, already holds that grade from the cycle, or was refused it there."""
    if not has_capability(by, Capability.CONFIRM_CERTIFICATION):
        raise PermissionDenied
    with transaction.atomic():
        cycle = _lock_cycle(cycle.pk)
        eligible = {pk: g for pk, g in cycle_eligibility(cycle).items() if g is not None}
        assessments = (
            Assessment.objects.filter(pk__in=list(eligible), person__is_active=True)
            .exclude(superseded_q())
            .values_list("pk", "person_id")
        )
        history = _cycle_history(cycle)
        grades = _version_grades(cycle)
        now = timezone.now()
        applications = CertificationApplication.objects.bulk_create(
            [
                CertificationApplication(
                    person_id=person_id,
                    cycle=cycle,
                    assessment_id=pk,
                    grade=grades[eligible[pk].code],
                    eligible_grade=grades[eligible[pk].code],
                    raised_by=by,
                    created_at=now,
                    updated_at=now,
                )
                for pk, person_id in assessments
                if not history.get(person_id, _CycleHistory()).skips(eligible[pk].order)
            ],
            batch_size=1000,
        )
        CertificationEvent.objects.bulk_create(
            [
                CertificationEvent(
                    application=a,
                    action=Action.APPLIED,
                    actor=by,
                    at=now,
                    details={"grade": a.grade.code, "eligible": a.grade.code, "bulk": True},
                )
                for a in applications
            ],
            batch_size=1000,
        )
    return len(applications)


@dataclass
class _CycleHistory:
    """One person's earlier applications in a cycle, as the bulk run needs them."""

    open: bool = False
    held: int = -1
    refused: set = field(default_factory=set)

    def skips(self, order: int) -> bool:
        return self.open or order <= self.held or order in self.refused


def _cycle_history(cycle: Cycle) -> dict[int, _CycleHistory]:
    history: dict[int, _CycleHistory] = defaultdict(_CycleHistory)
    rows = CertificationApplication.objects.filter(cycle=cycle).values_list(
        "person_id", "status", "grade__order"
    )
    for person_id, status, order in rows:
        if status in CertificationApplication.OPEN_STATUSES:
            history[person_id].open = True
        elif status == Status.CONFIRMED:
            history[person_id].held = max(history[person_id].held, order)
        else:
            history[person_id].refused.add(order)
    return history


# --- deciding -----------------------------------------------------------------------------------


def _lock(application: CertificationApplication) -> CertificationApplication:
    return (
        CertificationApplication.objects.select_for_update(of=("self",))
        .select_related("person", "grade", "cycle")
        .get(pk=application.pk)
    )


def _move(application: CertificationApplication, from_status: str, to_status: str) -> None:
    """Apply one step to a locked application, refusing if someone else has moved it already."""
    if application.status != from_status:
        raise CertificationError(
            _("此申请已被处理（当前状态：%(status)s），请刷新页面后再操作。")
            % {"status": application.get_status_display()}
        )
    application.status = to_status
    application.updated_at = timezone.now()
    application.save(update_fields=["status", "updated_at"])


def may_approve(user, application: CertificationApplication) -> bool:
    """True when ``user`` rates the applicant as supervisor (never for their own application)."""
    return (
        application.person_id != user.pk
        and User.objects.filter(pk=application.person_id).filter(supervised_q(user)).exists()
    )


def may_confirm(user, application: CertificationApplication) -> bool:
    """True when ``user`` confirms certifications and the application is not their own."""
    return application.person_id != user.pk and has_capability(
        user, Capability.CONFIRM_CERTIFICATION
    )


def approve_application(
    *, application: CertificationApplication, by, note: str = ""
) -> CertificationApplication:
    """Supervisor step: someone who rates the applicant approves; HR confirms next."""
    note = _text(note)
    with transaction.atomic():
        application = _lock(application)
        if not may_approve(by, application):
            raise PermissionDenied
        _move(application, Status.SUPERVISOR_PENDING, Status.HR_PENDING)
        _record(application, Action.APPROVED, by, note, grade=application.grade.code)
    return application


def reject_application(
    *, application: CertificationApplication, by, reason: str
) -> CertificationApplication:
    """Supervisor step: reject with a reason; the applicant may apply again."""
    reason = _text(reason, required=_("驳回时必须填写原因。"))
    with transaction.atomic():
        application = _lock(application)
        if not may_approve(by, application):
            raise PermissionDenied
        _move(application, Status.SUPERVISOR_PENDING, Status.REJECTED)
        _notify(_record(application, Action.REJECTED, by, reason, grade=application.grade.code))
    return application


def send_back_application(
    *, application: CertificationApplication, by, reason: str
) -> CertificationApplication:
    """HR step: return an approved application to the supervisor step, with a reason."""
    reason = _text(reason, required=_("退回时必须填写原因。"))
    with transaction.atomic():
        application = _lock(application)
        if not may_confirm(by, application):
            raise PermissionDenied
        _move(application, Status.HR_PENDING, Status.SUPERVISOR_PENDING)
        _notify(_record(application, Action.SENT_BACK, by, reason, grade=application.grade.code))
    return application


def confirm_application(
    *, application: CertificationApplication, by, note: str = ""
) -> Certificate:
    """HR step: confirm an approved application and issue its certificate."""
    note = _text(note)
    with transaction.atomic():
        application = _lock(application)
        if not may_confirm(by, application):
            raise PermissionDenied
        _move(application, Status.HR_PENDING, Status.CONFIRMED)
        certificate = _issue(application)
        event = _record(
            application,
            Action.CONFIRMED,
            by,
            note,
            certificate=certificate,
            grade=application.grade.code,
            number=certificate.number,
            valid_until=certificate.valid_until.isoformat(),
        )
        _notify(event)
    return certificate


def _issue(application: CertificationApplication) -> Certificate:
    """A certificate for the confirmed application, under a fresh random number."""
    today = timezone.localdate()
    grade = application.grade
    months = grade.validity_months or DEFAULT_VALIDITY_MONTHS
    for _attempt in range(NUMBER_ATTEMPTS):
        certificate = Certificate(
            number=new_certificate_number(today.year),
            application=application,
            person_id=application.person_id,
            grade=grade,
            holder_name=str(application.person)[:150],
            issued_on=today,
            valid_until=Certificate.validity_end(today, months),
        )
        try:
            with transaction.atomic():  # a savepoint: a clash of numbers only costs a retry
                certificate.save()
        except IntegrityError:
            if not Certificate.objects.filter(number=certificate.number).exists():
                raise
            continue
        return certificate
    raise CertificationError(_("未能生成证书编号，请重试。"))


# --- certificates -------------------------------------------------------------------------------


def revoke_certificate(*, certificate: Certificate, by, reason: str) -> Certificate:
    """HR revokes a certificate with a reason; the verification page says so from then on."""
    reason = _text(reason, required=_("撤销证书时必须填写原因。"))
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.person_id == by.pk or not has_capability(
            by, Capability.CONFIRM_CERTIFICATION
        ):
            raise PermissionDenied
        if certificate.status == Certificate.Status.REVOKED:
            raise CertificationError(_("此证书已被撤销。"))
        certificate.status = Certificate.Status.REVOKED
        certificate.revoked_at = timezone.now()
        certificate.save(update_fields=["status", "revoked_at"])
        event = _record(
            certificate.application, Action.REVOKED, by, reason, certificate=certificate
        )
        _notify(event)
    return certificate


def expire_certificates(*, today) -> int:
    """Mark every valid certificate whose last valid day is before ``today`` as expired."""
    with transaction.atomic():
        lapsed = list(
            Certificate.objects.select_for_update(skip_locked=True)
            .filter(status=Certificate.Status.VALID, valid_until__lt=today)
            .values_list("pk", "application_id", "valid_until")
        )
        now = timezone.now()
        CertificationEvent.objects.bulk_create(
            [
                CertificationEvent(
                    application_id=application_id,
                    certificate_id=pk,
                    action=Action.EXPIRED,
                    at=now,
                    details={"valid_until": valid_until.isoformat()},
                )
                for pk, application_id, valid_until in lapsed
            ]
        )
        Certificate.objects.filter(pk__in=[pk for pk, *_rest in lapsed]).update(
            status=Certificate.Status.EXPIRED
        )
    return len(lapsed)


def claim_expiry_notice(*, certificate_id: int, today) -> Certificate | None:
    """Record the one expiry notice of a certificate (a conditional UPDATE, so at most once);
    None when it was already sent or is no longer due. Call inside the sending transaction."""
    now = timezone.now()
    claimed = (
        Certificate.objects.expiring(today)
        .filter(pk=certificate_id, expiry_notice_sent_at__isnull=True)
        .update(expiry_notice_sent_at=now)
    )
    if not claimed:
        return None
    certificate = Certificate.objects.select_related("person", "grade").get(pk=certificate_id)
    CertificationEvent.objects.create(
        application_id=certificate.application_id,
        certificate=certificate,
        action=Action.EXPIRY_NOTICE,
        at=now,
        details={"valid_until": certificate.valid_until.isoformat()},
    )
    return certificate
