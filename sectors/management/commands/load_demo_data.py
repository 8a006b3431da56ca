from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from sectors.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load demo organisations, staff and each app's demo data (idempotent). Refuses to run in production."

    def handle(self, *args, **options):
        # Each app contributes a loader (settings.SMARTCARE_DEMO_LOADERS), run in order.
        for path in settings.SMARTCARE_DEMO_LOADERS:
            try:
                counts = import_string(path)()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing new"
            self.stdout.write(f"{path}: {summary}")
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded. Password for every demo account: {DEMO_PASSWORD}"))
