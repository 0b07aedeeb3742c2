"""``make load``: the production stack under 50 simulated people, on the loopback only.

1. data: a database of its own (``tshape_load``) with LOAD_MANAGERS (20,000) generated managers —
   ``manage.py generate_load_data`` (the gap-report benchmark's generator), or our small fallback
   (scripts/load/generate.py) where that command does not exist; kept between runs (``--fresh``
   rebuilds it);
2. the stack: scripts/prod_up.sh (gunicorn, worker, beat; production settings) on 127.0.0.1:8020;
3. the mixed run: LOAD_USERS (50) people, 1–3 s think time, LOAD_SECONDS (120) — the manager's
   profile, the team view, a member's profile, the people list, API reads;
4. saturation: the trivial signed-in page (home) and the profile page, each alone with no pause for
   LOAD_SATURATE_SECONDS (20): the profile's throughput should be ≥ 25 % of the trivial page's;
5. bench/load.json and a table: p50/p95/p99 and failures per page; then prod_down (always).

    .venv/bin/python scripts/load/run.py [--fresh]
"""

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("VENV", ROOT / ".venv")) / "bin"
PROD_DIR = ROOT / "var" / "load"
PORT = os.environ.get("LOAD_PORT", "8020")
HOST = f"http://127.0.0.1:{PORT}"  # loopback only: never point this at another machine
DATABASE_URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tshape_load")
MANAGERS = int(os.environ.get("LOAD_MANAGERS", "20000"))
USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "120"))
SATURATE_SECONDS = int(os.environ.get("LOAD_SATURATE_SECONDS", "20"))
RESULT = ROOT / "bench" / "load.json"
GOALS = {"p95_ms": 300, "failures": 0, "profile_vs_trivial": 0.25}

ENV = {
    **os.environ,
    "PROD_DIR": str(PROD_DIR),
    "PROD_PORT": PORT,
    "PROD_DATABASE_URL": DATABASE_URL,
    "PROD_REDIS_URL": os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/4"),
    # Request lines at INFO would be tens of thousands of log writes in the measurement.
    "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
}


def run(*command, env=None, timeout=1800, quiet=False) -> str:
    result = subprocess.run(  # noqa: S603 - our own scripts and tools, no shell
        [str(c) for c in command],
        cwd=ROOT,
        env=env or ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}{result.stderr}")
    if not quiet and result.stdout.strip():
        print(result.stdout.strip())
    return result.stdout


def prod_manage(*args, **kwargs) -> str:
    return run("bash", "scripts/prod_manage.sh", *args, **kwargs)


def python_in_stack(path: str, **env) -> str:
    code = f"import runpy; runpy.run_path({path!r}, run_name='__main__')"
    return prod_manage("shell", "-c", code, env={**ENV, **env})


def managers_present() -> int:
    code = (
        "from accounts.models import User; from accounts.permissions import Role; "
        "print(User.objects.filter(groups__name=Role.MANAGER).count())"
    )
    return int(prod_manage("shell", "-c", code, quiet=True).strip().splitlines()[-1])


def prepare_data(fresh: bool) -> str:
    if fresh:
        run(BIN / "python", "scripts/prod_db.py", "drop", DATABASE_URL)
    run(BIN / "python", "scripts/prod_db.py", "create", DATABASE_URL)
    prod_manage("migrate", "--noinput", "-v", "0")
    present = managers_present()
    if present >= MANAGERS * 0.9:
        return f"kept: {present} managers already in {DATABASE_URL.rsplit('/', 1)[-1]}"
    if present:
        sys.exit(f"{present} managers in the load database, not {MANAGERS}: run with --fresh")
    started = time.monotonic()
    commands = prod_manage("help", "--commands", quiet=True).split()
    if "generate_load_data" in commands:
        prod_manage("generate_load_data", "--managers", MANAGERS)
        how = "generate_load_data"
    else:
        python_in_stack("scripts/load/generate.py", LOAD_MANAGERS=str(MANAGERS))
        how = "the fallback generator (generate_load_data does not exist yet)"
    return f"{MANAGERS} managers by {how} in {time.monotonic() - started:.0f} s"


def locust(name: str, users: int, seconds: int, **env) -> list[dict]:
    prefix = PROD_DIR / f"locust-{name}"
    command = [
        BIN / "locust",
        "-f",
        "scripts/load/locustfile.py",
        "--headless",
        "--host",
        HOST,
        "-u",
        users,
        "-r",
        min(users, 10),
        "-t",
        f"{seconds}s",
        "--csv",
        prefix,
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]
    run(*command, env={**ENV, "LOAD_PLAN": str(PROD_DIR / "plan.json"), **env}, quiet=True)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        return list(csv.DictReader(stats))


def summarise(row: dict) -> dict:
    def number(key):
        value = row.get(key, "") or "0"
        return 0.0 if value == "N/A" else float(value)

    return {
        "requests": int(number("Request Count")),
        "failures": int(number("Failure Count")),
        "p50_ms": number("50%"),
        "p95_ms": number("95%"),
        "p99_ms": number("99%"),
        "rps": round(number("Requests/s"), 1),
    }


def saturation(target: str) -> float | None:
    rows = locust(
        f"saturate-{target.split()[0]}",
        min(USERS, 10),
        SATURATE_SECONDS,
        LOAD_MODE="saturate",
        LOAD_TARGET=target,
    )
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    return summarise(total)["rps"] if total else None


def report(result: dict) -> None:
    print(f"\n{'page':<20}{'requests':>9}{'fail':>6}{'p50':>7}{'p95':>7}{'p99':>7}{'rps':>7}")
    for name, s in result["pages"].items():
        print(
            f"{name:<20}{s['requests']:>9}{s['failures']:>6}{s['p50_ms']:>7.0f}"
            f"{s['p95_ms']:>7.0f}{s['p99_ms']:>7.0f}{s['rps']:>7.1f}"
        )
    sat, goals = result["saturation"], result["goals"]
    print(f"saturation (req/s): {sat}")
    print(f"goals: {goals}")
    for target, why in result["skipped"].items():
        print(f"skipped {target}: {why}")
    print(f"written to {RESULT.relative_to(ROOT)}")


def measure(data_note: str) -> dict:
    python_in_stack("scripts/load/plan.py", LOAD_PLAN=str(PROD_DIR / "plan.json"))
    plan = json.loads((PROD_DIR / "plan.json").read_text())
    print(f"mixed run: {USERS} users, {SECONDS} s, think time 1–3 s, {HOST}")
    rows = locust("mixed", USERS, SECONDS)
    pages = {r["Name"]: summarise(r) for r in rows if r["Name"] != "Aggregated"}
    total = summarise(next(r for r in rows if r["Name"] == "Aggregated"))
    home = saturation("home")
    profile = saturation("profile (own)") if "profile (own)" not in plan["skipped"] else None
    ratio = round(profile / home, 2) if home and profile else None
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"managers": MANAGERS, "users": USERS, "seconds": SECONDS, "host": HOST},
        "data": data_note,
        "pages": pages,
        "total": total,
        "saturation": {"home_rps": home, "profile_rps": profile, "profile_vs_home": ratio},
        "goals": {
            "p95_ms_max": GOALS["p95_ms"],
            "p95_met": total["p95_ms"] <= GOALS["p95_ms"],
            "failures_met": total["failures"] <= GOALS["failures"],
            "saturation_met": None if ratio is None else ratio >= GOALS["profile_vs_trivial"],
        },
        "skipped": plan["skipped"],
    }


def main() -> int:
    PROD_DIR.mkdir(parents=True, exist_ok=True)
    data_note = prepare_data(fresh="--fresh" in sys.argv)
    print(f"data: {data_note}")
    try:
        run("bash", "scripts/prod_up.sh", timeout=600)
        result = measure(data_note)
    finally:
        run("bash", "scripts/prod_down.sh", timeout=180)
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
