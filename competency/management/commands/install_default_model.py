from django.core.management.base import BaseCommand

from competency.services import install_default_model


class Command(BaseCommand):
    help = "Install and publish the default competency model as version 1 (nothing if any version exists)."

    def handle(self, *args, **options):
        version = install_default_model()
        if version is None:
            self.stdout.write("A model version already exists; nothing installed.")
        else:
            self.stdout.write(
                f"Installed and published the default model as version {version.number}."
            )
