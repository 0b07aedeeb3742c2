from django.core.management.base import BaseCommand, CommandError

from assessments.demo import DEMO_PASSWORD, DemoRefused, seed_demo


class Command(BaseCommand):
    help = "Create the demo organisation, people and one closed assessment cycle (idempotent)."

    def handle(self, *args, **options):
        try:
            result = seed_demo()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Demo ready: {result['units']} units, {result['people']} people, "
            f"closed cycle #{result['cycle']}, open cycle #{result['open_cycle']}. "
            f"Logins admin / hr / supervisor / manager / outsider, password {DEMO_PASSWORD}"
        )
