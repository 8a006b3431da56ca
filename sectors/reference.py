"""Reference data: the Region of Southern Denmark as a SOR tree (the region, its 22
municipalities and their units, its 4 hospital units with their departments and wards, GP
clinics, specialist practices and pharmacies, and a few units elsewhere in Denmark as external
entries), imported from the SOR file the project ships (``fixtures/reference``, written by
``scripts/sor_file.py``) so that it depends on nothing outside the repository."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from .choices import OrganisationKind
from .identifiers import Namespace, synthetic_sor
from .models import Organisation
from .sor import sor_import

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference"
SOR_FILE = FIXTURES / "sor_region_syddanmark.csv"
REGION_NAME = "Region Syddanmark"
REGION_CODE = 83  # ISO 3166-2 DK-83
REGION_SOR = synthetic_sor(Namespace.REGION, REGION_CODE)


def region_municipality_codes() -> list[str]:
    with open(FIXTURES / "municipalities.csv", encoding="utf-8", newline="") as fh:
        return [row["code"] for row in csv.DictReader(fh)]


def reference_data_load() -> Counter:
    """The directory from the shipped SOR file (``SOR_FILE``); running it again changes nothing."""
    return sor_import(
        text=SOR_FILE.read_text(encoding="utf-8"),
        region_sor=REGION_SOR,
        region_municipality_codes=region_municipality_codes(),
    )


def municipality_by_code(code: str) -> Organisation:
    return Organisation.objects.get(kind=OrganisationKind.MUNICIPALITY, municipality_code=code)


def department_at(unit_name: str, site: str) -> Organisation:
    return Organisation.objects.get(
        kind=OrganisationKind.HOSPITAL_DEPARTMENT, name=f"{unit_name}, Medicinsk afdeling {site}"
    )
