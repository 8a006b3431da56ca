from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from citizens.relationships import fact_sources, relationships_recompute


class Command(BaseCommand):
    help = (
        "Recompute every care relationship from the facts (citizens, stays, grants, care teams, received "
        "messages) and report rows missing, rows no fact justifies and rows with another validity. "
        "Exits with status 1 when there are any; --fix repairs them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Repair the differences.")
        parser.add_argument("--source", action="append", choices=sorted(fact_sources()), help="Only these sources.")
        parser.add_argument("--show", type=int, default=20, help="How many differences of each kind to list.")

    def handle(self, *args, fix: bool, source: list[str] | None, show: int, **options):
        with transaction.atomic():
            found = relationships_recompute(fix=fix, source_types=source)
        for e in found.missing[:show]:
            self.stdout.write(f"missing: {e.kind} {e.organisation_id} -> {e.citizen_id} (source {e.source_id})")
        for row in found.extra[:show]:
            self.stdout.write(
                f"extra: {row.kind} {row.organisation_id} -> {row.citizen_id} ({row.source_type} {row.source_id})"
            )
        for row, e in found.wrong[:show]:
            self.stdout.write(
                f"wrong validity: {row.kind} {row.organisation_id} -> {row.citizen_id} ({row.source_type} "
                f"{row.source_id}): {row.valid_from}..{row.valid_to} instead of {e.valid_from}..{e.valid_to}"
            )
        summary = f"{len(found.missing)} missing, {len(found.extra)} extra, {len(found.wrong)} with wrong validity"
        if not found:
            self.stdout.write(self.style.SUCCESS("OK: the care relationships match the facts"))
        elif fix:
            self.stdout.write(self.style.WARNING(f"Fixed: {summary}"))
        else:
            raise CommandError(f"DIFFERENT: {summary} (run with --fix to repair)")
