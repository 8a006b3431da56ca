from django.core.management.base import BaseCommand

from sectors.reference import reference_data_load


class Command(BaseCommand):
    help = "Load the Region of Southern Denmark's municipalities and hospitals (idempotent)."

    def handle(self, *args, **options):
        counts = reference_data_load()
        self.stdout.write(
            self.style.SUCCESS(
                "Reference data: {created} created, {updated} updated, {unchanged} unchanged.".format(
                    created=counts["created"], updated=counts["updated"], unchanged=counts["unchanged"]
                )
            )
        )
