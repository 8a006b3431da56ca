from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sectors.reference import REGION_SOR, region_municipality_codes
from sectors.sor import SorFileError, sor_import


class Command(BaseCommand):
    help = (
        "Import the organisation directory from a SOR file (CSV; the layout is in sectors/sor.py and the "
        "README). Idempotent: updates in place by SOR code and deactivates the units an earlier import "
        "brought that the file no longer lists. A file with a bad row changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--region-sor",
            default=REGION_SOR,
            help="SOR code of the portal's region: what lies below it belongs to the portal (default %(default)s).",
        )

    def handle(self, *args, file: Path, region_sor: str, **options):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        try:
            counts = sor_import(text=text, region_sor=region_sor, region_municipality_codes=region_municipality_codes())
        except SorFileError as exc:
            raise CommandError("The file was not imported:\n" + "\n".join(exc.errors)) from None
        self.stdout.write(
            self.style.SUCCESS(
                "SOR import: {created} created, {updated} updated, {unchanged} unchanged, "
                "{deactivated} deactivated.".format(
                    **{k: counts[k] for k in ("created", "updated", "unchanged", "deactivated")}
                )
            )
        )
