"""Workflow e-mails: queued after the commit, sent by a real Celery worker, in each person's language."""

from email import message_from_bytes, policy

import pytest

from assessments.models import Assessment
from assessments.services import open_cycle, return_assessment
from assessments.tasks import send_deadline_reminders

from .assessment_helpers import complete, submit
from .worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def messages(mail_dir):
    """Every message the worker's file backend wrote, parsed."""
    found = []
    for path in sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []:
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                found.append(message_from_bytes(chunk.strip(), policy=policy.default))
    return found


def by_recipient(mail_dir):
    return {m["To"]: m for m in messages(mail_dir)}


def body(message):
    return message.get_body(("plain",)).get_content()


def test_opening_mails_every_participant_in_their_language(
    draft_cycle, personas, hr, celery_worker
):
    outsider = personas["outsider"]
    outsider.preferred_language = "en"
    outsider.save()
    open_cycle(cycle=draft_cycle, by=hr)
    mails = wait_for(
        lambda: (
            len(by_recipient(celery_worker.mail_dir)) >= 5 and by_recipient(celery_worker.mail_dir)
        )
    )
    assert set(mails) == {p.email for k, p in personas.items() if k not in {"hr", "admin"}}
    assert "已开始" in mails[personas["manager"].email]["Subject"]
    english = mails[outsider.email]
    assert "has started" in english["Subject"] and "2026-12-15" in body(english)
    assert f"/assessments/{Assessment.objects.get(person=outsider).pk}/self/" in body(english)


def test_return_and_completion_mail_the_person(open_cycle, personas, celery_worker):
    manager, supervisor = personas["manager"], personas["supervisor"]
    assessment = submit(Assessment.objects.get(cycle=open_cycle, person=manager))
    return_assessment(
        assessment=assessment, by=supervisor, revision=assessment.revision, reason="请补充客户SWOT"
    )
    returned = wait_for(
        lambda: [m for m in messages(celery_worker.mail_dir) if "退回" in m["Subject"]]
    )
    assert "请补充客户SWOT" in body(returned[0]) and returned[0]["To"] == manager.email
    assessment.refresh_from_db()
    complete(submit(assessment), supervisor)
    done = wait_for(
        lambda: [m for m in messages(celery_worker.mail_dir) if "已完成" in m["Subject"]]
    )
    assert "T型" in body(done[0])


def test_deadline_reminders_go_to_whoever_still_has_work(open_cycle, personas, mailoutbox):
    from datetime import timedelta

    from django.utils import timezone

    from assessments.models import Cycle

    submit(Assessment.objects.get(cycle=open_cycle, person=personas["manager"]))
    mailoutbox.clear()  # the "cycle opened" messages
    today = timezone.localdate()
    Cycle.objects.filter(pk=open_cycle.pk).update(
        self_deadline=today + timedelta(days=3), review_deadline=today + timedelta(days=10)
    )
    assert send_deadline_reminders() == 4  # everyone but the manager, who has submitted
    recipients = {m.to[0] for m in mailoutbox}
    assert personas["manager"].email not in recipients and personas["outsider"].email in recipients
    mailoutbox.clear()
    Cycle.objects.filter(pk=open_cycle.pk).update(
        self_deadline=today - timedelta(days=1), review_deadline=today + timedelta(days=3)
    )
    assert send_deadline_reminders() == 1
    assert mailoutbox[0].to == [personas["supervisor"].email]
    assert personas["manager"].display_name in mailoutbox[0].body
