"""A real Celery worker process for the tests that need one (broker: the local Redis).

The worker runs ``config.settings_test`` against the same test database as the test (the test
must use ``transaction=True`` so its rows are committed and visible), and writes e-mails to files.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
QUEUES = "default,reports,mail"


def _broker() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        pytest.fail("These tests need Redis: run them with REDIS_URL set (make test does).")
    return url


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A running ``celery worker`` subprocess; ``kill()`` sends SIGKILL like a crashed machine."""

    def __init__(self, mail_dir: Path, log_path: Path):
        self.mail_dir = mail_dir
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self):
        from config.celery_app import app

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": _broker(),
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND or _broker(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                QUEUES,
                "--pool=solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"The Celery worker exited at start:\n{self.log_path.read_text()[-3000:]}"
                )
            if app.control.ping(timeout=0.5):
                return self
        pytest.fail("The Celery worker did not answer a ping within 60 s.")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker(tmp_path):
    """A real worker on the local Redis; tasks queued by the test go to it (not eager)."""
    from config.celery_app import app

    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    # Messages left by an earlier run must not reach this worker.
    with app.connection_for_write() as conn:
        for queue in QUEUES.split(","):
            conn.default_channel.queue_purge(queue)
    worker = Worker(tmp_path / "mail", tmp_path / "worker.log")
    try:
        yield worker.start()
    finally:
        worker.stop()
        app.conf.task_always_eager = was_eager


def wait_for(predicate, timeout: float = 30, interval: float = 0.2):
    """Poll until ``predicate()`` is truthy; return its value or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {predicate}")
