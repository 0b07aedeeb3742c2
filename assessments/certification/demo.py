"""Demo certification data on the demo's closed cycle, written through the real workflows.

Idempotent: once the closed cycle has any application, nothing more is written. The named demo
logins keep their own part to play: 周婷 (``manager``) may still apply, ``supervisor`` finds
applications from their team to approve, ``hr`` finds approved ones to confirm.
"""

from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from ..models import Assessment, Certificate, CertificationApplication, Cycle
from . import services
from .selectors import cycle_eligibility, superseded_q

# How many demo people end in each state, taken in employee-number order.
IN_SUPERVISORS_TEAM = [("supervisor_pending", 2), ("rejected", 1)]
ELSEWHERE = [("hr_pending", 2), ("confirmed", 2), ("expiring", 1), ("expired", 1), ("revoked", 1)]
SUPERVISORS_TEAM = "DEMO-EH-GOV"
NAMED_LOGINS = {"manager", "outsider", "supervisor", "hr", "admin"}


def seed_certification_demo() -> dict:
    """Applications in every state and certificates valid, expiring, expired and revoked."""
    from ..demo import DEMO_CYCLE_NAME  # here: seed_demo imports this module

    cycle = Cycle.objects.filter(name=DEMO_CYCLE_NAME).select_related("model_version").first()
    if cycle is None:
        return {}
    if CertificationApplication.objects.filter(cycle=cycle).exists():
        return _summary(cycle)
    # Decision e-mails would go to demo addresses: send them nowhere, and never via a broker.
    was_eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
            transaction.atomic(),
        ):
            _seed(cycle)
    finally:
        current_app.conf.task_always_eager = was_eager
    return _summary(cycle)


def _candidates(cycle: Cycle) -> tuple[list[Assessment], list[Assessment]]:
    """Completed, not superseded assessments of unnamed people: (supervisor's team, others)."""
    eligible = {pk for pk, grade in cycle_eligibility(cycle).items() if grade is not None}
    assessments = (
        Assessment.objects.filter(pk__in=eligible)
        .exclude(superseded_q())
        .exclude(person__username__in=NAMED_LOGINS)
        .exclude(person__headed_units__isnull=False)
        .select_related("person", "person__org_unit")
        .order_by("person__employee_no", "pk")
    )
    team = [a for a in assessments if a.person.org_unit.code == SUPERVISORS_TEAM]
    return team, [a for a in assessments if a.person.org_unit.code != SUPERVISORS_TEAM]


def _seed(cycle: Cycle) -> None:
    from accounts.models import User

    hr = User.objects.get(username="hr")
    team, others = _candidates(cycle)
    for pool, plan in [(team, IN_SUPERVISORS_TEAM), (others, ELSEWHERE)]:
        pool = iter(pool)
        for state, count in plan:
            for assessment in [a for _i, a in zip(range(count), pool, strict=False)]:
                _drive(assessment, state, hr)
    services.expire_certificates(today=timezone.localdate())


def _drive(assessment: Assessment, state: str, hr) -> None:
    person = assessment.person
    grade = services.eligibility_report(assessment).eligible.code
    application = services.apply_for_certification(
        assessment=assessment, grade_code=grade, by=person, note="申请认证（示例）"
    )
    if state == "supervisor_pending":
        return
    supervisor = person.supervisors().first()
    if state == "rejected":
        services.reject_application(
            application=application, by=supervisor, reason="请补充IT知识方面的项目案例（示例）。"
        )
        return
    services.approve_application(application=application, by=supervisor, note="同意（示例）")
    if state == "hr_pending":
        return
    certificate = services.confirm_application(application=application, by=hr)
    _backdate(certificate, state)
    if state == "revoked":
        services.revoke_certificate(
            certificate=certificate, by=hr, reason="评估佐证材料不实（示例）。"
        )


def _backdate(certificate: Certificate, state: str) -> None:
    """Demo only: move an issued certificate's dates so that the register shows every case."""
    today = timezone.localdate()
    if state == "expiring":
        dates = (today - timedelta(days=710), today + timedelta(days=20))
    elif state == "expired":
        dates = (today - timedelta(days=760), today - timedelta(days=30))
    else:
        return
    Certificate.objects.filter(pk=certificate.pk).update(issued_on=dates[0], valid_until=dates[1])


def _summary(cycle: Cycle) -> dict:
    applications = CertificationApplication.objects.filter(cycle=cycle)
    return {
        "applications": applications.count(),
        "certificates": Certificate.objects.filter(application__in=applications).count(),
    }
