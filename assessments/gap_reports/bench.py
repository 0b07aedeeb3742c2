"""``make bench``: the gap report against its yardsticks, on the same data, in one process.

Measures (each the minimum of ``repeat`` tries): the full run through a real Celery worker, the
single-statement SQL floor, the naive ORM loop, the XLSX and CSV export of the largest unit
through the worker and their floors (the same cells written from memory). Checks first that the
floor and the naive loop agree with the run, samples the worker's memory, counts the Celery
messages, writes ``bench/results.json`` and prints a table.
"""

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import xlsxwriter
from django.conf import settings
from django.db import connection

from accounts.models import OrgUnit

from ..models import Cycle, GapCategoryStat, GapReportExport, GapReportRun, GapUnitSummary
from . import floor, services
from .exporters import RowsExporter, Table, _formats, neutralise, number_formats
from .loaddata import ROOT_CODE

ROOT = Path(settings.BASE_DIR)
RESULTS = ROOT / "bench" / "results.json"
GOALS = {
    "gap_report_vs_sql_floor": 1.5,
    "xlsx_vs_floor": 1.5,
    "xlsx_rss_growth_mb": 100,
}
CHUNK_MEMBERS = 2000
QUEUES = "default,reports,mail"


# --- the worker -----------------------------------------------------------------------------------


class BenchWorker:
    """A real ``celery worker`` (prefork, one process per CPU) whose memory is sampled."""

    def __init__(self, log_path: Path, concurrency: int):
        self.log_path = log_path
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> "BenchWorker":
        from config.celery_app import app

        with app.connection_for_write() as conn:
            for queue in QUEUES.split(","):
                conn.default_channel.queue_purge(queue)
        env = {
            **os.environ,
            "DEBUG": "false",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND or settings.CELERY_BROKER_URL,
            "DATABASE_URL": _database_url(),
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                QUEUES,
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
                "-n",
                f"bench-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log_path.read_text()[-3000:]}")
            if app.control.ping(timeout=0.5) and len(self.pids()) > self.concurrency:
                return self
        raise RuntimeError("the Celery worker did not answer within 90 s")

    def pids(self) -> list[int]:
        if not self.process:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = [self.process.pid]
        if children.exists():
            found += [int(pid) for pid in children.read_text().split()]
        return found

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def received(self, task_prefix: str) -> int:
        """Task messages the worker logged as received (a cross-check of the run's count)."""
        text = self.log_path.read_text(errors="replace")
        return sum(1 for line in text.splitlines() if task_prefix in line and "received" in line)


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


class MemorySampler:
    """Samples the RSS of every worker process every 10 ms while a measurement runs."""

    def __init__(self, worker: BenchWorker):
        self.worker = worker
        self.baseline: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.baseline = {pid: _rss_kb(pid) for pid in self.worker.pids()}
        self.peak = dict(self.baseline)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            for pid in self.worker.pids():
                self.peak[pid] = max(self.peak.get(pid, 0), _rss_kb(pid))
            time.sleep(0.01)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (
            max(
                (self.peak[pid] - self.baseline.get(pid, self.peak[pid]) for pid in self.peak),
                default=0,
            )
            / 1024
        )

    @property
    def peak_mb(self) -> float:
        return max(self.peak.values(), default=0) / 1024


# --- the measurements -----------------------------------------------------------------------------


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), times, result


def _wait(predicate, timeout: float = 1800, interval: float = 0.025):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(predicate)


def _run_through_worker(cycle: Cycle) -> GapReportRun:
    run = services.start_gap_report(
        cycle=cycle, trigger=GapReportRun.Trigger.COMMAND, chunk_members=CHUNK_MEMBERS
    )
    if run.status != GapReportRun.Status.PENDING:
        raise RuntimeError(f"run {run.pk} was not started fresh ({run.status})")

    def finished():
        fresh = GapReportRun.objects.get(pk=run.pk)
        return fresh if not fresh.is_active else None

    done = _wait(finished)
    if done.status != GapReportRun.Status.SUCCEEDED:
        raise RuntimeError(f"run {done.pk} failed: {done.error}")
    return done


def _export_through_worker(run, unit, file_format: str) -> GapReportExport:
    for old in GapReportExport.objects.filter(run=run, org_unit=unit, file_format=file_format):
        old.file.delete(save=False)
        old.delete()
    export = services.request_export(
        run=run, unit=unit, file_format=file_format, language="zh-hans", by=None
    )

    def ready():
        fresh = GapReportExport.objects.get(pk=export.pk)
        return fresh if fresh.status != GapReportExport.Status.PENDING else None

    done = _wait(ready)
    if done.status != GapReportExport.Status.READY:
        raise RuntimeError(f"export {done.pk} failed: {done.error}")
    return done


def _cells_in_memory(run, unit) -> list[Table]:
    """The export's sheets fully read into memory (columns, rows), outside the timing."""
    tables = RowsExporter(run, unit).tables()
    for table in tables:
        table.rows = [list(row) for row in table.rows]
    return tables


def _xlsx_floor(tables: list[Table]) -> None:
    """XlsxWriter constant_memory writing the same cells, with the same formats, from memory."""
    with tempfile.TemporaryFile() as fh:
        book = xlsxwriter.Workbook(fh, {"constant_memory": True})
        formats = _formats(book)
        for table in tables:
            sheet = book.add_worksheet(table.title[:31])
            cell_formats = number_formats(table, formats)
            for col, column in enumerate(table.columns):
                sheet.write_string(0, col, column.header, formats["header"])
            for number, row in enumerate(table.rows, 1):
                for col, value in enumerate(row):
                    if value is None:
                        continue
                    if isinstance(value, str):
                        sheet.write_string(number, col, neutralise(value))
                    else:
                        sheet.write_number(number, col, value, cell_formats[col])
        book.close()


def _csv_floor(tables: list[Table]) -> None:
    """The csv module writing the same cells from memory."""
    import csv
    import io

    with tempfile.TemporaryFile() as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        for table in tables:
            writer.writerow([table.title])
            writer.writerow([c.header for c in table.columns])
            writer.writerows([neutralise(v) for v in row] for row in table.rows)
            writer.writerow([])
        text.flush()


# --- cross-checks ---------------------------------------------------------------------------------


def _stored_summary(run) -> dict:
    units: dict[int, list] = {}
    for s in GapUnitSummary.objects.filter(run=run):
        units[s.org_unit_id] = [s.headcount, s.completed, {}]
    for c in GapCategoryStat.objects.filter(run=run):
        units[c.org_unit_id][2][c.category_id] = [c.rated, c.sum_level, c.below]
    return units


def _normalise(units: dict) -> dict:
    return {
        unit: (int(a), int(b), {k: [int(x) for x in v] for k, v in cells.items()})
        for unit, (a, b, cells) in units.items()
    }


# --- the whole benchmark --------------------------------------------------------------------------


def load_cycle() -> Cycle:
    root = OrgUnit.objects.get(code=ROOT_CODE)
    return (
        Cycle.objects.filter(participant_units=root, status=Cycle.Status.CLOSED)
        .order_by("-pk")
        .select_related("model_version")
        .first()
    )


def run_benchmark(*, repeat: int = 3, naive_repeat: int = 3, log=print) -> dict:
    cycle = load_cycle()
    # A run left active by an interrupted benchmark would be joined instead of measured.
    GapReportRun.objects.active().filter(cycle=cycle).update(
        status=GapReportRun.Status.FAILED, error="abandoned by an interrupted benchmark"
    )
    root = OrgUnit.objects.get(code=ROOT_CODE)
    work = Path(tempfile.mkdtemp(prefix="tshape-bench-"))
    concurrency = os.cpu_count() or 2
    worker = BenchWorker(work / "worker.log", concurrency).start()
    results: dict = {"measurements": {}}
    m = results["measurements"]
    try:
        log(f"worker up ({concurrency} processes); gap report through the worker …")
        with MemorySampler(worker) as run_memory:
            m["gap_report"], run = _measure(lambda: _run_through_worker(cycle), repeat)
        log("SQL floor …")
        m["sql_floor"], floor_rows = _measure(lambda: floor.sql_floor(run), repeat)
        log("naive ORM loop …")
        m["naive"], naive = _measure(lambda: floor.naive_report(run), naive_repeat)
        checks = {
            "floor_matches_run": _normalise(floor.floor_summary(floor_rows))
            == _normalise(_stored_summary(run)),
            "naive_matches_run": _normalise(naive) == _normalise(_stored_summary(run)),
        }
        log("exports of the largest unit …")
        sheets = _cells_in_memory(run, root)
        rows = sum(len(t.rows) for t in sheets)
        cells = sum(len(t.columns) + sum(len(r) for r in t.rows) for t in sheets)
        with MemorySampler(worker) as xlsx_memory:
            m["xlsx_export"], xlsx = _measure(
                lambda: _export_through_worker(run, root, "xlsx"), repeat
            )
        with MemorySampler(worker) as csv_memory:
            m["csv_export"], csv_file = _measure(
                lambda: _export_through_worker(run, root, "csv"), repeat
            )
        m["xlsx_export"].update(rows=rows, cells=cells, bytes=xlsx.size)
        m["csv_export"].update(rows=rows, cells=cells, bytes=csv_file.size)
        m["xlsx_floor"], _ = _measure(lambda: _xlsx_floor(sheets), repeat)
        m["csv_floor"], _ = _measure(lambda: _csv_floor(sheets), repeat)
        received = worker.received("assessments.gap_reports.tasks.compute_gap_report")
    finally:
        worker.stop()
    results.update(
        _summary(run, m, checks, run_memory, xlsx_memory, csv_memory, received, repeat, worker)
    )
    return results


def _measure(fn, repeat) -> tuple[dict, object]:
    seconds, times, result = _best(fn, repeat)
    return {"seconds": round(seconds, 4), "tries": [round(t, 4) for t in times]}, result


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _summary(run, m, checks, run_memory, xlsx_memory, csv_memory, received, repeat, worker):
    ratios = {
        "gap_report_vs_sql_floor": _ratio(m["gap_report"]["seconds"], m["sql_floor"]["seconds"]),
        "naive_vs_gap_report": _ratio(m["naive"]["seconds"], m["gap_report"]["seconds"]),
        "xlsx_vs_floor": _ratio(m["xlsx_export"]["seconds"], m["xlsx_floor"]["seconds"]),
        "csv_vs_floor": _ratio(m["csv_export"]["seconds"], m["csv_floor"]["seconds"]),
    }
    memory = {
        "peak_rss_mb": round(max(run_memory.peak_mb, xlsx_memory.peak_mb, csv_memory.peak_mb), 1),
        "gap_report_rss_growth_mb": round(run_memory.growth_mb, 1),
        "xlsx_rss_growth_mb": round(xlsx_memory.growth_mb, 1),
        "csv_rss_growth_mb": round(csv_memory.growth_mb, 1),
    }
    celery = {
        "messages_per_run": run.messages,
        "org_units": run.units_total,
        "chunks": run.chunks_total,
        "messages_received_by_worker": received,
        "runs": repeat,
    }
    goals = {
        "gap_report_vs_sql_floor <= 1.5": (ratios["gap_report_vs_sql_floor"] or 99) <= 1.5,
        "xlsx_vs_floor <= 1.5": (ratios["xlsx_vs_floor"] or 99) <= 1.5,
        "xlsx_rss_growth_mb <= 100": memory["xlsx_rss_growth_mb"] <= 100,
        "messages_per_run <= org_units": run.messages <= run.units_total,
    }
    return {
        "ratios": ratios,
        "worker": {**memory, "concurrency": worker.concurrency},
        "celery": celery,
        "checks": checks,
        "goals": goals,
        "data": {
            "managers": _managers(),
            "people": GapUnitSummary.objects.get(run=run, org_unit__code=ROOT_CODE).headcount,
            "org_units": run.units_total,
            "cycle": run.cycle_id,
        },
        "environment": {
            "database": connection.vendor,
            "database_version": _database_version(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "repeat": repeat,
        },
    }


def _managers() -> int:
    from accounts.models import User
    from accounts.permissions import Role

    root = OrgUnit.objects.get(code=ROOT_CODE)
    return User.objects.filter(
        org_unit__path__startswith=root.path, groups__name=Role.MANAGER
    ).count()


def _database_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else "SELECT 1")
        return str(cursor.fetchone()[0])


def write_results(results: dict, path: Path = RESULTS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path


def table(results: dict) -> str:
    """The results as a small plain-text table."""
    m, r = results["measurements"], results["ratios"]
    lines = [
        f"{'measurement':<28}{'seconds (min)':>14}",
        f"{'-' * 28}{'-' * 14}",
        *(f"{name:<28}{m[name]['seconds']:>14.3f}" for name in m),
        "",
        *(f"{name:<28}{value if value is not None else '—':>14}" for name, value in r.items()),
        "",
        f"{'worker peak RSS (MB)':<28}{results['worker']['peak_rss_mb']:>14}",
        f"{'xlsx RSS growth (MB)':<28}{results['worker']['xlsx_rss_growth_mb']:>14}",
        f"{'messages per run':<28}{results['celery']['messages_per_run']:>14}",
        f"{'org units':<28}{results['celery']['org_units']:>14}",
        "",
        *(f"{'PASS' if ok else 'FAIL'}  {goal}" for goal, ok in results["goals"].items()),
        *(f"{'OK  ' if ok else 'DIFF'}  {check}" for check, ok in results["checks"].items()),
    ]
    return "\n".join(lines)
