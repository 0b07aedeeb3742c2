"""Fixtures and helpers shared by the API tests (this module holds no tests of its own).

Clients authenticate with real tokens (``Authorization: Token …``) so the authentication path
under test is the one integrations use; the error handler is switched on the way
``config/settings.py`` will switch it on.
"""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assessments.models import Assessment
from competency.models import ModelVersion
from competency.services import create_draft_from

from .assessment_helpers import submit
from .factories import UserFactory

API_SETTINGS = {"EXCEPTION_HANDLER": "config.api.exception_handler", "DEFAULT_VERSION": "v1"}


@pytest.fixture
def api_settings(settings):
    """The REST settings production will run (error handler, default version)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, **API_SETTINGS}
    return settings


def url(name: str, *args) -> str:
    return reverse(f"v1:{name}", args=args)


def client_for(user=None, language: str | None = None) -> APIClient:
    """A client holding ``user``'s API token (anonymous without a user)."""
    client = APIClient()
    headers = {}
    if user is not None:
        token, _created = Token.objects.get_or_create(user=user)
        headers["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    if language:
        headers["HTTP_ACCEPT_LANGUAGE"] = language
    client.credentials(**headers)
    return client


def ids(response) -> set:
    """The ids (or version numbers) of one page of a list answer."""
    assert response.status_code == 200, response.content
    return {row.get("id", row.get("number")) for row in response.json()["results"]}


def error_of(response) -> dict:
    """The ``error`` object of an answer, checking the stable shape on the way."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "fields"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error


@pytest.fixture
def world(api_settings, open_cycle, personas, org, model_version):
    """An open cycle over the province; a colleague of the manager has submitted; a draft model
    version exists; ``extra`` is an active person in team A who is not a participant yet."""
    colleague = UserFactory(username="colleague", org_unit=org["A"], roles=["manager"])
    from assessments.services import add_participants

    add_participants(cycle=open_cycle, people=[colleague], by=personas["hr"])
    submitted = submit(Assessment.objects.get(cycle=open_cycle, person=colleague))
    draft = create_draft_from(source=model_version, by=personas["admin"])
    extra = UserFactory(username="extra", org_unit=org["A"])
    return {
        "personas": personas,
        "org": org,
        "cycle": open_cycle,
        "own": Assessment.objects.get(cycle=open_cycle, person=personas["manager"]),
        "submitted": submitted,
        "colleague": colleague,
        "version": model_version,
        "draft": draft,
        "extra": extra,
    }


def persona(world, role):
    return None if role == "anonymous" else world["personas"][role]


def assessment_of(world, username: str) -> Assessment:
    return Assessment.objects.get(cycle=world["cycle"], person__username=username)


def published_versions() -> set:
    return set(ModelVersion.objects.exclude(status="draft").values_list("number", flat=True))


# --- certification, gap reports and calibration ---------------------------------------------------


def completed_in(cycle, person, by, level=3) -> Assessment:
    """``person``'s assessment of ``cycle``, self-assessed and completed by ``by`` at ``level``
    (finance depth 4: every category at 3 qualifies for G4)."""
    from .assessment_helpers import complete

    return complete(submit(Assessment.objects.get(cycle=cycle, person=person)), by, level)


def apply_for(cycle, person, grade: str):
    from assessments.certification import services as certification

    assessment = Assessment.objects.get(cycle=cycle, person=person)
    return certification.apply_for_certification(assessment=assessment, grade_code=grade, by=person)


def approve(application, by):
    from assessments.certification import services as certification

    return certification.approve_application(application=application, by=by)


def results_cycle(world):
    """A second cycle over the province, opened (the first one's assessments stay untouched)."""
    from datetime import date

    from assessments.models import Cycle
    from assessments.services import open_cycle

    hr = world["personas"]["hr"]
    cycle = Cycle.objects.create(
        name="2026 年中评估",
        model_version=world["version"],
        self_deadline=date(2026, 12, 20),
        review_deadline=date(2026, 12, 30),
        created_by=hr,
    )
    cycle.participant_units.add(world["org"]["P"])
    open_cycle(cycle=cycle, by=hr)
    return cycle


@pytest.fixture
def feature_world(world, settings, tmp_path, django_capture_on_commit_callbacks):
    """``world`` plus a second cycle with results, and what certification, gap reports and
    calibration make of them:

    * completed: the manager and the colleague (by the supervisor), the supervisor (by the city
      head), the outsider (by the outsider's supervisor), all at level 3 (G4);
    * the manager holds a G3 certificate and has a G4 application waiting for HR
      (``awaiting_hr``); the colleague's G4 application waits for the supervisor
      (``awaiting_supervisor``); the outsider holds a G4 certificate;
    * a finished gap report run over the cycle with a CSV export of team A (files under a
      temporary MEDIA_ROOT), and a queued run (fixed grade G2) whose task was never sent;
    * HR's calibration sessions of team A and team B.
    """
    from assessments.calibration import services as calibration
    from assessments.certification import services as certification
    from assessments.gap_reports import services as gap_reports
    from assessments.models import GapReportRun

    settings.MEDIA_ROOT = tmp_path
    people, org = world["personas"], world["org"]
    hr, supervisor, outsider_supervisor = (
        people["hr"],
        people["supervisor"],
        people["outsider_supervisor"],
    )
    cycle = results_cycle(world)
    done = {
        "manager": completed_in(cycle, people["manager"], supervisor),
        "colleague": completed_in(cycle, world["colleague"], supervisor),
        "supervisor": completed_in(cycle, supervisor, people["city_head"]),
        "outsider": completed_in(cycle, people["outsider"], outsider_supervisor),
    }
    own_certificate = certification.confirm_application(
        application=approve(apply_for(cycle, people["manager"], "G3"), supervisor), by=hr
    )
    outsider_certificate = certification.confirm_application(
        application=approve(apply_for(cycle, people["outsider"], "G4"), outsider_supervisor),
        by=hr,
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = gap_reports.start_gap_report(cycle=cycle, by=hr)
    run.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        export = gap_reports.request_export(
            run=run, unit=org["A"], file_format="csv", language="zh-hans", by=hr
        )
    return {
        **world,
        "results": cycle,
        "done": done,
        "own_certificate": own_certificate,
        "outsider_certificate": outsider_certificate,
        "awaiting_hr": approve(apply_for(cycle, people["manager"], "G4"), supervisor),
        "awaiting_supervisor": apply_for(cycle, world["colleague"], "G4"),
        "run": run,
        "export": export,
        "queued_run": gap_reports.start_gap_report(
            cycle=cycle,
            by=hr,
            target_rule=GapReportRun.TargetRule.FIXED_GRADE,
            target_grade="G2",
        ),
        "session_a": calibration.open_session(cycle=cycle, unit=org["A"], by=hr),
        "session_b": calibration.open_session(cycle=cycle, unit=org["B"], by=hr),
    }
