"""Schemathesis against our own /api/schema/: every operation, with a token per role (manager,
supervisor, HR, admin), bounded examples. Checks: no server errors, no ignored authentication,
status codes, content types and bodies conform to the schema.

The Django WSGI application is called in-process inside the test's transaction, so Django must
not close the connection at the end of each request (the test client avoids that the same way).
"""

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db

ROLES = ("manager", "supervisor", "hr", "admin")
# Fixed keys, so a token revoked by one generated request is put back before the next.
KEYS = {role: f"schemathesis{role}".ljust(40, "0") for role in ROLES}
CHECKS = [
    not_a_server_error,
    ignored_auth,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 15
# The coverage phase sends a few hundred boundary cases per write operation: minutes per run with
# four roles. Bounded random examples (fuzzing) keep the run under two minutes.
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
    }
)


@pytest.fixture
def connection_kept():
    """Keep the test's connection (and transaction) across in-process WSGI requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def restore_tokens(personas):
    for role in ROLES:
        user = personas[role]
        Token.objects.filter(user=user).exclude(key=KEYS[role]).delete()
        Token.objects.get_or_create(key=KEYS[role], defaults={"user": user})


def schema_document() -> dict:
    """The document /api/schema/ serves (``test_served_schema_is_the_tested_one`` proves it),
    generated without a request: the schema is loaded at collection time, before any database."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


# schemathesis.pytest.from_fixture() would load it from a fixture instead, but its lazy loader
# writes ``request.node._nodeid``, which pytest 9.2 no longer has; every operation then becomes a
# test item of its own with a fresh database, which isolates the operations better anyway.
schema = schemathesis.openapi.from_dict(schema_document(), config=CONFIG)
schema.app = WSGIHandler()


@pytest.fixture
def tokens(world, connection_kept):
    restore_tokens(world["personas"])
    return world


def test_served_schema_is_the_tested_one(world):
    from .test_api_support import client_for

    served = client_for(world["personas"]["manager"]).get("/api/schema/", {"format": "json"})
    assert served.json() == schema_document()


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, tokens):
    for role in ROLES:
        restore_tokens(tokens["personas"])
        case.call_and_validate(headers={"Authorization": f"Token {KEYS[role]}"}, checks=CHECKS)
