"""``make bench``: ``manage.py bench [--managers N]`` on a dedicated PostgreSQL database.

Creates the database if it is missing, migrates it, (re)builds the load organisation when its
size differs from N, then measures (see ``assessments.gap_reports.bench``) and writes
``bench/results.json``.
"""

import os
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Benchmark the team gap report against the SQL floor, the naive loop and the exports."

    def add_arguments(self, parser):
        parser.add_argument(
            "--managers", type=int, default=int(os.environ.get("BENCH_MANAGERS", "20000"))
        )
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument("--naive-repeat", type=int, default=3)
        parser.add_argument(
            "--allow-any-database",
            action="store_true",
            help="Run even when the database name does not contain 'bench' (it rebuilds data).",
        )

    def handle(self, *args, managers, repeat, naive_repeat, allow_any_database, **options):
        from django.conf import settings

        settings.DEBUG = False  # no query log growing for a million rows
        name = connection.settings_dict["NAME"]
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark runs on PostgreSQL: set DATABASE_URL.")
        if "bench" not in str(name) and not allow_any_database:
            raise CommandError(f"Refusing to load benchmark data into {name!r} (no 'bench' in it).")
        if not settings.CELERY_BROKER_URL:
            raise CommandError("The benchmark needs a broker for its worker: set REDIS_URL.")
        _ensure_database(name)
        call_command("migrate", verbosity=0)
        self._ensure_load_data(managers)

        from assessments.gap_reports import bench

        results = bench.run_benchmark(
            repeat=repeat, naive_repeat=naive_repeat, log=lambda msg: self.stdout.write(msg)
        )
        path = bench.write_results(results)
        self.stdout.write(bench.table(results))
        self.stdout.write(f"\nwritten to {path}")

    def _ensure_load_data(self, managers: int) -> None:
        from accounts.models import OrgUnit
        from assessments.gap_reports.bench import _managers
        from assessments.gap_reports.loaddata import ROOT_CODE

        if OrgUnit.objects.filter(code=ROOT_CODE).exists():
            if _managers() == managers:
                self.stdout.write(f"load data present ({managers} managers)")
                return
            self.stdout.write("load data of another size: rebuilding the bench database schema")
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE")
                cursor.execute("CREATE SCHEMA public")
            call_command("migrate", verbosity=0)
        started = time.perf_counter()
        call_command("generate_load_data", managers=managers, stdout=self.stdout)
        self.stdout.write(f"generate_load_data: {time.perf_counter() - started:.1f} s")


def _ensure_database(name: str) -> None:
    """Create the benchmark database through the server's maintenance database if missing."""
    import psycopg2
    from psycopg2 import sql

    db = connection.settings_dict
    params = {
        "dbname": "postgres",
        "user": db["USER"],
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
    }
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
