"""Settings from the environment: embedded default, PostgreSQL by URL, production refusal."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), 'debug': settings.DEBUG, "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'tz': settings.TIME_ZONE, 'lang': settings.LANGUAGE_CODE, "
    "'languages': [code for code, _ in settings.LANGUAGES]}))"
)


def probe(**env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "TSHAPE_ENV",
            "SECRET_KEY",
            "DEBUG",
        }
    }
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_database_url_means_the_embedded_sqlite_default():
    result = probe()
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].startswith(str(ROOT))
    assert values["debug"] is True
    assert values["eager"] is True and values["broker"] == ""
    assert values["tz"] == "Asia/Shanghai" and values["lang"] == "zh-hans"
    assert values["languages"] == ["zh-hans", "en"]


def test_database_and_redis_urls_select_postgresql_and_a_real_broker():
    result = probe(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/tshape",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://127.0.0.1:6379/3" and values["eager"] is False


def test_production_refuses_to_start_without_a_real_secret():
    result = probe(TSHAPE_ENV="production", ALLOWED_HOSTS="tshape.example.com")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    result = probe(TSHAPE_ENV="production", SECRET_KEY="short")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    result = probe(TSHAPE_ENV="production", SECRET_KEY="x" * 20 + "-production-secret-" + "y" * 20)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is False


def test_an_unknown_mode_is_refused():
    result = probe(TSHAPE_ENV="staging")
    assert result.returncode != 0 and "TSHAPE_ENV" in result.stderr


def test_an_eager_task_without_a_broker_runs_quietly():
    """make run has no broker: tasks run in the process, with no warning per call about a missing
    broker host (Celery still takes a producer for an eager call)."""
    code = "\n".join(
        [
            "import django",
            "django.setup()",
            "from config.celery_app import app",
            "def add(a, b):",
            "    return a + b",
            "task = app.task(name='probe.add')(add)",
            "print(task.delay(2, 3).get(), app.conf.broker_url)",
        ]
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "TSHAPE_ENV"}
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["5", "memory://localhost/"]
    assert "No hostname" not in result.stderr, result.stderr
