"""Two people deciding at once on PostgreSQL: one wins, the other is told, one record is written."""

import pytest

from assessments.certification import services
from assessments.certification.services import CertificationError
from assessments.models import Certificate, CertificationApplication, CertificationEvent

from .factories import UserFactory
from .test_assessment_concurrency import race
from .test_certification_fixtures import apply, approved, completed_fixture, mine  # noqa: F401 - the "completed" fixture

pytestmark = pytest.mark.django_db(transaction=True)
Action = CertificationEvent.Action


def test_approve_and_reject_at_once_leave_one_decision(open_cycle, personas, completed):
    application = apply(open_cycle, personas["manager"])
    outcomes = race(
        lambda: services.approve_application(application=application, by=personas["supervisor"]),
        lambda: services.reject_application(
            application=application, by=personas["city_head"], reason="同时驳回"
        ),
    )
    winners = [o for o in outcomes if isinstance(o, CertificationApplication)]
    losers = [o for o in outcomes if isinstance(o, CertificationError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    application.refresh_from_db()
    decisions = list(
        application.events.exclude(action=Action.APPLIED).values_list("action", flat=True)
    )
    assert len(decisions) == 1
    assert (decisions[0], application.status) in {
        (Action.APPROVED, CertificationApplication.Status.HR_PENDING),
        (Action.REJECTED, CertificationApplication.Status.REJECTED),
    }


def test_two_hr_confirmations_at_once_issue_one_certificate(open_cycle, personas, completed):
    other_hr = UserFactory(username="hr2", org_unit=personas["hr"].org_unit, roles=["hr"])
    application = approved(open_cycle, personas["manager"], personas["supervisor"])
    outcomes = race(
        lambda: services.confirm_application(application=application, by=personas["hr"]),
        lambda: services.confirm_application(application=application, by=other_hr),
    )
    assert sum(isinstance(o, Certificate) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, CertificationError) for o in outcomes) == 1, outcomes
    assert Certificate.objects.count() == 1
    assert application.events.filter(action=Action.CONFIRMED).count() == 1


def test_two_applications_at_once_make_one(open_cycle, personas, completed):
    manager = personas["manager"]
    assessment = mine(open_cycle, manager)
    outcomes = race(
        lambda: services.apply_for_certification(
            assessment=assessment, grade_code="G4", by=manager
        ),
        lambda: services.apply_for_certification(
            assessment=assessment, grade_code="G3", by=manager
        ),
    )
    assert sum(isinstance(o, CertificationApplication) for o in outcomes) == 1, outcomes
    assert CertificationApplication.objects.filter(person=manager).count() == 1


def test_a_bulk_run_and_a_manager_applying_at_once_make_one(open_cycle, personas, completed):
    manager = personas["manager"]
    assessment = mine(open_cycle, manager)
    outcomes = race(
        lambda: services.apply_for_certification(
            assessment=assessment, grade_code="G4", by=manager
        ),
        lambda: services.raise_applications_for_cycle(cycle=open_cycle, by=personas["hr"]),
    )
    assert not [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, CertificationError)
    ], outcomes
    assert CertificationApplication.objects.filter(person=manager).count() == 1
