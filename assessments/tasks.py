"""E-mails of the assessment workflow, sent by Celery workers after the deciding transaction commits.

Tasks take ids, read fresh rows, and write each message in the recipient's preferred language.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import SELF_EDITABLE, Assessment, AssessmentEvent, Cycle

MAIL_RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


def _message(template: str, person, context: dict) -> EmailMessage | None:
    """One message in the person's language, or None when they have no address."""
    if not person.email:
        return None
    with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
        context = {**context, "person": person, "site_url": settings.SITE_URL}
        subject = render_to_string(f"assessments/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"assessments/email/{template}.txt", context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email])


def _send(messages) -> int:
    messages = [m for m in messages if m is not None]
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


@shared_task(**MAIL_RETRY)
def send_cycle_opened(cycle_id: int, person_ids: list[int] | None = None) -> int:
    """Tell each participant (or the newly added ones) that their self-assessment is open."""
    cycle = Cycle.objects.get(pk=cycle_id)
    assessments = cycle.assessments.select_related("person")
    if person_ids is not None:
        assessments = assessments.filter(person_id__in=person_ids)
    return _send(
        _message(
            "cycle_opened",
            a.person,
            {"cycle": cycle, "url": reverse("assessments:self", args=[a.pk])},
        )
        for a in assessments.iterator(chunk_size=500)
    )


@shared_task(**MAIL_RETRY)
def send_assessment_returned(assessment_id: int) -> int:
    assessment = Assessment.objects.select_related("cycle", "person").get(pk=assessment_id)
    event = (
        assessment.events.filter(action=AssessmentEvent.Action.RETURNED)
        .select_related("actor")
        .last()
    )
    context = {
        "assessment": assessment,
        "cycle": assessment.cycle,
        "reason": event.note if event else "",
        "by": event.actor if event else None,
        "url": reverse("assessments:self", args=[assessment.pk]),
    }
    return _send([_message("assessment_returned", assessment.person, context)])


@shared_task(**MAIL_RETRY)
def send_assessment_completed(assessment_id: int) -> int:
    assessment = Assessment.objects.select_related("cycle", "person", "reviewer").get(
        pk=assessment_id
    )
    context = {
        "assessment": assessment,
        "cycle": assessment.cycle,
        "url": reverse("assessments:detail", args=[assessment.pk]),
    }
    return _send([_message("assessment_completed", assessment.person, context)])


def _late_self(cycle):
    return cycle.assessments.filter(status__in=SELF_EDITABLE).select_related("person")


def _pending_reviews_by_reviewer(cycle):
    """Supervisor → their submitted assessments awaiting review."""
    waiting: dict = {}
    for a in cycle.assessments.filter(status=Assessment.Status.SUBMITTED).select_related("person"):
        for supervisor in a.person.supervisors():
            waiting.setdefault(supervisor, []).append(a)
    return waiting


def _remind(cycle, phase: str) -> int:
    if phase == "self":
        return _send(
            _message(
                "reminder_self",
                a.person,
                {"cycle": cycle, "url": reverse("assessments:self", args=[a.pk])},
            )
            for a in _late_self(cycle)
        )
    return _send(
        _message(
            "reminder_review",
            supervisor,
            {"cycle": cycle, "assessments": items, "url": reverse("assessments:review-list")},
        )
        for supervisor, items in _pending_reviews_by_reviewer(cycle).items()
    )


@shared_task(**MAIL_RETRY)
def send_deadline_reminders() -> int:
    """Daily (beat): remind whoever still has work when a deadline is ``reminder_days`` away."""
    today = timezone.localdate()
    sent = 0
    for cycle in Cycle.objects.filter(status=Cycle.Status.OPEN):
        if cycle.self_deadline - timedelta(days=cycle.reminder_days) == today:
            sent += _remind(cycle, "self")
        if cycle.review_deadline - timedelta(days=cycle.reminder_days) == today:
            sent += _remind(cycle, "review")
    return sent


@shared_task(**MAIL_RETRY)
def send_late_reminders(cycle_id: int) -> int:
    """HR's "remind the late ones": self phase past its deadline, reviews past theirs."""
    cycle = Cycle.objects.get(pk=cycle_id)
    today = timezone.localdate()
    sent = 0
    if today > cycle.self_deadline:
        sent += _remind(cycle, "self")
    if today > cycle.review_deadline:
        sent += _remind(cycle, "review")
    return sent
