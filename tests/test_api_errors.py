"""Every API error has one shape, ``{"error": {"code", "message", "fields"}}``, with the message
in the request's language (Accept-Language)."""

import logging

import pytest
from rest_framework.test import APIClient

from assessments.models import Assessment

from .test_api_support import client_for, error_of, url

pytest_plugins = ["tests.test_api_support"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_client(api_settings, personas):
    return client_for(personas["hr"])


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/api/v1/assessments/?cycle=x", None, 400, "invalid"),
        ("get", "/api/v1/assessments/?page=999", None, 404, "not_found"),
        ("get", "/api/v1/assessments/999999/", None, 404, "not_found"),
        ("get", "/api/v1/no-such-thing/", None, 404, "not_found"),
        ("post", "/api/v1/people/", {}, 405, "method_not_allowed"),
        ("delete", "/api/v1/cycles/1/", None, 405, "method_not_allowed"),
        ("get", "/api/elsewhere", None, 404, "not_found"),
    ],
)
def test_error_shape(hr_client, method, path, body, status, code):
    response = getattr(hr_client, method)(path, body, format="json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert error_of(response)["code"] == code


def test_unparsable_json_is_400_parse_error(hr_client):
    response = hr_client.post(url("cycle-list"), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_unsupported_media_type_is_415(hr_client):
    response = hr_client.post(url("cycle-list"), "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_validation_errors_name_their_fields(hr_client, model_version):
    response = hr_client.post(
        url("cycle-list"),
        {"name": "", "model_version": 999, "self_deadline": "2026-12-31"},
        format="json",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert {"name", "model_version", "review_deadline"} <= set(error["fields"])
    assert all(isinstance(v, list) and v for v in error["fields"].values())


def test_workflow_conflict_is_409(hr_client, open_cycle):
    response = hr_client.post(url("cycle-open", open_cycle.pk))
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert error["fields"] == {}


@pytest.mark.parametrize(
    ("language", "message", "field_message"),
    [
        ("en", "Only draft assessment cycles can be started.", "This field is required."),
        ("zh-hans", "只有草稿状态的评估周期可以开始。", "该字段是必填项。"),
    ],
)
def test_messages_follow_accept_language(
    api_settings, personas, open_cycle, language, message, field_message
):
    client = client_for(personas["hr"], language=language)
    assert error_of(client.post(url("cycle-open", open_cycle.pk)))["message"] == message
    invalid = error_of(client.post(url("cycle-list"), {}, format="json"))
    assert invalid["fields"]["name"] == [field_message]


def test_without_accept_language_messages_are_chinese(api_settings, personas, open_cycle):
    response = client_for(personas["hr"]).post(url("cycle-open", open_cycle.pk))
    assert error_of(response)["message"] == "只有草稿状态的评估周期可以开始。"


def test_stale_message_is_translated(api_settings, personas, open_cycle):
    own = Assessment.objects.get(cycle=open_cycle, person=personas["manager"])
    client = client_for(personas["manager"], language="en")
    body = {"revision": own.revision + 5}
    response = client.post(url("assessment-self", own.pk), body, format="json")
    error = error_of(response)
    assert (response.status_code, error["code"]) == (409, "stale")
    assert error["message"].startswith("This assessment has been changed")


def test_unexpected_errors_are_500_json_and_logged(
    api_settings, personas, open_cycle, monkeypatch, caplog
):
    from assessments import services

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "submit_self_assessment", broken)
    own = Assessment.objects.get(cycle=open_cycle, person=personas["manager"])
    client = client_for(personas["manager"])
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(url("assessment-submit", own.pk), {"revision": 0}, format="json")
    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert "boom" not in response.content.decode()
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


def test_schema_and_docs_need_sign_in(api_settings, personas):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    response = APIClient().get("/api/docs/")
    assert response.status_code == 401
    assert b"swagger-ui" not in response.content
