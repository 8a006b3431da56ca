"""Reference data: the Region of Southern Denmark, its 22 municipalities and its 4 hospital
units with a department per main site. The project keeps its own copy of the facts in
``fixtures/reference`` so that it does not depend on anything outside the repository."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from django.db import transaction

from .choices import OrganisationKind
from .identifiers import Namespace, synthetic_gln, synthetic_sor
from .models import Organisation

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference"
REGION_NAME = "Region Syddanmark"
REGION_CODE = 83  # ISO 3166-2 DK-83


def _rows(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _upsert(counter: Counter, *, sor_code: str, defaults: dict) -> Organisation:
    organisation = Organisation.objects.filter(sor_code=sor_code).first()
    if organisation is None:
        organisation = Organisation(sor_code=sor_code, **defaults)
        counter["created"] += 1
    else:
        changed = False
        for field, value in defaults.items():
            if getattr(organisation, field) != value:
                setattr(organisation, field, value)
                changed = True
        if not changed:
            counter["unchanged"] += 1
            return organisation
        counter["updated"] += 1
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def reference_data_load() -> Counter:
    """Create or update the reference organisations; running it again changes nothing."""
    counter: Counter = Counter()
    region = _upsert(
        counter,
        sor_code=synthetic_sor(Namespace.REGION, REGION_CODE),
        defaults={
            "kind": OrganisationKind.REGION,
            "name": REGION_NAME,
            "gln": synthetic_gln(Namespace.REGION, REGION_CODE),
            "street": "Damhaven 12",
            "postal_code": "7100",
            "city": "Vejle",
        },
    )
    municipalities: dict[str, Organisation] = {}
    for row in _rows("municipalities.csv"):
        number = int(row["code"])
        municipality = _upsert(
            counter,
            sor_code=synthetic_sor(Namespace.MUNICIPALITY, number),
            defaults={
                "kind": OrganisationKind.MUNICIPALITY,
                "name": f"{row['name']} Kommune",
                "municipality_code": row["code"],
                "gln": synthetic_gln(Namespace.MUNICIPALITY, number),
                "parent": region,
                "postal_code": row["postal_code"],
                "city": row["town"],
            },
        )
        municipalities[row["code"]] = municipality

    units: dict[str, Organisation] = {}
    for departments, row in enumerate(_rows("hospitals.csv"), start=1):
        unit = units.get(row["unit"])
        if unit is None:
            number = len(units) + 1
            unit = _upsert(
                counter,
                sor_code=synthetic_sor(Namespace.HOSPITAL_UNIT, number),
                defaults={
                    "kind": OrganisationKind.HOSPITAL_UNIT,
                    "name": row["unit"],
                    "gln": synthetic_gln(Namespace.HOSPITAL_UNIT, number),
                    "parent": region,
                    "municipality": municipalities[row["municipality_code"]],
                    "city": row["site"],
                    "postal_code": row["postal_code"],
                },
            )
            units[row["unit"]] = unit
        _upsert(
            counter,
            sor_code=synthetic_sor(Namespace.HOSPITAL_DEPARTMENT, departments),
            defaults={
                "kind": OrganisationKind.HOSPITAL_DEPARTMENT,
                "name": f"{row['unit']}, Medicinsk afdeling {row['site']}",
                "gln": synthetic_gln(Namespace.HOSPITAL_DEPARTMENT, departments),
                "parent": unit,
                "municipality": municipalities[row["municipality_code"]],
                "city": row["site"],
                "postal_code": row["postal_code"],
            },
        )
    return counter


def municipality_by_code(code: str) -> Organisation:
    return Organisation.objects.get(kind=OrganisationKind.MUNICIPALITY, municipality_code=code)


def department_at(unit_name: str, site: str) -> Organisation:
    return Organisation.objects.get(
        kind=OrganisationKind.HOSPITAL_DEPARTMENT, name=f"{unit_name}, Medicinsk afdeling {site}"
    )
