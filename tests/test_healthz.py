"""/healthz: database, redis, celery and migrations, each "ok" or an error; 503 when one is down;
answered for any Host and over plain HTTP; cheap (the worker ping is cached)."""

import time

import pytest
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from config import health

pytestmark = pytest.mark.django_db

PARTS = ["database", "redis", "celery", "migrations"]
CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def fresh_cache():
    health.clear_cache()
    yield
    health.clear_cache()


@pytest.fixture
def no_worker(settings, monkeypatch):
    """A broker is configured; the ping finds nobody (as when every worker is stopped)."""
    monkeypatch.setattr(health, "CELERY_PING_TIMEOUT", 0.3)
    settings.CELERY_BROKER_URL = settings.CELERY_BROKER_URL or "redis://127.0.0.1:6379/15"


def get(client, url="/healthz", **headers):
    response = client.get(url, **headers)
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return response


def test_every_part_ok_with_a_real_worker(client, celery_worker):
    response = get(client)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": dict.fromkeys(PARTS, "ok")}


def test_no_worker_answering_is_503_naming_celery(client, no_worker):
    response = get(client)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["celery"] == "error: no worker answered within 0.3 s"
    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "ok"


def test_redis_down_is_503_and_answers_quickly(client, settings):
    settings.REDIS_URL = CLOSED
    settings.CELERY_BROKER_URL = CLOSED
    started = time.monotonic()
    body = get(client).json()
    assert time.monotonic() - started < 5, "a dead broker must not hang the probe"
    assert body["checks"]["redis"].startswith("error: ")
    assert body["checks"]["celery"].startswith("error: ")


def test_database_down_is_503(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = get(client, "/healthz?checks=database,migrations")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "error: OperationalError",
        "migrations": "error: OperationalError",
    }


def test_an_unapplied_migration_is_503(client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("m", False)])
    response = get(client, "/healthz?checks=migrations")
    assert response.status_code == 503
    assert response.json()["checks"] == {"migrations": "error: 1 unapplied migration(s)"}


def test_error_texts_name_no_host_or_secret(client, settings):
    settings.REDIS_URL = "redis://:s3cret@127.0.0.1:1/0"
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    text = get(client).content.decode()
    assert "s3cret" not in text and "127.0.0.1" not in text


def test_without_a_broker_redis_and_celery_are_disabled_and_healthy(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    response = get(client)
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "redis": "disabled",
        "celery": "disabled",
        "migrations": "ok",
    }


def test_the_worker_ping_is_cached_for_a_few_seconds(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = settings.CELERY_BROKER_URL or "redis://127.0.0.1:6379/15"
    calls = []
    monkeypatch.setattr(health, "_ping_workers", lambda: calls.append(1) or "ok")
    for _ in range(3):
        get(client, "/healthz?checks=celery")
    assert len(calls) == 1
    monkeypatch.setattr(health, "CELERY_CACHE_SECONDS", 0)
    health.clear_cache()
    get(client, "/healthz?checks=celery")
    get(client, "/healthz?checks=celery")
    assert len(calls) == 3


def test_a_subset_of_checks_and_unknown_names(client):
    response = get(client, "/healthz?checks=database")
    assert response.status_code == 200 and response.json()["checks"] == {"database": "ok"}
    response = get(client, "/healthz?checks=database,disk")
    assert response.status_code == 400 and response.json()["unknown_checks"] == ["disk"]


def test_answers_any_host_and_plain_http_under_production_transport(client, settings):
    settings.ALLOWED_HOSTS = ["tshape.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = get(client, "/healthz?checks=database", HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    # The rest of the site keeps both rules.
    assert client.get("/login/", HTTP_HOST="10.0.3.7:8000").status_code == 400
    login = client.get("/login/", HTTP_HOST="tshape.example.com")
    assert login.status_code == 301 and login["Location"].startswith("https://")


def test_post_is_not_answered_by_the_probe_shortcut(client):
    assert client.post("/healthz").status_code == 405
