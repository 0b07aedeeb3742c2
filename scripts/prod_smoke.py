"""Smoke test of the production stack on this machine (``make prod-smoke``, part of ``make test``).

Starts the stack with ``scripts/prod_up.sh`` on a database of its own (``tshape_smoke``, dropped
and created afresh), seeds the demo with development settings against that same database
(``seed_demo`` refuses production settings), then in Debian's Chromium: the manager completes the
self-assessment, the supervisor completes the review, the worker e-mails the result; a gap report
runs through the real worker and its Excel export is downloaded; the model workbook is downloaded.
The stack is stopped at the end, whatever happened (``scripts/prod_down.sh``).

    .venv/bin/python scripts/prod_smoke.py

Environment: SMOKE_PORT (8010), SMOKE_DATABASE_URL, SMOKE_REDIS_URL (redis://127.0.0.1:6379/3),
SMOKE_KEEP=1 leaves the stack running for a look. The last line reads
``prod-smoke: N passed, N failed, N skipped``; the exit status is 1 when a step failed.
"""

import io
import json
import os
import re
import subprocess
import sys
import time
import traceback
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("VENV", ROOT / ".venv")) / "bin"
PROD_DIR = ROOT / "var" / "smoke"
PORT = os.environ.get("SMOKE_PORT", "8010")
BASE = f"http://127.0.0.1:{PORT}"
DATABASE_URL = os.environ.get(
    "SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tshape_smoke"
)
REDIS_URL = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/3")
PASSWORD = "tshape-demo"  # the demo logins' password (assessments.demo.DEMO_PASSWORD)
SCREENSHOTS = ROOT / "test-results" / "prod-smoke"
CHROMIUM_FLAGS = [  # as tests/browser.py: no sandbox as root, no calls to Google's hosts
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

STACK_ENV = {
    **os.environ,
    "PROD_DIR": str(PROD_DIR),
    "PROD_PORT": PORT,
    "PROD_DATABASE_URL": DATABASE_URL,
    "PROD_REDIS_URL": REDIS_URL,
    "GUNICORN_WORKERS": "2",
    "CELERY_WORKER_CONCURRENCY": "1",
}


class Smoke:
    """Runs named steps, tallies them, and prints one line per step."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def step(self, name, action, *args):
        started = time.monotonic()
        try:
            note = action(*args)
        except Skip as skip:
            self.skipped += 1
            print(f"SKIP  {name}: {skip}", flush=True)
            return None
        except Exception as exc:
            self.failed += 1
            print(f"FAIL  {name}: {exc.__class__.__name__}: {exc}", flush=True)
            traceback.print_exc()
            return None
        self.passed += 1
        print(f"ok    {name} ({time.monotonic() - started:.1f} s){f': {note}' if note else ''}")
        return note if note is not None else True

    def summary(self) -> str:
        return f"prod-smoke: {self.passed} passed, {self.failed} failed, {self.skipped} skipped"


class Skip(Exception):
    """A step that cannot run yet (a feature still being built); says what is missing."""


def run(*command, env=None, timeout=300, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603 - our own scripts and tools, no shell
        [str(c) for c in command],
        cwd=ROOT,
        env=env or STACK_ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command))} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    return result


def prod_manage(*args, timeout=300, check=True):
    return run("bash", "scripts/prod_manage.sh", *args, timeout=timeout, check=check)


def pids() -> dict[str, int]:
    found = {}
    for name in ("web", "worker", "beat"):
        path = PROD_DIR / "run" / f"{name}.pid"
        if path.exists():
            found[name] = int(path.read_text().strip())
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting for its new parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


# --- steps ----------------------------------------------------------------------------------


def fresh_database():
    run("bash", "scripts/prod_down.sh")
    run(BIN / "python", "scripts/prod_db.py", "drop", DATABASE_URL)
    # Messages a crashed earlier smoke left in its Redis database must not reach this worker.
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    for old in (PROD_DIR / "mail").glob("*"):
        old.unlink()


def stack_up():
    result = run("bash", "scripts/prod_up.sh", timeout=600)
    return result.stdout.strip().splitlines()[-1]


def stack_up_again_starts_nothing():
    before = pids()
    result = run("bash", "scripts/prod_up.sh", timeout=120)
    after = pids()
    assert "Already running" in result.stdout, result.stdout
    assert before == after and all(alive(pid) for pid in after.values()), (before, after)
    return f"same PIDs {sorted(after.values())}"


def seed_demo():
    env = {
        **os.environ,
        "TSHAPE_ENV": "development",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "CELERY_RESULT_BACKEND": "",
    }
    result = run(BIN / "python", "manage.py", "seed_demo", env=env)
    match = re.search(r"closed cycle #(\d+), open cycle #(\d+)", result.stdout)
    assert match, result.stdout
    SEEDED.update(closed=int(match[1]), open=int(match[2]))
    return f"closed cycle {match[1]}, open cycle {match[2]}"


def healthz_and_request_ids():
    # BASE is http://127.0.0.1:<port>: no file: or other scheme can reach urlopen.
    request = urllib.request.Request(  # noqa: S310
        f"{BASE}/healthz", headers={"X-Request-ID": "smoke-healthz-1", "Host": "10.9.8.7"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        body = json.loads(response.read())
        assert response.headers["X-Request-ID"] == "smoke-healthz-1"
    expected = dict.fromkeys(("database", "redis", "celery", "migrations"), "ok")
    assert body["checks"] == expected, body
    with urllib.request.urlopen(f"{BASE}/login/", timeout=10) as response:  # noqa: S310
        request_id = response.headers["X-Request-ID"]
    time.sleep(0.5)
    lines = (PROD_DIR / "log" / "web.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if request_id in line and line.startswith("{")]
    assert any(entry["path"] == "/login/" for entry in logged if "path" in entry), lines[-5:]
    return "all four checks ok; JSON log lines carry the request id"


def sign_in(page, username):
    page.goto(f"{BASE}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{BASE}/")


def shoot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def self_assessment(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, "manager")
        page.goto(f"{BASE}/assessments/my/")
        page.click("a.button-link")  # the open cycle's 继续自评
        page.wait_for_selector("#self-form")
        names = page.eval_on_selector_all(
            'input[type=radio][name^="level-"]', "els => [...new Set(els.map(e => e.name))]"
        )
        for name in names:
            page.check(f'input[name="{name}"][value="3"]')
        shoot(page, "01-self-filled")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button[formaction$='/self/submit/']")
        page.wait_for_url(re.compile(r"/assessments/\d+/$"))
        page.locator(".messages").filter(has_text="自评已提交").wait_for()
        shoot(page, "02-self-submitted")
        return f"{len(names)} categories rated and submitted"
    finally:
        context.close()


def review(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, "supervisor")
        page.goto(f"{BASE}/assessments/review/")
        page.locator('tr[data-person="manager"] a.review-action').click()
        page.wait_for_selector("#review-form")
        names = page.eval_on_selector_all(
            'input[type=radio][name^="level-"], input[type=radio][name^="depth-"]',
            "els => [...new Set(els.map(e => e.name))]",
        )
        for name in names:
            page.check(f'input[name="{name}"][value="3"]')
        with page.expect_response(lambda r: r.url.endswith("/review/complete/")) as posted:
            page.click("#review-complete")
        SEEDED["complete_request_id"] = posted.value.headers.get("x-request-id", "")
        page.wait_for_url(re.compile(r"/assessments/\d+/$"))
        page.locator("main").filter(has_text="已完成").first.wait_for()
        shoot(page, "03-review-completed")
        return f"{len(names)} levels and depths rated; completed"
    finally:
        context.close()


def worker_mailed_the_result():
    mail_dir = PROD_DIR / "mail"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        messages = [p.read_text(errors="replace") for p in mail_dir.glob("*.log")]
        if any("manager" in text or "周婷" in text for text in messages):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"no e-mail to the manager in {mail_dir} after 60 s")
    request_id = SEEDED.get("complete_request_id")
    worker_log = (PROD_DIR / "log" / "worker.log").read_text()
    assert request_id and request_id in worker_log, "the task's log lines lack the request id"
    return f"{len(messages)} message(s); the task logged request id {request_id}"


def gap_report_features():
    code = (
        "import json; from django.core.management import get_commands; "
        "from django.urls import get_resolver; "
        "ns = get_resolver().namespace_dict.get('reports'); "
        "names = sorted(k for k in ns[1].reverse_dict if isinstance(k, str)) if ns else []; "
        "print(json.dumps({'command': 'compute_gap_reports' in get_commands(), 'urls': names}))"
    )
    found = json.loads(prod_manage("shell", "-c", code).stdout.strip().splitlines()[-1])
    if not found["command"] or not found["urls"]:
        raise Skip(
            "gap reports are not there yet (issue 6): needs the `compute_gap_reports` command "
            f"(found: {found['command']}) and URLs in the `reports` namespace (found: "
            f"{found['urls'] or 'none'})"
        )
    return f"compute_gap_reports and {len(found['urls'])} URLs in `reports`"


def gap_report_through_worker():
    if not GAP.get("features"):
        raise Skip("see the step above")
    log = PROD_DIR / "log" / "worker.log"
    before = log.read_text().count("gap_reports.tasks.compute")
    result = prod_manage("compute_gap_reports", "--cycle", SEEDED["closed"], "--wait", timeout=600)
    assert log.read_text().count("gap_reports.tasks.compute") > before, "the worker ran nothing"
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "done"


def gap_report_excel(browser):
    """HR: the runs list → the latest run → its first unit → Export Excel (built by the worker)
    → the download link appears → the workbook opens."""
    if not GAP.get("features"):
        raise Skip("see the step above")
    import openpyxl

    context = browser.new_context(locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, "hr")
        page.goto(f"{BASE}/reports/")
        page.locator('main a[href*="/reports/runs/"]').first.click()
        page.locator('main a[href*="/units/"]').first.click()
        page.locator('[data-export="xlsx"]').click()
        download_link = page.locator("#gap-download")
        deadline = time.monotonic() + 120
        while not download_link.is_visible():  # the page polls; reloading covers no-JS too
            if time.monotonic() > deadline:
                raise AssertionError("the export was not ready within 120 s")
            page.wait_for_timeout(1000)
            if not download_link.is_visible():
                page.reload()
        shoot(page, "04-gap-report-export")
        with page.expect_download(timeout=60_000) as download:
            download_link.click()
        saved = SCREENSHOTS / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.suffix == ".xlsx", saved.name
        workbook = openpyxl.load_workbook(saved, read_only=True)
        assert len(workbook.sheetnames) >= 5, workbook.sheetnames
        return f"{download.value.suggested_filename}: sheets {workbook.sheetnames}"
    finally:
        context.close()


COUNTS = (
    "import json; from accounts.models import User; "
    "from assessments.models import Assessment, AssessmentEvent, Rating; "
    "print(json.dumps({'people': User.objects.count(), 'assessments': Assessment.objects.count(), "
    "'completed': Assessment.objects.filter(status='completed').count(), "
    "'ratings': Rating.objects.count(), 'events': AssessmentEvent.objects.count()}))"
)


def backup_and_restore():
    """pg_dump → pg_restore into an empty database → the app finds every migration applied and
    the same rows (docs/operations.md, "Backup and restore")."""
    dump = PROD_DIR / "backup.dump"
    restored = f"{DATABASE_URL}_restored"
    run("pg_dump", "--format=custom", f"--file={dump}", f"--dbname={DATABASE_URL}")
    run(BIN / "python", "scripts/prod_db.py", "drop", restored)
    run(BIN / "python", "scripts/prod_db.py", "create", restored)
    try:
        run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", dump)
        original = json.loads(prod_manage("shell", "-c", COUNTS).stdout.strip().splitlines()[-1])
        env = {**STACK_ENV, "PROD_DATABASE_URL": restored}
        check = ["bash", "scripts/prod_manage.sh", "migrate", "--check"]
        run(*check, env=env)
        shell = ["bash", "scripts/prod_manage.sh", "shell", "-c", COUNTS]
        copy = json.loads(run(*shell, env=env).stdout.strip().splitlines()[-1])
    finally:
        run(BIN / "python", "scripts/prod_db.py", "drop", restored)
        dump.unlink(missing_ok=True)
    assert copy == original and original["completed"] > 0, (original, copy)
    return f"{dump.name} restored: {original}"


def model_workbook(browser):
    import openpyxl

    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, "admin")
        response = context.request.get(f"{BASE}/model/v1/export.xlsx")
        assert response.status == 200, response.status
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        workbook = openpyxl.load_workbook(io.BytesIO(response.body()), read_only=True)
        return f"sheets {workbook.sheetnames}"
    finally:
        context.close()


def stack_down():
    run("bash", "scripts/prod_down.sh", timeout=180)
    left = {name: pid for name, pid in STARTED.items() if alive(pid)}
    assert not left, f"still running after prod_down: {left}"
    return f"stopped {sorted(STARTED)}"


SEEDED: dict = {}
GAP: dict = {}
STARTED: dict = {}


def browser_steps(smoke: Smoke):
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            if smoke.step(
                "manager completes the self-assessment", self_assessment, browser
            ) and smoke.step("supervisor completes the review", review, browser):
                smoke.step("worker e-mails the result", worker_mailed_the_result)
            GAP["features"] = smoke.step("gap reports are built", gap_report_features)
            smoke.step("gap report through the real worker", gap_report_through_worker)
            smoke.step("gap report Excel export downloads", gap_report_excel, browser)
            smoke.step("model workbook downloads", model_workbook, browser)
        finally:
            browser.close()
    smoke.step("backup and restore into an empty database", backup_and_restore)


def main() -> int:
    smoke = Smoke()
    print(f"prod-smoke: {BASE}, database {DATABASE_URL.rsplit('/', 1)[-1]}, {PROD_DIR}")
    try:
        if smoke.step("fresh database and queues", fresh_database) and smoke.step(
            "prod_up starts web, worker, beat", stack_up
        ):
            STARTED.update(pids())
            smoke.step("prod_up again starts nothing", stack_up_again_starts_nothing)
            if smoke.step("demo data (seed_demo, development settings)", seed_demo):
                smoke.step("/healthz and request ids", healthz_and_request_ids)
                browser_steps(smoke)
    finally:
        STARTED.update(pids())
        if os.environ.get("SMOKE_KEEP") == "1":
            print(
                f"SMOKE_KEEP=1: the stack stays up at {BASE}; stop it with "
                f"PROD_DIR={PROD_DIR} bash scripts/prod_down.sh"
            )
        else:
            smoke.step("prod_down stops exactly what was started", stack_down)
    print(smoke.summary())
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    sys.exit(main())
