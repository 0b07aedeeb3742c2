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

ROLES = [
    "anonymous",
    "manager",
    "outsider",
    "supervisor",
    "city_head",
    "outsider_supervisor",
    "hr",
    "admin",
]


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
