"""Celery tasks of certification: decision e-mails and the daily expiry run (beat).

Tasks take ids, read fresh rows, and write each message in the recipient's preferred language.
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from ..models import Certificate, CertificationEvent
from . import services

MAIL_RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}
Action = CertificationEvent.Action

# What each decision tells, and to whom: the applicant, or the supervisor who had approved.
DECISION_MAILS = {
    Action.REJECTED: ("application_rejected", "person"),
    Action.SENT_BACK: ("application_sent_back", "approver"),
    Action.CONFIRMED: ("certificate_issued", "person"),
    Action.REVOKED: ("certificate_revoked", "person"),
}


def _message(template: str, person, context: dict) -> EmailMessage | None:
    """One message in the person's language, or None when they have no address."""
    if person is None or not person.email:
        return None
    with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
        context = {**context, "person": person, "site_url": settings.SITE_URL}
        subject = render_to_string(f"certification/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"certification/email/{template}.txt", context)
    # The header names the kind of message for mail filters (and tests), whatever the language.
    return EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [person.email],
        headers={"X-TShape-Mail": f"certification/{template}"},
    )


def _send(messages) -> int:
    messages = [m for m in messages if m is not None]
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def _approver(event: CertificationEvent):
    """The supervisor whose approval HR sent back (the latest approval before ``event``)."""
    approval = (
        event.application.events.filter(action=Action.APPROVED, pk__lt=event.pk)
        .select_related("actor")
        .last()
    )
    return approval.actor if approval else None


@shared_task(**MAIL_RETRY)
def send_certification_decision(event_id: int) -> int:
    """Tell the applicant (or the approving supervisor) about a decision on their application."""
    event = CertificationEvent.objects.select_related(
        "application__person", "application__grade", "application__cycle", "certificate", "actor"
    ).get(pk=event_id)
    if event.action not in DECISION_MAILS:
        return 0
    template, audience = DECISION_MAILS[event.action]
    application = event.application
    recipient = application.person if audience == "person" else _approver(event)
    context = {
        "event": event,
        "application": application,
        "applicant": application.person,
        "certificate": event.certificate,
        "url": reverse("certification:application-detail", args=[application.pk]),
    }
    return _send([_message(template, recipient, context)])


@shared_task
def expire_certificates() -> dict:
    """Daily (beat): mark lapsed certificates expired, then queue the expiry notices."""
    expired = services.expire_certificates(today=timezone.localdate())
    transaction.on_commit(send_expiry_notices.delay)
    return {"expired": expired}


@shared_task(**MAIL_RETRY)
def send_expiry_notices() -> int:
    """Warn each holder once whose certificate lapses within 30 days (the notice is recorded)."""
    today = timezone.localdate()
    due = (
        Certificate.objects.expiring(today)
        .filter(expiry_notice_sent_at__isnull=True)
        .exclude(person__email="")
        .values_list("pk", flat=True)
    )
    sent = 0
    for certificate_id in list(due):
        # Claim and send in one transaction: a failed send rolls the claim back for the retry.
        with transaction.atomic():
            certificate = services.claim_expiry_notice(certificate_id=certificate_id, today=today)
            if certificate is None:
                continue
            context = {
                "certificate": certificate,
                "days_left": (certificate.valid_until - today).days,
                "url": reverse("certification:my-overview"),
            }
            sent += _send([_message("expiry_notice", certificate.person, context)])
    return sent
