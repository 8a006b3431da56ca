import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from citizens.generate import generate_region


class Command(BaseCommand):
    help = (
        "Add N synthetic citizens shaped like the Region of Southern Denmark (reference data, GP clinics, "
        "conditions, home care, hospital stays), and what other apps add for them "
        "(settings.SMARTCARE_REGION_EXTENSIONS: care plans, home measurements, alerts). Running it again adds N "
        "more: CPR numbers continue after the synthetic numbers already there and never collide. Refuses to run "
        "in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--citizens", type=int, required=True, help="How many citizens to add.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the random generator (default 1).")
        parser.add_argument(
            "--batch-size", type=int, default=20_000, help="Citizens generated and written per batch (default 20000)."
        )
        parser.add_argument(
            "--citizens-only",
            action="store_true",
            help="Only citizens: skip the other apps' data (SMARTCARE_REGION_EXTENSIONS).",
        )

    def handle(self, *args, citizens: int, seed: int, batch_size: int, citizens_only: bool, verbosity: int, **options):
        if citizens < 1:
            raise CommandError("--citizens must be at least 1.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")

        def progress(message: str) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  {message}")

        extensions = [] if citizens_only else [import_string(path) for path in settings.SMARTCARE_REGION_EXTENSIONS]
        started = time.monotonic()
        try:
            result = generate_region(
                citizens=citizens, seed=seed, batch_size=batch_size, progress=progress, extensions=extensions
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        conditions = ", ".join(f"{code} {n}" for code, n in sorted(result.conditions.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {result.citizens} citizens in {elapsed:.1f} s ({result.method}): "
                f"{result.clinics_created} GP clinics created, {result.current_stays} admitted now, "
                f"{result.past_stays} earlier stays, {result.home_care} in home care, "
                f"{result.contact_persons} contact persons; conditions: {conditions}."
            )
        )
        for name, counts in result.extensions.items():
            summary = ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing"
            self.stdout.write(self.style.SUCCESS(f"{name.capitalize()}: {summary}."))
