"""Fault drills against real processes: gunicorn and Celery workers, PostgreSQL and Redis servers.

The drills stop and restart servers, so they never touch the machine's shared PostgreSQL and
Redis, which other test runs (and other people) use at the same moment: each drill starts a private
server of the same build on a free port (``redis-server`` with the append-only file that
docker-compose.yml gives Redis; a PostgreSQL cluster made with ``initdb``), breaks it the way an
operator's restart would, and leaves nothing behind. The application processes are real too:
gunicorn (``config/gunicorn.py``) and ``celery worker`` subprocesses in their own process groups.

The drill task below is imported by the workers (``--include``); it records each attempt and writes
its result under a unique key, the way every task of ours must be idempotent.
"""

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from glob import glob
from pathlib import Path

import pytest
from celery import shared_task
from django.db import connection

from . import test_gap_report_fixtures as gap_data

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger("tests.drills")
gap_org, gap_cycle = gap_data.gap_org, gap_data.gap_cycle
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


# --- the drill task (runs in the worker processes) -------------------------------------------

if os.environ.get("TSHAPE_DRILL_WORKER"):
    # Test-only acceleration, like the drills' short visibility timeouts: kombu looks for tasks
    # whose worker died every ~100 s by default (10 s × every 10th sweep); here every second.
    from config.celery_app import app as _app

    _app.conf.broker_transport_options = {
        **_app.conf.broker_transport_options,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }


@shared_task(name="drills.record", acks_late=True)
def record(key: str, seconds: float = 0.0) -> str:
    """Note the attempt, work for ``seconds``, store the result once under ``key``."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO drill_attempt (key, pid) VALUES (%s, %s)", [key, os.getpid()])
    logger.info("drill task %s started", key)
    time.sleep(seconds)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO drill_result (key) VALUES (%s) ON CONFLICT DO NOTHING", [key])
    return key


# --- helpers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def get_json(url: str):
    """(status, body) of a GET; (None, reason) when nothing answers."""
    import json

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError as exc:
        return None, str(exc)


def database_url(name: str | None = None, port: int | None = None) -> str:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}@{host}:{port or db['PORT'] or 5432}/{name or db['NAME']}"


class Process:
    """A subprocess in a process group of its own, so that it and its children stop together."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path):
        self.name, self.command, self.env, self.log = name, command, env, log
        self.proc: subprocess.Popen | None = None

    def start(self):
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, sig):
        if self.alive():
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 20):
        if not self.alive():
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def kill(self):
        """SIGKILL to the whole group: what a lost machine looks like to the others."""
        self.signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def app_env(*, database: str, redis_url: str, tmp: Path, **extra) -> dict:
    """The environment of the drill's app processes: the real settings module in test mode (plain
    static files, the test database's users) with a real broker and persistent connections."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "GUNICORN_", "PYTEST"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        TSHAPE_ENV="test",
        DATABASE_URL=database,
        CONN_MAX_AGE="60",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp / "mail"),
        LOG_FORMAT="json",
        **extra,
    )
    return env


def start_web(env: dict, tmp: Path, workers: int = 2) -> tuple[Process, str]:
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
    command = [sys.executable, "-m", "gunicorn", "--config=config/gunicorn.py"]
    web = Process("web", [*command, "config.wsgi:application"], env, tmp / f"web-{port}.log")
    web.start()
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: get_json(f"{base}/healthz")[0] or not web.alive(), 60, "gunicorn")
    assert web.alive(), web.tail()
    return web, base


def start_worker(env: dict, tmp: Path, name: str) -> Process:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        "default,reports,mail",
        "--concurrency=2",
        "--include=tests.test_fault_drills",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
        "-n",
        f"{name}-{time.monotonic_ns()}@%h",
    ]
    env = {**env, "TSHAPE_DRILL_WORKER": "1"}
    worker = Process(name, command, env, tmp / f"{name}.log").start()
    wait_until(lambda: "ready." in worker.tail() or not worker.alive(), 60, "the worker")
    assert worker.alive(), worker.tail()
    return worker


# --- private servers ----------------------------------------------------------------------------


class PrivateRedis:
    """redis-server on a free port, append-only file on (as in docker-compose.yml)."""

    def __init__(self, directory: Path):
        self.dir, self.port = directory, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        # The machine's start command (python-svc page), with the append-only file on.
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.port)]
            + ["--save", "", "--appendonly", "yes", "--dir", str(self.dir)]
            + ["--logfile", str(self.dir / "redis.log"), "--pidfile", str(self.dir / "redis.pid")],
            check=True,
        )
        wait_until(self.up, 20, "redis-server")

    def up(self) -> bool:
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return result.stdout.strip() == "PONG"

    def shutdown(self):
        # The machine's restart command; the append-only file keeps what was queued.
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], check=False)
        wait_until(lambda: not self.up(), 20, "redis-server to stop")


class PrivatePostgres:
    """A PostgreSQL cluster of the machine's build in a temporary folder, on a free port."""

    def __init__(self):
        bins = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            pytest.fail("PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin).")
        self.bin = Path(bins[-1]).parent
        # Outside pytest's private tmp folder: the server runs as the postgres user.
        self.dir = Path(tempfile.mkdtemp(prefix="tshape-pgdrill-"))
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def pg_ctl(self, *args):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data")]
            + ["-l", str(self.dir / "server.log"), "-o", options, "-w", "-t", "30", *args],
            check=True,
            capture_output=True,
        )

    def create(self):
        subprocess.run(
            [*self.as_user, str(self.bin / "initdb"), "-D", str(self.dir / "data")]
            + ["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        self.pg_ctl("start")
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "drill"],
            check=True,
        )

    def destroy(self):
        if (self.dir / "data" / "postmaster.pid").exists():
            self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def drill_dir():
    """A folder of our own for the servers' files and the processes' logs: pytest's shared base
    folder keeps only the last three runs, and another run on the machine may prune it while a
    drill's Redis still writes there."""
    path = Path(tempfile.mkdtemp(prefix="tshape-drill-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def drill_tables(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS drill_result (key text PRIMARY KEY, at timestamptz "
            "NOT NULL DEFAULT now()); CREATE TABLE IF NOT EXISTS drill_attempt (key text NOT NULL,"
            " pid integer NOT NULL, at timestamptz NOT NULL DEFAULT now());"
            "TRUNCATE drill_result, drill_attempt;"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS drill_result, drill_attempt")


def rows(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key FROM {table} ORDER BY key")  # noqa: S608 - our two tables
        return [key for (key,) in cursor.fetchall()]


@pytest.fixture
def redis_server(drill_dir):
    server = PrivateRedis(drill_dir)
    server.start()
    yield server
    subprocess.run(["redis-cli", "-p", str(server.port), "shutdown", "nosave"], check=False)


@pytest.fixture
def processes():
    """Every process a drill starts is stopped afterwards, whatever happened."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()
        # Captured output: pytest shows it only when the drill failed.
        print(f"--- {process.name} ({process.log.name}) ---\n{process.tail()}")


@pytest.fixture
def send(redis_server):
    """Queue the drill task on the private broker, with the project's publish retry policy."""
    from celery import Celery
    from django.conf import settings

    app = Celery("drills", broker=redis_server.url, set_as_current=False)
    app.conf.task_default_queue = "default"

    def send_record(key: str, seconds: float = 0.0):
        return app.send_task(
            "drills.record",
            args=(key, seconds),
            retry=True,
            retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
        )

    yield send_record
    app.close()


# --- the drills ---------------------------------------------------------------------------------


def test_postgresql_restart_healthz_503_then_recovers_without_app_restart(
    drill_dir, redis_server, processes
):
    postgres = PrivatePostgres()
    try:
        postgres.create()
        env = app_env(
            database=database_url("drill", postgres.port), redis_url=redis_server.url, tmp=drill_dir
        )
        migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(migrate, cwd=ROOT, env=env, check=True, timeout=120)
        processes.append(start_worker(env, drill_dir, "pgdrill-worker"))
        # One gunicorn worker: its persistent connection is the one the restart breaks.
        web, base = start_web(env, drill_dir, workers=1)
        processes.append(web)
        wait_until(lambda: get_json(f"{base}/healthz")[0] == 200, 30, "a healthy app")

        postgres.pg_ctl("-m", "fast", "stop")
        status, body = get_json(f"{base}/healthz")
        assert status == 503, body
        assert body["checks"]["database"].startswith("error"), body
        assert body["checks"]["redis"] == "ok" and body["checks"]["celery"] == "ok", body

        postgres.pg_ctl("start")
        status, body = wait_until(
            lambda: (r := get_json(f"{base}/healthz"))[0] == 200 and r, 30, "recovery"
        )
        assert body["checks"] == dict.fromkeys(("database", "redis", "celery", "migrations"), "ok")
        assert web.alive(), "gunicorn must not have been restarted"
    finally:
        postgres.destroy()


def test_redis_restart_mid_run_loses_nothing(
    drill_dir, redis_server, drill_tables, send, processes
):
    env = app_env(database=database_url(), redis_url=redis_server.url, tmp=drill_dir)
    env["CELERY_VISIBILITY_TIMEOUT"] = "5"
    worker = start_worker(env, drill_dir, "redisdrill-worker")
    processes.append(worker)
    web, base = start_web(env, drill_dir)
    processes.append(web)

    first = [f"a{i:02d}" for i in range(30)]
    for key in first:
        send(key, 0.1)
    wait_until(lambda: len(rows("drill_result")) >= 5, 30, "the run to start")

    redis_server.shutdown()
    status, body = get_json(f"{base}/healthz")
    assert status == 503 and body["checks"]["redis"].startswith("error"), body
    # Tasks queued while Redis is down wait in the publisher's retries, not in a lost request.
    late = [f"b{i:02d}" for i in range(10)]
    sender = threading.Thread(target=lambda: [send(key) for key in late])
    sender.start()
    time.sleep(1.5)
    redis_server.start()
    sender.join(timeout=30)
    assert not sender.is_alive()

    expected = sorted(first + late)
    wait_until(lambda: rows("drill_result") == expected, 90, "every task's result")
    assert worker.alive(), "the worker reconnects by itself"
    wait_until(lambda: get_json(f"{base}/healthz")[0] == 200, 30, "healthz to recover")


def test_worker_killed_mid_task_the_task_completes_once(
    drill_dir, redis_server, drill_tables, send, processes
):
    env = app_env(database=database_url(), redis_url=redis_server.url, tmp=drill_dir)
    # Above the task's 2 s, as CELERY_VISIBILITY_TIMEOUT must exceed the longest task.
    env["CELERY_VISIBILITY_TIMEOUT"] = "4"
    first = start_worker(env, drill_dir, "killdrill-first")
    processes.append(first)
    send("slow", 2.0)
    wait_until(lambda: rows("drill_attempt"), 30, "the task to start")

    first.kill()
    assert rows("drill_result") == []
    second = start_worker(env, drill_dir, "killdrill-second")
    processes.append(second)
    wait_until(lambda: rows("drill_result") == ["slow"], 60, "the redelivered task")
    assert len(rows("drill_attempt")) == 2  # the killed try and the one that finished


@pytest.fixture
def shared_broker():
    """Tasks queued by this test go to the machine's Redis (the suite's database there), which this
    drill does not restart, with every earlier message purged."""
    from django.conf import settings

    from config.celery_app import app

    if not settings.CELERY_BROKER_URL:
        pytest.fail("This drill needs Redis: run it with REDIS_URL set (make test does).")
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        for queue in ("default", "reports", "mail"):
            conn.default_channel.queue_purge(queue)
    yield settings.CELERY_BROKER_URL
    app.conf.task_always_eager = was_eager


def test_worker_killed_mid_gap_report_completes_exactly_once(
    drill_dir, shared_broker, gap_cycle, processes
):
    """No one presses "resume": the killed worker's unacknowledged messages come back after the
    visibility timeout, a second worker finishes the run, and every figure is stored once."""
    import psycopg2

    from assessments.gap_reports import services
    from assessments.models import GapReportChunk, GapReportRun

    from .test_gap_report_worker import (
        _database_dsn,
        _worker_waiting_on_the_lock,
        assert_matches_plain_computation,
        finished,
    )

    env = app_env(
        database=database_url(),
        redis_url=shared_broker,
        tmp=drill_dir,
        CELERY_VISIBILITY_TIMEOUT="8",
    )
    first = start_worker(env, drill_dir, "gapdrill-first")
    processes.append(first)
    # Another session holds the industry table: a chunk's last statement waits there, with its
    # other rows written but not committed, which is where the worker dies.
    blocker = psycopg2.connect(_database_dsn())
    with blocker.cursor() as cursor:
        cursor.execute("LOCK TABLE assessments_gapindustrystat IN EXCLUSIVE MODE")
    try:
        run = services.start_gap_report(cycle=gap_cycle, chunk_members=6)
        wait_until(_worker_waiting_on_the_lock, 60, "a chunk to be under way")
        run.refresh_from_db()
        assert run.status == GapReportRun.Status.RUNNING and run.chunks_total > 2
        first.kill()
    finally:
        blocker.rollback()
        blocker.close()
    run.refresh_from_db()
    assert run.chunks_done < run.chunks_total and run.finished_at is None

    second = start_worker(env, drill_dir, "gapdrill-second")
    processes.append(second)
    run = wait_until(lambda: finished(run.pk), 120, "the run to finish on the second worker")
    assert run.status == GapReportRun.Status.SUCCEEDED, run.error
    assert run.chunks_done == run.chunks_total  # each chunk counted exactly once
    assert run.units_done == run.units_total
    assert not GapReportChunk.objects.filter(run=run).exclude(status="done").exists()
    assert_matches_plain_computation(run, gap_cycle)


def test_double_clicked_submit_stores_one_result(drill_dir, redis_server, open_cycle, personas):
    from django.test import Client

    from assessments.models import Assessment, AssessmentEvent

    from .assessment_helpers import codes, fill_self

    env = app_env(database=database_url(), redis_url=redis_server.url, tmp=drill_dir)
    web, base = start_web(env, drill_dir, workers=2)
    try:
        mine = fill_self(Assessment.objects.get(cycle=open_cycle, person=personas["manager"]))
        client = Client()
        client.force_login(personas["manager"])
        session = client.cookies["sessionid"].value
        token = "drill" * 6 + "ab"  # a 32-character CSRF secret, sent as cookie and header
        form = {f"level-{code}": "3" for code in codes(mine)}
        form.update({"industry": "finance", "depth-finance": "4", "evidence-finance": "SWOT"})
        form["revision"] = str(mine.revision)
        body = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in form.items()).encode()
        url = f"{base}/assessments/{mine.pk}/self/submit/"

        def post():
            request = urllib.request.Request(url, data=body, method="POST")
            request.add_header("Cookie", f"sessionid={session}; csrftoken={token}")
            request.add_header("X-CSRFToken", token)
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            opener = urllib.request.build_opener(NoRedirect)
            try:
                return opener.open(request, timeout=30).status
            except urllib.error.HTTPError as exc:
                return exc.code

        barrier = threading.Barrier(2)
        statuses = []
        threads = [
            threading.Thread(target=lambda: (barrier.wait(), statuses.append(post())))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        web.stop()

    mine.refresh_from_db()
    assert mine.status == Assessment.Status.SUBMITTED
    submitted = AssessmentEvent.objects.filter(
        assessment=mine, action=AssessmentEvent.Action.SELF_SUBMITTED
    )
    assert submitted.count() == 1
    # One click wins (redirect to the detail page); the other is told the page is out of date.
    assert sorted(statuses) == [302, 409], statuses + [web.tail()]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_replayed_api_submit_stores_one_result(drill_dir, redis_server, open_cycle, personas):
    """The same API request sent again (a client retrying after a lost answer) changes nothing."""
    import json

    from django.urls import NoReverseMatch, reverse

    from assessments.models import Assessment, AssessmentEvent

    from .assessment_helpers import fill_self

    try:
        from rest_framework.authtoken.models import Token

        mine = Assessment.objects.get(cycle=open_cycle, person=personas["manager"])
        url = reverse("v1:assessment-submit", args=[mine.pk])
    except (ImportError, RuntimeError, NoReverseMatch):
        pytest.skip("the REST API's submit (issue 7) is not there yet")
    mine = fill_self(mine)
    token = Token.objects.create(user=personas["manager"]).key
    env = app_env(database=database_url(), redis_url=redis_server.url, tmp=drill_dir)
    web, base = start_web(env, drill_dir, workers=1)
    body = json.dumps({"revision": mine.revision}).encode()

    def post():
        request = urllib.request.Request(base + url, data=body, method="POST")
        request.add_header("Authorization", f"Token {token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    try:
        first, replay = post(), post()
    finally:
        web.stop()
    assert first[0] == 200 and first[1]["status"] == "submitted", first
    assert replay[0] == 409, replay
    events = AssessmentEvent.objects.filter(
        assessment=mine, action=AssessmentEvent.Action.SELF_SUBMITTED
    )
    assert events.count() == 1


def test_log_lines_of_a_request_and_its_task_share_the_request_id(
    drill_dir, redis_server, drill_tables, send, processes
):
    from config.logging import request_id_var

    env = app_env(database=database_url(), redis_url=redis_server.url, tmp=drill_dir)
    worker = start_worker(env, drill_dir, "logdrill-worker")
    processes.append(worker)
    token = request_id_var.set("drill-request-42")
    try:
        send("traced")
    finally:
        request_id_var.reset(token)
    wait_until(lambda: rows("drill_result") == ["traced"], 30, "the task")
    lines = [line for line in worker.tail().splitlines() if "drill task traced" in line]
    assert lines and all('"request_id": "drill-request-42"' in line for line in lines), lines
