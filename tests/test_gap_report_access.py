"""Who may open which gap report URL: every URL of the ``reports`` namespace × every persona.

HR sees every unit and is the only one who starts runs and exports; a head sees the units they
head and below; nobody else sees gap reports (403). A unit or file out of scope answers 404.
A URL added without a row here fails ``tests/test_url_completeness.py``.
"""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.audit import AuditEvent
from assessments.gap_reports import services
from assessments.models import GapReportExport, GapReportRun

from . import test_gap_report_fixtures as data
from .access import ROLES, only

pytestmark = pytest.mark.django_db

gap_org, gap_cycle = data.gap_org, data.gap_cycle

HEADS = {"supervisor": 200, "city_head": 200, "outsider_supervisor": 200}


# (url name, object, method) → expected status per role
MATRIX = [
    ("run-list", None, "get", only({**HEADS, "hr": 200}, 403)),
    ("run-start", None, "post", only({"hr": 302}, 403)),
    ("run-detail", "run", "get", only({**HEADS, "hr": 200}, 403)),
    ("run-progress", "run", "get", only({**HEADS, "hr": 200}, 403)),
    ("run-resume", "run", "post", only({"hr": 302}, 403)),
    (
        "unit",
        "unit_a",
        "get",
        only({"supervisor": 200, "city_head": 200, "hr": 200, "outsider_supervisor": 404}, 403),
    ),
    (
        "unit",
        "unit_p",
        "get",
        only({"hr": 200, "supervisor": 404, "city_head": 404, "outsider_supervisor": 404}, 403),
    ),
    (
        "unit",
        "unit_b2",
        "get",
        only({"hr": 200, "outsider_supervisor": 404, "supervisor": 404, "city_head": 404}, 403),
    ),
    ("export-create", "unit_a", "post", only({"hr": 302}, 403)),
    ("export-detail", "export", "get", only({"hr": 200}, 403)),
    ("export-status", "export", "get", only({"hr": 200}, 403)),
    ("export-download", "export", "get", only({"hr": 200}, 403)),
]
# The URL keys this matrix covers; tests/test_url_completeness.py checks that every URL of
# the site is covered by exactly one matrix module.
COVERED = frozenset(f"reports:{row[0]}" for row in MATRIX)


@pytest.fixture
def world(gap_cycle, gap_org, personas, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_gap_report(cycle=gap_cycle, by=personas["hr"], chunk_members=5)
    run.refresh_from_db()
    assert run.status == GapReportRun.Status.SUCCEEDED
    with django_capture_on_commit_callbacks(execute=True):
        export = services.request_export(
            run=run, unit=gap_org["A"], file_format="csv", language="zh-hans", by=personas["hr"]
        )
    export.refresh_from_db()
    assert export.status == GapReportExport.Status.READY
    return {
        "run": (run.pk,),
        "unit_a": (run.pk, gap_org["A"].pk),
        "unit_p": (run.pk, gap_org["P"].pk),
        "unit_b2": (run.pk, gap_org["B2"].pk),
        "export": (export.pk,),
        "personas": personas,
        "cycle": gap_cycle,
    }


def request(client, world, role, name, obj, method):
    if role != "anonymous":
        client.force_login(world["personas"][role])
    args = list(world[obj]) if obj else []
    if name == "export-create":
        args.append("xlsx")
    url = reverse(f"reports:{name}", args=args)
    if method == "get":
        return client.get(url)
    return client.post(url, {"cycle": world["cycle"].pk, "target_rule": "own_grade"})


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, world, role):
    failures = []
    for name, obj, method, expected in MATRIX:
        response = request(client, world, role, name, obj, method)
        if response.status_code != expected[role]:
            failures.append(
                f"{method.upper()} {name} {obj} as {role}: {response.status_code} != {expected[role]}"
            )
        client.logout()
    assert not failures, "\n".join(failures)


def test_denied_requests_change_nothing(client, world):
    before = (GapReportRun.objects.count(), GapReportExport.objects.count())
    for role in ["manager", "outsider", "supervisor", "city_head", "outsider_supervisor", "admin"]:
        client.force_login(world["personas"][role])
        for name, obj, method, _expected in MATRIX:
            if method == "post":
                request(client, world, role, name, obj, method)
    assert (GapReportRun.objects.count(), GapReportExport.objects.count()) == before


def test_a_head_sees_only_their_units_in_a_run(client, world):
    client.force_login(world["personas"]["city_head"])
    page = client.get(reverse("reports:run-detail", args=world["run"])).content.decode()
    assert 'data-unit="C1"' in page and 'data-unit="A"' in page and 'data-unit="A2"' in page
    assert 'data-unit="P"' not in page and 'data-unit="B"' not in page


def test_a_head_does_not_see_a_run_still_computing(client, world, personas):
    running = services.start_gap_report(
        cycle=world["cycle"],
        by=personas["hr"],
        target_rule=GapReportRun.TargetRule.FIXED_GRADE,
        target_grade="G3",
    )  # no commit callbacks here: it stays pending
    client.force_login(personas["supervisor"])
    assert client.get(reverse("reports:run-detail", args=[running.pk])).status_code == 404
    assert client.get(reverse("reports:run-progress", args=[running.pk])).status_code == 404
    client.force_login(personas["hr"])
    progress = client.get(reverse("reports:run-progress", args=[running.pk])).json()
    assert progress == {
        "status": "pending",
        "status_label": "排队中",
        "progress": 0,
        "units_done": 0,
        "units_total": 0,
        "finished": False,
        "error": "",
    }


def test_the_download_checks_permission_again(client, world, personas):
    hr = personas["hr"]
    client.force_login(hr)
    url = reverse("reports:export-download", args=world["export"])
    assert client.get(url).status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, actor=hr).count() == 1
    hr.groups.remove(Group.objects.get(name="hr"))
    client.force_login(hr)  # a fresh request: the role is read again
    assert client.get(url).status_code == 403
