"""Production configuration: ``check --deploy`` clean, transport security, JSON logs with request
ids, gunicorn's settings, and prod_down stopping exactly what prod_up started."""

import io
import json
import logging
import os
import runpy
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.logging import (
    TASK_HEADER,
    JsonFormatter,
    RequestIdFilter,
    add_request_id_header,
    bind_task_request_id,
    logging_config,
    request_id_var,
    unbind_task_request_id,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = secrets.token_urlsafe(50)


def example_env() -> dict[str, str]:
    """The environment an operator gets from ``cp .env.example .env`` plus a real secret."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    values["SECRET_KEY"] = SECRET
    return values


def clean_env(**values) -> dict[str, str]:
    """This process's environment without any of our settings, plus ``values``."""
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' switch, never a deployment's.
    documented = set(example_env()) | {"TSHAPE_ENV", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in documented}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **values)
    return env


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_configuration():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=clean_env(**example_env()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PROBE = (
    "import json, django; from django.conf import settings as s; django.setup(); "
    "print(json.dumps({'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'proxy': list(s.SECURE_PROXY_SSL_HEADER), "
    "'cookies': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE], 'debug': s.DEBUG, "
    "'exempt': s.SECURE_REDIRECT_EXEMPT, 'health': s.DATABASES['default']['CONN_HEALTH_CHECKS'],"
    " 'timeout': s.DATABASES['default']['OPTIONS']['connect_timeout'], "
    "'visibility': s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], "
    "'middleware': s.MIDDLEWARE[:2]}))"
)


def test_production_defaults_harden_transport_behind_the_proxy():
    env = clean_env(
        TSHAPE_ENV="production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="tshape.example.com",
        DATABASE_URL="postgres://tshape@db:5432/tshape",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["redirect"] is True and values["debug"] is False
    assert values["hsts"] == 31536000 and values["sub"] is True
    assert values["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["cookies"] == [True, True]
    assert values["exempt"] == [r"^healthz$"]
    assert values["health"] is True and values["timeout"] == 5
    assert values["visibility"] == 3600
    assert values["middleware"] == [
        "config.middleware.RequestIdMiddleware",
        "config.middleware.HealthCheckMiddleware",
    ]


@pytest.mark.django_db
def test_pgoptions_reach_the_applications_connections():
    """docker-compose.yml runs migrations with PGOPTIONS=-c lock_timeout=10s (docs/operations.md)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('SHOW lock_timeout'); print(c.fetchone()[0])"
    )
    env = clean_env(DATABASE_URL=url, PGOPTIONS="-c lock_timeout=7s")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "7s", result.stderr


# --- logs and request ids ----------------------------------------------------------------------


@pytest.fixture
def json_log():
    """Records of our loggers, formatted as production formats them (LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


@pytest.mark.django_db
def test_the_request_id_is_taken_returned_and_in_every_record(client, json_log):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="proxy-7f3a")
    assert response.status_code == 404 and response["X-Request-ID"] == "proxy-7f3a"
    records = [r for r in json_log() if r["logger"] in {"tshape.request", "django.request"}]
    assert {r["logger"] for r in records} == {"tshape.request", "django.request"}
    assert all(r["request_id"] == "proxy-7f3a" for r in records), records
    access = next(r for r in records if r["logger"] == "tshape.request")
    assert access["method"] == "GET" and access["path"] == "/no-such-page/"
    assert access["status"] == 404 and access["duration_ms"] >= 0 and access["user_id"] is None


@pytest.mark.django_db
def test_an_unusable_request_id_is_replaced(client):
    for offered in ("", "has spaces", "x" * 200, "line\nbreak"):
        got = client.get("/healthz?checks=database", HTTP_X_REQUEST_ID=offered)["X-Request-ID"]
        assert got != offered and len(got) == 32, offered
    first = client.get("/healthz?checks=database")["X-Request-ID"]
    assert first != client.get("/healthz?checks=database")["X-Request-ID"]


def test_json_lines_carry_extras_and_exceptions(json_log):
    log = logging.getLogger("tshape.test")
    token = request_id_var.set("r-1")
    try:
        log.warning("report %s", "北京", extra={"run_id": 7})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        request_id_var.reset(token)
    first, second = [r for r in json_log() if r["logger"] == "tshape.test"]
    assert first["message"] == "report 北京" and first["run_id"] == 7
    assert first["request_id"] == "r-1" and first["level"] == "WARNING"
    assert first["time"].endswith("+00:00")
    assert "ValueError: boom" in second["exception"]


def test_log_format_is_checked():
    assert logging_config(fmt="json")["formatters"]["json"]["()"] is JsonFormatter
    assert "request_id" in logging_config(fmt="plain")["formatters"]["plain"]["format"]
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(fmt="xml")


def test_a_task_carries_the_request_id_of_who_queued_it():
    class Task:
        class request:  # noqa: N801 - Celery's attribute name
            tshape_request_id = None

    headers = {}
    add_request_id_header(headers=headers)
    assert headers == {}  # outside a request nothing is added
    token = request_id_var.set("req-9")
    try:
        add_request_id_header(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {TASK_HEADER: "req-9"}
    Task.request.tshape_request_id = headers[TASK_HEADER]
    bind_task_request_id(task_id="task-1", task=Task)
    assert request_id_var.get() == "req-9"
    Task.request.tshape_request_id = None
    bind_task_request_id(task_id="task-2", task=Task)
    assert request_id_var.get() == "task-2"  # queued by beat or a command: the task's own id
    unbind_task_request_id()
    assert request_id_var.get() == "-"


# --- gunicorn -------------------------------------------------------------------------------------


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:8000")
    monkeypatch.setenv("GUNICORN_WORKERS", "4")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "")
    monkeypatch.setenv("LOG_FORMAT", "json")
    values = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert values["bind"] == "0.0.0.0:8000" and values["workers"] == 4
    assert values["timeout"] == 60 and values["accesslog"] is None
    assert values["logconfig_dict"]["formatters"]["json"]["()"] is JsonFormatter
    monkeypatch.delenv("GUNICORN_BIND")
    assert runpy.run_path(str(ROOT / "config" / "gunicorn.py"))["bind"] == "127.0.0.1:8000"


# --- the scripts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("script", ["prod_up.sh", "prod_down.sh", "prod_manage.sh", "prod_lib.sh"])
def test_scripts_parse(script):
    result = subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], capture_output=True)
    assert result.returncode == 0, result.stderr


def test_prod_down_stops_what_prod_up_started_and_nothing_else(tmp_path):
    prod_dir = tmp_path / "prod"
    (prod_dir / "run").mkdir(parents=True)
    marker = {**os.environ, "TSHAPE_PROD_DIR": str(prod_dir)}
    ours = subprocess.Popen(["sleep", "60"], env=marker, start_new_session=True)
    other_stack = subprocess.Popen(
        ["sleep", "60"], env={**os.environ, "TSHAPE_PROD_DIR": str(tmp_path / "other")}
    )
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (prod_dir / "run" / "web.pid").write_text(f"{ours.pid}\n")
        (prod_dir / "run" / "worker.pid").write_text(f"{other_stack.pid}\n")
        (prod_dir / "run" / "beat.pid").write_text(f"{stranger.pid}\n")
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "prod_down.sh")],
            env={**os.environ, "PROD_DIR": str(prod_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert ours.wait(timeout=10) == -signal.SIGTERM
        time.sleep(0.2)
        assert other_stack.poll() is None and stranger.poll() is None
        assert not list((prod_dir / "run").glob("*.pid"))
        assert "web: stopped" in result.stdout and "stale PID file removed" in result.stdout
    finally:
        for process in (ours, other_stack, stranger):
            process.kill()
            process.wait()


def test_prod_db_refuses_to_drop_shared_databases():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    base = url.rsplit("/", 1)[0]
    result = subprocess.run(
        [sys.executable, "scripts/prod_db.py", "drop", f"{base}/postgres"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "refusing" in result.stderr
