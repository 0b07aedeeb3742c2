"""Build the load-test organisation: ``manage.py generate_load_data --managers 20000``."""

import time

from django.core.management.base import BaseCommand, CommandError

from assessments.gap_reports.loaddata import LoadDataExists, generate_load_data


class Command(BaseCommand):
    help = (
        "Create a realistic organisation (province → cities → districts → teams of 8–15) with N "
        "managers and four closed cycles of self, supervisor and final ratings (bulk writes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--managers", type=int, default=20_000)
        parser.add_argument("--cycles", type=int, default=4)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, managers, cycles, seed, **options):
        if managers < 8:
            raise CommandError("--managers must be at least 8 (one team).")
        started = time.perf_counter()
        try:
            result = generate_load_data(managers=managers, seed=seed, cycles=cycles)
        except LoadDataExists as exc:
            raise CommandError(
                f"The load organisation ({exc}) exists already; use a fresh database to change it."
            ) from exc
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Load data: {result['units']} units, {result['people']} people "
            f"({result['managers']} managers), cycles {result['cycles']}, "
            f"{result['assessments']} assessments in {seconds:.1f} s."
        )
