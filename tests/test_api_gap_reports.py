"""The gap report API: HR starts a run (the same Celery task as the page), HR and heads read its
units, unit reports and members (a head only their own units), HR exports a unit's report as
xlsx, csv or pdf through the exporters and downloads it. Figures are checked against the plain
computation of ``test_gap_report_fixtures``; one test runs on a real Celery worker."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.audit import AuditEvent
from accounts.models import OrgUnit
from assessments.gap_reports import services
from assessments.models import GapReportExport, GapReportRun
from competency.models import Category

from . import test_gap_report_fixtures as data
from .test_api_support import client_for, error_of, url
from .worker import wait_for

pytest_plugins = ["tests.test_api_support"]

gap_org, gap_cycle = data.gap_org, data.gap_cycle
SUMMARY = ["headcount", "completed", "targeted", "below_any", "shortfall", "depth_met"]


@pytest.fixture
def gap(api_settings, gap_cycle, gap_org, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return {"cycle": gap_cycle, "org": gap_org, "personas": personas}


@pytest.fixture
def run(gap, django_capture_on_commit_callbacks):
    """A run started through the API by HR, computed by the task the commit sends."""
    hr = client_for(gap["personas"]["hr"])
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(url("gap-report-run-list"), {"cycle": gap["cycle"].pk}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == GapReportRun.Status.PENDING
    return GapReportRun.objects.get(pk=response.json()["id"])


def rows(response) -> list:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def codes(response) -> set:
    units = {row["org_unit"] for row in rows(response)}
    return set(OrgUnit.objects.filter(pk__in=units).values_list("code", flat=True))


# --- runs and their figures -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_started_through_the_api_reports_the_right_figures(gap, run):
    hr = client_for(gap["personas"]["hr"])
    detail = hr.get(url("gap-report-run-detail", run.pk)).json()
    assert (detail["status"], detail["progress"], detail["finished"]) == ("succeeded", 100, True)
    assert detail["requested_by"] == gap["personas"]["hr"].pk
    assert [c["code"] for c in detail["categories"]][:3] == ["1.1", "1.2", "1.3"]
    expected = data.expected_report(gap["cycle"])
    units = rows(hr.get(url("gap-report-unit-list", run.pk), {"page_size": 200}))
    assert {u["org_unit"] for u in units} == set(expected.summary)
    for unit in units:
        figures = expected.summary[unit["org_unit"]]
        assert {c: unit[c] for c in SUMMARY} == {c: figures[c] for c in SUMMARY}
        assert unit["shapes"]["t"] == figures["shape_t"]

    team_a = gap["org"]["A"]
    report = hr.get(url("gap-report-unit-detail", run.pk, team_a.pk)).json()
    assert report["summary"]["code"] == "A"
    categories = {c.code: c.pk for c in Category.objects.filter(version=gap["cycle"].model_version)}
    for row in report["categories"]:
        figures = expected.categories[(team_a.pk, categories[row["code"]])]
        assert (row["rated"], row["below"], row["priority"]) == (
            figures["rated"],
            figures["below"],
            figures["priority"],
        )
        assert row["distribution"] == [figures[f"level_{n}"] for n in range(1, 6)]
    ranked = sorted((r for r in report["categories"] if r["priority"]), key=lambda r: r["priority"])
    assert report["priorities"] == [r["code"] for r in ranked]

    members = rows(hr.get(url("gap-report-member-list", run.pk, team_a.pk), {"page_size": 200}))
    in_a = {pk: m for pk, m in expected.members.items() if _unit_of(pk) == team_a.pk}
    assert len(members) == len(in_a)
    by_person = {m["person"]["id"]: m for m in members}
    for assessment_pk, figures in in_a.items():
        member = by_person[_person_of(assessment_pk)]
        assert (member["levels"], member["below"], member["shortfall"]) == (
            figures["levels"],
            figures["below"],
            figures["shortfall"],
        )


def _unit_of(assessment_pk):
    from assessments.models import Assessment

    return Assessment.objects.get(pk=assessment_pk).org_unit_id


def _person_of(assessment_pk):
    from assessments.models import Assessment

    return Assessment.objects.get(pk=assessment_pk).person_id


@pytest.mark.django_db
def test_a_head_reads_only_the_units_they_head(gap, run):
    people, org = gap["personas"], gap["org"]
    units = url("gap-report-unit-list", run.pk)
    assert codes(client_for(people["supervisor"]).get(units)) == {"A"}
    assert codes(client_for(people["city_head"]).get(units)) == {"C1", "A", "A2"}
    head_d = org["D"].heads.get()
    assert codes(client_for(head_d).get(units)) == {"D", "B2"}
    supervisor = client_for(people["supervisor"])
    for name in ("gap-report-unit-detail", "gap-report-member-list"):
        assert supervisor.get(url(name, run.pk, org["A"].pk)).status_code == 200
        hidden = supervisor.get(url(name, run.pk, org["P"].pk))
        assert hidden.status_code == 404 and error_of(hidden)["code"] == "not_found"
    assert codes(supervisor.get(units, {"within": org["P"].pk})) == set()
    assert client_for(people["manager"]).get(units).status_code == 403


@pytest.mark.django_db
def test_starting_a_run_checks_its_input(gap, draft_cycle):
    hr = client_for(gap["personas"]["hr"])
    runs = url("gap-report-run-list")
    cycle = gap["cycle"].pk
    for body, field in [
        ({"cycle": cycle, "target_rule": "fixed_grade"}, "target_grade"),
        ({"cycle": cycle, "target_rule": "fixed_grade", "target_grade": "G9"}, "target_grade"),
        ({"cycle": cycle, "status": "succeeded"}, "status"),
        ({"cycle": cycle, "target_rule": "nearest"}, "target_rule"),
    ]:
        response = hr.post(runs, body, format="json")
        assert response.status_code == 400, body
        assert field in error_of(response)["fields"]
    assert not GapReportRun.objects.exists()
    fixed = {"cycle": cycle, "target_rule": "fixed_grade", "target_grade": "G3"}
    first = hr.post(runs, fixed, format="json").json()
    # While it computes, starting the same run again answers the active one.
    assert hr.post(runs, fixed, format="json").json()["id"] == first["id"]
    assert (first["target_rule"], first["target_grade"]) == ("fixed_grade", "G3")
    assert GapReportRun.objects.count() == 1


@pytest.mark.django_db
def test_hr_resumes_a_run_whose_task_never_ran(gap, django_capture_on_commit_callbacks):
    hr = client_for(gap["personas"]["hr"])
    run = services.start_gap_report(cycle=gap["cycle"], by=gap["personas"]["hr"])
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(url("gap-report-run-resume", run.pk))
    assert response.status_code == 200 and response.json()["queued"] == 1
    run.refresh_from_db()
    assert run.status == GapReportRun.Status.SUCCEEDED
    again = hr.post(url("gap-report-run-resume", run.pk)).json()
    assert (again["queued"], again["run"]["status"]) == (0, "succeeded")


# --- exports --------------------------------------------------------------------------------------

MAGIC = {"xlsx": b"PK\x03\x04", "csv": "\ufeff".encode(), "pdf": b"%PDF"}


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv", "pdf"])
def test_hr_exports_a_unit_and_downloads_the_file(
    gap, run, fmt, django_capture_on_commit_callbacks
):
    hr = client_for(gap["personas"]["hr"], "en")
    with django_capture_on_commit_callbacks(execute=True):
        asked = hr.post(
            url("gap-report-unit-export", run.pk, gap["org"]["A"].pk),
            {"format": fmt},
            format="json",
        )
    assert asked.status_code == 202, asked.content
    assert (asked.json()["format"], asked.json()["language"]) == (fmt, "en")
    export = hr.get(url("gap-report-export-detail", asked.json()["id"])).json()
    assert export["status"] == "ready" and export["download"]
    response = hr.get(export["download"], HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        {"xlsx": "application/vnd.openxmlformats", "csv": "text/csv", "pdf": "application/pdf"}[fmt]
    )
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(MAGIC[fmt])
    audited = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT, target_id=str(export["id"]))
    assert audited.actor == gap["personas"]["hr"] and audited.summary.endswith(f".{fmt}")


@pytest.mark.django_db
def test_an_export_not_built_yet_is_a_conflict_and_heads_cannot_export(gap, run):
    hr = client_for(gap["personas"]["hr"])
    team_a = gap["org"]["A"]
    asked = hr.post(
        url("gap-report-unit-export", run.pk, team_a.pk), {"format": "csv"}, format="json"
    )
    assert asked.json()["status"] == "pending" and asked.json()["download"] == ""
    response = hr.get(url("gap-report-export-download", asked.json()["id"]))
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    for body in ({"format": "docx"}, {"format": "csv", "language": "fr"}):
        bad = hr.post(url("gap-report-unit-export", run.pk, team_a.pk), body, format="json")
        assert bad.status_code == 400
    supervisor = client_for(gap["personas"]["supervisor"])
    denied = supervisor.post(
        url("gap-report-unit-export", run.pk, team_a.pk), {"format": "csv"}, format="json"
    )
    assert denied.status_code == 403
    assert supervisor.get(url("gap-report-export-detail", asked.json()["id"])).status_code == 403
    assert GapReportExport.objects.count() == 1


# --- lists ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_member_filters_and_ordering(gap, run):
    hr = client_for(gap["personas"]["hr"])
    members = url("gap-report-member-list", run.pk, gap["org"]["P"].pk)
    everyone = rows(hr.get(members, {"page_size": 200}))
    below = rows(hr.get(members, {"below_min": 1, "page_size": 200}))
    assert below and {m["person"]["id"] for m in below} == {
        m["person"]["id"] for m in everyone if m["below"] >= 1
    }
    completed = rows(hr.get(members, {"status": "completed", "page_size": 200}))
    assert {m["status"] for m in completed} == {"completed"}
    team = rows(hr.get(members, {"org_unit": gap["org"]["B2"].pk, "page_size": 200}))
    assert {m["org_unit"] for m in team} == {gap["org"]["B2"].pk}
    worst = rows(hr.get(members, {"ordering": "-shortfall", "page_size": 1}))[0]
    assert worst["shortfall"] == max(m["shortfall"] for m in everyone)
    assert worst["gaps"] == [
        None if lv is None or t is None else lv - t
        for lv, t in zip(worst["levels"], worst["targets"], strict=True)
    ]
    bad = hr.get(members, {"status": "great", "classification": "O"})
    assert bad.status_code == 400 and {"status", "classification"} <= set(error_of(bad)["fields"])


def _queries(client, path, size) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"page_size": size})
    return len(queries), len(rows(response))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["gap-report-run-list", "gap-report-unit-list", "gap-report-member-list"]
)
def test_list_query_counts_do_not_grow_with_rows(gap, run, name):
    hr = client_for(gap["personas"]["hr"])
    services.start_gap_report(
        cycle=gap["cycle"], by=gap["personas"]["hr"], target_rule="fixed_grade", target_grade="G2"
    )
    args = {"gap-report-run-list": [], "gap-report-unit-list": [run.pk]}.get(
        name, [run.pk, gap["org"]["P"].pk]
    )
    _queries(hr, url(name, *args), 1)  # warm up: one-time lookups are not per-row costs
    small, one = _queries(hr, url(name, *args), 1)
    large, many = _queries(hr, url(name, *args), 200)
    assert (one, small) == (1, large) and many > 1


# --- on a real worker -----------------------------------------------------------------------------


@pytest.fixture
def worker_media(monkeypatch, settings, tmp_path):
    """The worker (started after this fixture) and the test share a temporary MEDIA_ROOT."""
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db(transaction=True)
def test_the_api_queues_the_run_and_the_export_on_a_real_worker(
    api_settings, gap_cycle, gap_org, personas, worker_media, celery_worker
):
    hr = client_for(personas["hr"])
    started = hr.post(url("gap-report-run-list"), {"cycle": gap_cycle.pk}, format="json")
    assert started.status_code == 202
    detail = url("gap-report-run-detail", started.json()["id"])
    wait_for(lambda: hr.get(detail).json()["finished"], timeout=60)
    assert hr.get(detail).json()["status"] == "succeeded"
    asked = hr.post(
        url("gap-report-unit-export", started.json()["id"], gap_org["P"].pk),
        {"format": "xlsx", "language": "zh-hans"},
        format="json",
    )
    export = url("gap-report-export-detail", asked.json()["id"])
    download = wait_for(lambda: hr.get(export).json()["download"], timeout=60)
    response = hr.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(MAGIC["xlsx"])
