"""The demo data: idempotent, the documented logins work, never under production settings."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import OrgUnit, User
from assessments.demo import DEMO_CYCLE_NAME, DEMO_OPEN_CYCLE_NAME, DEMO_PASSWORD
from assessments.models import Assessment, Cycle, Rating

pytestmark = pytest.mark.django_db


def counts():
    return (
        OrgUnit.objects.count(),
        User.objects.count(),
        Cycle.objects.count(),
        Assessment.objects.count(),
        Rating.objects.count(),
    )


def test_seed_demo_builds_the_documented_organisation_once(client):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    units = OrgUnit.objects.all()
    assert units.filter(kind="province").count() == 1
    assert units.filter(kind="city").count() == 2
    assert units.filter(kind="team").count() == 4
    managers = User.objects.filter(groups__name="manager")
    assert 35 <= managers.count() <= 45
    for username in ["admin", "hr", "supervisor", "manager", "outsider"]:
        assert client.login(username=username, password=DEMO_PASSWORD), username


def test_demo_people_stand_where_the_readme_says(client):
    call_command("seed_demo")
    supervisor = User.objects.get(username="supervisor")
    manager = User.objects.get(username="manager")
    outsider = User.objects.get(username="outsider")
    assert manager.org_unit in supervisor.headed_units.all()
    assert list(manager.supervisors()) == [supervisor]
    assert outsider.org_unit.parent != manager.org_unit.parent  # another city
    assert not User.objects.visible_to(supervisor).filter(pk=outsider.pk).exists()


def test_demo_cycle_is_closed_with_plausible_final_levels(client):
    call_command("seed_demo")
    cycle = Cycle.objects.get(name=DEMO_CYCLE_NAME)
    assert cycle.status == Cycle.Status.CLOSED
    completed = cycle.assessments.filter(status=Assessment.Status.COMPLETED)
    not_completed = cycle.assessments.filter(status=Assessment.Status.NOT_COMPLETED)
    assert completed.count() >= 30
    finals = Rating.objects.filter(assessment__in=completed).values_list("final_level", flat=True)
    assert set(finals) <= {1, 2, 3, 4, 5} and len(set(finals)) >= 3
    assert len(finals) == completed.count() * 12
    # Not completed is "no final level", never zero.
    assert not Rating.objects.filter(
        assessment__in=not_completed, final_level__isnull=False
    ).exists()
    assert cycle.assessments.get(person__username="manager").status == Assessment.Status.COMPLETED


def test_seed_demo_refuses_production_settings(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not User.objects.filter(username="manager").exists()


def test_demo_open_cycle_has_assessments_in_every_state(client):
    call_command("seed_demo")
    cycle = Cycle.objects.get(name=DEMO_OPEN_CYCLE_NAME)
    assert cycle.status == Cycle.Status.OPEN
    states = set(cycle.assessments.values_list("status", flat=True))
    assert states == {"not_started", "self_in_progress", "submitted", "returned", "completed"}
    manager = cycle.assessments.get(person__username="manager")
    assert manager.status == "self_in_progress"  # the demo manager can carry on in the browser
    returned = cycle.assessments.filter(status="returned").first()
    assert returned.events.get(action="returned").note
    assert cycle.assessments.filter(
        status="submitted", person__org_unit__code="DEMO-EH-GOV"
    ).exists()
