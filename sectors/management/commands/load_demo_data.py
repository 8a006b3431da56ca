from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from sectors.demo import DEMO_PASSWORD, demo_data_load


class Command(BaseCommand):
    help = "Load demo organisations and staff (idempotent). Refuses to run in production."

    def handle(self, *args, **options):
        try:
            counts = demo_data_load()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {counts['organisations']} organisations, {counts['users']} users and "
                f"{counts['memberships']} memberships created. Password for every demo account: {DEMO_PASSWORD}"
            )
        )
