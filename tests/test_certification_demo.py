"""The certification demo: every state on the closed demo cycle, written once, the named logins
left with their own part to play."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from assessments.certification import selectors
from assessments.certification.demo import seed_certification_demo
from assessments.models import Certificate, CertificationApplication, CertificationEvent

pytestmark = pytest.mark.django_db


def test_seed_certification_demo_is_idempotent_and_covers_every_state():
    assert seed_certification_demo() == {}  # no demo cycle yet: nothing to do
    call_command("seed_demo")
    first = seed_certification_demo()
    assert first["applications"] == 10 and first["certificates"] == 5
    assert seed_certification_demo() == first
    assert CertificationEvent.objects.filter(action="applied").count() == 10

    statuses = set(CertificationApplication.objects.values_list("status", flat=True))
    assert statuses == set(CertificationApplication.Status.values)
    today = timezone.localdate()
    states = [c.state(today) for c in Certificate.objects.all()]
    assert sorted(states) == ["expired", "revoked", "valid", "valid", "valid"]
    assert Certificate.objects.expiring(today).count() == 1

    supervisor = User.objects.get(username="supervisor")
    assert selectors.approval_queue(supervisor).count() == 2
    assert not CertificationApplication.objects.filter(person__username="manager").exists()
