"""The daily expiry run on a real Celery worker: lapsed certificates become expired, holders whose
certificate lapses within 30 days are warned once (and the notice is recorded)."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.utils import timezone

from accounts.permissions import Role
from assessments.certification import services
from assessments.certification.tasks import expire_certificates, send_expiry_notices
from assessments.models import Certificate, CertificationEvent

from .factories import UserFactory
from .test_certification_fixtures import certified, fast_complete
from .worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
Action = CertificationEvent.Action


def messages(mail_dir):
    found = []
    for path in sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []:
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                found.append(message_from_bytes(chunk.strip(), policy=policy.default))
    return found


def expiry_mails(mail_dir):
    return [m for m in messages(mail_dir) if m["X-TShape-Mail"] == "certification/expiry_notice"]


@pytest.fixture
def certificates(open_cycle, personas, org):
    """lapsed (yesterday), soon (10 days), later (60 days), revoked_soon (10 days, revoked),
    english_soon (20 days, holder reads English)."""
    names = ["lapsed", "soon", "later", "revoked_soon", "english_soon"]
    people = {n: UserFactory(username=n, org_unit=org["A"], roles=[Role.MANAGER]) for n in names}
    people["english_soon"].preferred_language = "en"
    people["english_soon"].save()
    fast_complete(open_cycle, list(people.values()))
    made = {
        n: certified(open_cycle, p, personas["supervisor"], personas["hr"])
        for n, p in people.items()
    }
    services.revoke_certificate(certificate=made["revoked_soon"], by=personas["hr"], reason="撤销")
    today = timezone.localdate()
    days = {"lapsed": -1, "soon": 10, "later": 60, "revoked_soon": 10, "english_soon": 20}
    for name, offset in days.items():
        Certificate.objects.filter(pk=made[name].pk).update(
            issued_on=today - timedelta(days=700), valid_until=today + timedelta(days=offset)
        )
    return made


def state(certificate):
    certificate.refresh_from_db()
    return certificate.status, certificate.expiry_notice_sent_at is not None


def test_expiry_run_marks_expired_and_warns_once(certificates, celery_worker):
    expire_certificates.delay()
    mails = wait_for(
        lambda: (
            len(expiry_mails(celery_worker.mail_dir)) >= 2 and expiry_mails(celery_worker.mail_dir)
        )
    )

    assert state(certificates["lapsed"]) == (Certificate.Status.EXPIRED, False)
    assert state(certificates["soon"]) == (Certificate.Status.VALID, True)
    assert state(certificates["english_soon"]) == (Certificate.Status.VALID, True)
    assert state(certificates["later"]) == (Certificate.Status.VALID, False)
    assert state(certificates["revoked_soon"]) == (Certificate.Status.REVOKED, False)
    assert sorted(m["To"] for m in mails) == ["english_soon@example.com", "soon@example.com"]
    chinese = next(m for m in mails if m["To"] == "soon@example.com")
    body = chinese.get_body(("plain",)).get_content()
    assert certificates["soon"].number in body and "10 天" in body
    assert certificates["lapsed"].events.filter(action=Action.EXPIRED).count() == 1
    assert certificates["soon"].events.filter(action=Action.EXPIRY_NOTICE).count() == 1

    # the next day's run (and a stray extra send) change nothing and send nothing
    assert expire_certificates.delay().get(timeout=60) == {"expired": 0}
    assert send_expiry_notices.delay().get(timeout=60) == 0
    assert len(expiry_mails(celery_worker.mail_dir)) == 2
    assert CertificationEvent.objects.filter(action=Action.EXPIRED).count() == 1
    assert CertificationEvent.objects.filter(action=Action.EXPIRY_NOTICE).count() == 2
