from django.core.management.base import BaseCommand, CommandError

from citizens.accesslog import access_log_verify


class Command(BaseCommand):
    help = (
        "Walk the access log's hash chain and report the first entry that was altered, removed or inserted, "
        "and how many entries are not sealed yet. Exits with status 1 when the chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000, help="Entries read per query.")

    def handle(self, *args, batch_size: int, **options):
        report = access_log_verify(batch_size=batch_size)
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {report.checked} entries verified"))
            if report.unsealed:
                self.stdout.write(
                    f"{report.unsealed} entries are not sealed yet (the sealer chains them within seconds)"
                )
            return
        where = f"entry {report.broken_at}" if report.broken_at is not None else "the end of the chain"
        raise CommandError(f"BROKEN at {where}: {report.problem} ({report.checked} entries verified before it)")
