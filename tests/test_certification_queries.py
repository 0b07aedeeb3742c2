"""The queues, the register and the manager's page take a fixed number of queries: 5 rows or 50."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.certification import services
from assessments.models import CertificationApplication

from .test_certification_fixtures import apply, complete_with, fast_complete, mine, team_members

pytestmark = pytest.mark.django_db


def approve_all(supervisor):
    for application in CertificationApplication.objects.filter(
        status=CertificationApplication.Status.SUPERVISOR_PENDING
    ):
        services.approve_application(application=application, by=supervisor, note="同意")


def confirm_all(hr):
    for application in CertificationApplication.objects.filter(
        status=CertificationApplication.Status.HR_PENDING
    ):
        services.confirm_application(application=application, by=hr)


def grow(open_cycle, org, personas, start, count, stage):
    """``count`` more people in team A with a G4 application at ``stage``."""
    people = team_members(org, count, prefix=f"p{start}-")
    fast_complete(open_cycle, people)
    services.raise_applications_for_cycle(cycle=open_cycle, by=personas["hr"])
    if stage in {"approved", "certified"}:
        approve_all(personas["supervisor"])
    if stage == "certified":
        confirm_all(personas["hr"])


def queries(client, url, rows_in_page):
    client.get(url)  # warm up the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows_in_page
    return captured


CASES = [
    ("supervisor", "certification:approval-list", "pending"),
    ("hr", "certification:confirmation-list", "approved"),
    ("hr", "certification:certificate-list", "certified"),
]


@pytest.mark.parametrize(("who", "url_name", "stage"), CASES)
def test_fixed_number_of_queries(client, open_cycle, org, personas, who, url_name, stage):
    client.force_login(personas[who])
    url = reverse(url_name)
    grow(open_cycle, org, personas, 0, 5, stage)
    few = queries(client, url, 5)
    grow(open_cycle, org, personas, 1, 45, stage)
    many = queries(client, url, 50)
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_managers_page_does_not_grow_with_history(client, open_cycle, org, personas):
    manager = personas["manager"]
    complete_with(mine(open_cycle, manager), personas["supervisor"])
    client.force_login(manager)
    url = reverse("certification:my-overview")
    application = apply(open_cycle, manager)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _i in range(3):
        services.reject_application(
            application=application, by=personas["supervisor"], reason="再补充"
        )
        application = apply(open_cycle, manager)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["data"].applications) == 4
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
