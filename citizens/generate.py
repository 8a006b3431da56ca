"""Synthetic citizens for load tests and demos: ``manage.py generate_region --citizens N``.

The data is made up but shaped like the Region of Southern Denmark: citizens spread over the 22
municipalities in proportion to their real populations, a Danish age pyramid, Danish names,
addresses with the municipalities' real postal codes, about one GP clinic per 1,500 citizens in
the citizen's own municipality, chronic conditions whose prevalence rises with age (hypertension
about 20 % of adults, type 2 diabetes 6 %, COPD 5 %, ...), some citizens in home care, and a small
share admitted now (plus recent and older stays) at a department of their area's hospital.

CPR numbers are valid (a real date; the 7th digit fits the century rule; the last digit gives the
sex) but recognisably synthetic: the 8th digit is always 9, and within that block the sequence is
counted per birth date and sex. Modulus 11 is not applied. Running the generator again continues
each birth date's count after the highest number already in the block, so repeated runs add
citizens and never collide, with each other or with any other citizen.

Rows are written in batches: with COPY on PostgreSQL (1.2 million citizens take minutes), with
``bulk_create`` elsewhere. ``bulk_create`` and COPY skip ``Citizen.save()``, so ``search_name`` is
set here. Never runs in production.

Other apps add their data for each batch in the same transaction through ``extensions``
(``RegionExtension``; the command takes them from ``settings.SMARTCARE_REGION_EXTENSIONS``, e.g.
the care plans of ``careplans.generate``), so this module needs to know none of them.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import functools
import io
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, models, transaction
from django.db.models import Max
from django.db.models.functions import Cast, Mod, Substr
from django.utils import timezone

from sectors.choices import OrganisationKind
from sectors.identifiers import Namespace, synthetic_gln, synthetic_sor
from sectors.models import Organisation
from sectors.reference import FIXTURES, reference_data_load

from .choices import StayKind
from .cpr import century, parse_cpr
from .models import Citizen, CitizenCondition, Condition, ContactPerson, HospitalStay

CITIZENS_PER_CLINIC = 1500
SYNTHETIC_MARK = "9"  # the 8th CPR digit of every generated number
PER_CENTURY_DIGIT = 50  # 9th digit 0-9 x five last digits of one sex
FIRST_GENERATED_CLINIC = 100_000  # clinic numbers below this belong to demo data

# --- the region ----------------------------------------------------------------------------------

# Inhabitants (rounded) by municipality code; the generator scales them to the requested total.
POPULATION = {
    "0410": 39_000,  # Middelfart
    "0420": 41_000,  # Assens
    "0430": 52_000,  # Faaborg-Midtfyn
    "0440": 24_000,  # Kerteminde
    "0450": 32_000,  # Nyborg
    "0461": 205_000,  # Odense
    "0479": 59_000,  # Svendborg
    "0480": 30_000,  # Nordfyns
    "0482": 12_000,  # Langeland
    "0492": 6_000,  # Ærø
    "0510": 56_000,  # Haderslev
    "0530": 27_000,  # Billund
    "0540": 74_000,  # Sønderborg
    "0550": 37_000,  # Tønder
    "0561": 116_000,  # Esbjerg
    "0563": 3_500,  # Fanø
    "0573": 50_000,  # Varde
    "0575": 43_000,  # Vejen
    "0580": 58_000,  # Aabenraa
    "0607": 52_000,  # Fredericia
    "0621": 95_000,  # Kolding
    "0630": 120_000,  # Vejle
}

# Postal codes and towns in each municipality.
POSTAL_AREAS = {
    "0410": [("5500", "Middelfart"), ("5464", "Brenderup Fyn"), ("5592", "Ejby"), ("5580", "Nørre Aaby")],
    "0420": [("5610", "Assens"), ("5620", "Glamsbjerg"), ("5683", "Haarby"), ("5690", "Tommerup"), ("5560", "Aarup")],
    "0430": [("5750", "Ringe"), ("5600", "Faaborg"), ("5772", "Kværndrup"), ("5792", "Årslev"), ("5854", "Gislev")],
    "0440": [("5300", "Kerteminde"), ("5330", "Munkebo"), ("5350", "Rynkeby"), ("5390", "Martofte")],
    "0450": [("5800", "Nyborg"), ("5853", "Ørbæk"), ("5871", "Frørup")],
    "0461": [
        ("5000", "Odense C"),
        ("5200", "Odense V"),
        ("5210", "Odense NV"),
        ("5220", "Odense SØ"),
        ("5230", "Odense M"),
        ("5240", "Odense NØ"),
        ("5250", "Odense SV"),
        ("5260", "Odense S"),
        ("5270", "Odense N"),
    ],
    "0479": [("5700", "Svendborg"), ("5771", "Stenstrup"), ("5883", "Oure"), ("5884", "Gudme")],
    "0480": [("5400", "Bogense"), ("5450", "Otterup"), ("5471", "Søndersø")],
    "0482": [("5900", "Rudkøbing"), ("5953", "Tranekær"), ("5932", "Humble")],
    "0492": [("5970", "Ærøskøbing"), ("5960", "Marstal")],
    "0510": [("6100", "Haderslev"), ("6500", "Vojens"), ("6560", "Sommersted")],
    "0530": [("7190", "Billund"), ("7200", "Grindsted"), ("7250", "Hejnsvig")],
    "0540": [("6400", "Sønderborg"), ("6430", "Nordborg"), ("6440", "Augustenborg"), ("6300", "Gråsten")],
    "0550": [("6270", "Tønder"), ("6280", "Højer"), ("6261", "Bredebro"), ("6780", "Skærbæk"), ("6520", "Toftlund")],
    "0561": [
        ("6700", "Esbjerg"),
        ("6705", "Esbjerg Ø"),
        ("6710", "Esbjerg V"),
        ("6715", "Esbjerg N"),
        ("6760", "Ribe"),
        ("6740", "Bramming"),
    ],
    "0563": [("6720", "Fanø")],
    "0573": [("6800", "Varde"), ("6818", "Årre"), ("6830", "Nørre Nebel"), ("6840", "Oksbøl")],
    "0575": [("6600", "Vejen"), ("6630", "Rødding"), ("6650", "Brørup")],
    "0580": [("6200", "Aabenraa"), ("6230", "Rødekro"), ("6330", "Padborg"), ("6360", "Tinglev")],
    "0607": [("7000", "Fredericia")],
    "0621": [("6000", "Kolding"), ("6070", "Christiansfeld"), ("6091", "Bjert"), ("6580", "Vamdrup")],
    "0630": [("7100", "Vejle"), ("7120", "Vejle Øst"), ("7080", "Børkop"), ("7300", "Jelling")],
}

# The hospital site (hospitals.csv) that admits each municipality's citizens.
HOSPITAL_SITE = {
    "0410": "Middelfart",
    "0420": "Odense",
    "0430": "Odense",
    "0440": "Odense",
    "0450": "Nyborg",
    "0461": "Odense",
    "0479": "Svendborg",
    "0480": "Odense",
    "0482": "Svendborg",
    "0492": "Ærø",
    "0510": "Aabenraa",
    "0530": "Grindsted",
    "0540": "Sønderborg",
    "0550": "Tønder",
    "0561": "Esbjerg",
    "0563": "Esbjerg",
    "0573": "Esbjerg",
    "0575": "Esbjerg",
    "0580": "Aabenraa",
    "0607": "Kolding",
    "0621": "Kolding",
    "0630": "Vejle",
}
UNIVERSITY_HOSPITAL_SITE = "Odense"
UNIVERSITY_HOSPITAL_SHARE = 0.1  # specialised care at OUH Odense, from anywhere in the region

# Danish age pyramid, share (%) per five-year band from 0-4 to 100-104.
AGE_BANDS = [5.2, 5.4, 5.7, 5.9, 6.6, 6.9, 6.3, 5.9, 5.8, 6.3, 7.0, 6.9, 6.2, 5.6, 5.4, 4.6, 2.9, 1.6, 0.7, 0.2, 0.02]


@dataclass(frozen=True)
class ConditionProfile:
    """Prevalence among adults (18+) and relative risk per ten-year age band (0-9, ..., 90+)."""

    code: str
    adult_prevalence: float
    risk_by_decade: tuple[float, ...]
    min_age: int = 18


CONDITION_PROFILES = [
    ConditionProfile("I10", 0.20, (0, 0.02, 0.05, 0.12, 0.35, 0.65, 1.0, 1.35, 1.5, 1.5)),
    ConditionProfile("E11", 0.06, (0, 0.02, 0.1, 0.25, 0.55, 0.95, 1.4, 1.6, 1.4, 1.2)),
    ConditionProfile("J44", 0.05, (0, 0, 0.02, 0.1, 0.35, 0.85, 1.4, 1.8, 1.8, 1.5)),
    ConditionProfile("I25", 0.04, (0, 0, 0.01, 0.05, 0.25, 0.65, 1.3, 2.0, 2.4, 2.4)),
    ConditionProfile("I50", 0.02, (0, 0, 0, 0.02, 0.1, 0.3, 0.9, 2.0, 3.5, 4.0)),
    ConditionProfile("I48", 0.03, (0, 0, 0.01, 0.03, 0.1, 0.4, 1.0, 2.2, 3.5, 4.0)),
    ConditionProfile("N18", 0.02, (0, 0, 0.02, 0.05, 0.1, 0.3, 0.8, 2.0, 3.5, 4.0)),
    ConditionProfile("M54", 0.04, (0, 0.3, 0.8, 1.0, 1.2, 1.2, 1.0, 0.9, 0.8, 0.7)),
    ConditionProfile("M06", 0.008, (0, 0.05, 0.3, 0.6, 1.0, 1.3, 1.6, 1.6, 1.4, 1.2)),
    ConditionProfile("F32", 0.04, (0, 0.8, 1.2, 1.1, 1.0, 0.9, 0.8, 0.8, 0.9, 1.0), min_age=12),
    ConditionProfile("J45", 0.06, (0.8, 1.2, 1.1, 1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7), min_age=3),
    ConditionProfile("E66", 0.03, (0, 0.3, 0.8, 1.0, 1.2, 1.3, 1.2, 0.9, 0.5, 0.3)),
]

FEMALE_NAMES = [
    ("Anne", 30), ("Kirsten", 26), ("Mette", 25), ("Hanne", 24), ("Helle", 21), ("Anna", 20), ("Susanne", 19),
    ("Lene", 18), ("Maria", 18), ("Marianne", 17), ("Lone", 16), ("Camilla", 15), ("Pia", 15), ("Louise", 15),
    ("Charlotte", 14), ("Bente", 14), ("Tina", 13), ("Inge", 13), ("Gitte", 12), ("Karen", 12), ("Birgitte", 12),
    ("Jette", 12), ("Ida", 11), ("Sofie", 11), ("Emma", 10), ("Julie", 10), ("Rikke", 10), ("Maja", 9),
    ("Laura", 9), ("Caroline", 8), ("Freja", 8), ("Clara", 8), ("Ella", 7), ("Alma", 7), ("Birthe", 7),
    ("Ingrid", 6), ("Grethe", 6), ("Else", 6), ("Ruth", 5), ("Dorthe", 5), ("Signe", 5), ("Astrid", 5),
]  # fmt: skip
MALE_NAMES = [
    ("Peter", 30), ("Jens", 29), ("Lars", 27), ("Michael", 26), ("Henrik", 25), ("Thomas", 23), ("Søren", 22),
    ("Jan", 21), ("Niels", 20), ("Christian", 19), ("Martin", 19), ("Jørgen", 18), ("Hans", 18), ("Anders", 18),
    ("Morten", 16), ("Jesper", 16), ("Ole", 15), ("Per", 15), ("Erik", 14), ("Mads", 14), ("Rasmus", 14),
    ("Kim", 13), ("Mikkel", 12), ("Frederik", 12), ("Poul", 11), ("Carsten", 11), ("Torben", 10), ("Kenneth", 9),
    ("Jacob", 9), ("Lucas", 8), ("William", 8), ("Oliver", 8), ("Noah", 8), ("Emil", 8), ("Magnus", 7),
    ("Kurt", 7), ("Bent", 7), ("Finn", 6), ("Karl", 6), ("Arne", 5), ("Victor", 5), ("Aksel", 5),
]  # fmt: skip
LAST_NAMES = [
    ("Nielsen", 46), ("Jensen", 45), ("Hansen", 37), ("Pedersen", 26), ("Andersen", 26), ("Christensen", 20),
    ("Larsen", 19), ("Sørensen", 18), ("Rasmussen", 16), ("Jørgensen", 15), ("Petersen", 14), ("Madsen", 11),
    ("Kristensen", 10), ("Olsen", 9), ("Thomsen", 8), ("Christiansen", 7), ("Poulsen", 6), ("Johansen", 6),
    ("Møller", 6), ("Mortensen", 6), ("Knudsen", 5), ("Jakobsen", 5), ("Mikkelsen", 4), ("Olesen", 4),
    ("Frederiksen", 4), ("Laursen", 4), ("Henriksen", 4), ("Lund", 4), ("Schmidt", 3), ("Holm", 3),
    ("Eriksen", 3), ("Kristiansen", 3), ("Nissen", 3), ("Clausen", 3), ("Simonsen", 3), ("Svendsen", 3),
    ("Andreasen", 3), ("Iversen", 3), ("Jeppesen", 2), ("Vestergaard", 2), ("Mogensen", 2), ("Jacobsen", 2),
    ("Nørgaard", 2), ("Lauridsen", 2), ("Frandsen", 2), ("Østergaard", 2), ("Jepsen", 2), ("Kjær", 2),
    ("Bach", 2), ("Søndergaard", 2), ("Dam", 2), ("Friis", 2), ("Thygesen", 1), ("Holmgaard", 1), ("Lassen", 1),
    ("Bertelsen", 1), ("Ebbesen", 1), ("Brandt", 1), ("Skov", 1), ("Juhl", 1), ("Gregersen", 1), ("Krogh", 1),
    ("Winther", 1), ("Dahl", 1), ("Kjeldsen", 1), ("Bruun", 1), ("Lind", 1), ("Hedegaard", 1), ("Overgaard", 1),
]  # fmt: skip
STREETS = [
    "Vestergade", "Østergade", "Nørregade", "Søndergade", "Kongensgade", "Jernbanegade", "Skolevej", "Kirkevej",
    "Møllevej", "Skovvej", "Strandvej", "Engvej", "Bakkevej", "Birkevej", "Egevej", "Bøgevej", "Lindevej",
    "Rosenvej", "Violvej", "Kastanievej", "Ahornvej", "Havevej", "Parkvej", "Stationsvej", "Industrivej",
    "Nygade", "Torvegade", "Åboulevarden", "Grønnegade", "Solvej", "Fasanvej", "Mågevej", "Tværgade",
    "Overgade", "Klostervej", "Præstegårdsvej", "Rugvej", "Byvej", "Fjordvej", "Markvej",
]  # fmt: skip
RELATIONS = ["datter", "søn", "ægtefælle", "samlever", "nabo", "barnebarn"]


# --- a little vectorised randomness --------------------------------------------------------------


class WeightedChoice:
    """``rng.choices`` for one item, without its per-call overhead."""

    def __init__(self, items: Sequence, weights: Sequence[float]):
        self.items = list(items)
        self.cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


def _band_of(age: int) -> int:
    return min(age // 10, 9)


def condition_probabilities(profile: ConditionProfile) -> list[float]:
    """Probability of the condition at each age 0..104, scaled so that the share among adults in the
    age pyramid is the profile's adult prevalence."""
    weight_at = [AGE_BANDS[min(age // 5, len(AGE_BANDS) - 1)] / 5 for age in range(105)]
    risk = [profile.risk_by_decade[_band_of(age)] if age >= profile.min_age else 0.0 for age in range(105)]
    adults = sum(weight_at[a] for a in range(18, 105))
    mean_adult_risk = sum(weight_at[a] * risk[a] for a in range(18, 105)) / adults
    scale = profile.adult_prevalence / mean_adult_risk
    return [min(0.9, scale * r) for r in risk]


@functools.cache
def valid_century_digits(year: int) -> list[int]:
    """The 7th CPR digits that give this birth year under the century rule."""
    return [d for d in range(10) if century(year % 100, d) + year % 100 == year]


def synthetic_cpr(birth_date: datetime.date, male: bool, slot: int) -> str | None:
    """The ``slot``-th synthetic number of this birth date and sex, or None when the block is full."""
    digits = valid_century_digits(birth_date.year)
    index, rest = divmod(slot, PER_CENTURY_DIGIT)
    if index >= len(digits):
        return None
    ninth, last = divmod(rest, 5)
    return f"{birth_date:%d%m%y}{digits[index]}{SYNTHETIC_MARK}{ninth}{2 * last + (1 if male else 0)}"


def synthetic_slot(cpr: str) -> tuple[datetime.date, bool, int] | None:
    """Inverse of ``synthetic_cpr``; None for a number outside the synthetic block."""
    if len(cpr) != 10 or cpr[7] != SYNTHETIC_MARK:
        return None
    try:
        parsed = parse_cpr(cpr)
    except ValidationError:
        return None
    digits = valid_century_digits(parsed.birth_date.year)
    last = int(cpr[9])
    return (
        parsed.birth_date,
        bool(last % 2),
        digits.index(int(cpr[6])) * PER_CENTURY_DIGIT + int(cpr[8]) * 5 + last // 2,
    )


# --- the run --------------------------------------------------------------------------------------


class RegionExtension(Protocol):
    """More synthetic data for each batch of citizens (another app's, e.g. care plans), written in the
    same transaction. Made by a factory called with ``rng``, ``now`` and ``progress``."""

    name: str

    def add(self, citizens: list[tuple], conditions: list[tuple]) -> None:
        """One batch as written: citizen rows in ``CITIZEN_COLUMNS`` order, condition rows as
        (citizen id, condition id, onset date)."""

    def finish(self) -> dict[str, int]:
        """After the last batch: what was made, by kind."""


@dataclass
class GenerationResult:
    citizens: int = 0
    clinics_created: int = 0
    conditions: Counter = field(default_factory=Counter)
    current_stays: int = 0
    past_stays: int = 0
    contact_persons: int = 0
    home_care: int = 0
    method: str = ""
    extensions: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class _Municipality:
    organisation: Organisation
    code: str
    clinics: WeightedChoice
    postal: WeightedChoice
    department_id: int | None


def _municipality_rows() -> list[dict[str, str]]:
    with open(FIXTURES / "municipalities.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _departments_by_site() -> dict[str, int]:
    with open(FIXTURES / "hospitals.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = {f"{row['unit']}, Medicinsk afdeling {row['site']}": row["site"] for row in rows}
    found = Organisation.objects.filter(kind=OrganisationKind.HOSPITAL_DEPARTMENT, name__in=names).values_list(
        "name", "pk"
    )
    return {names[name]: pk for name, pk in found}


def split_proportionally(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Whole numbers in proportion to the weights that add up to ``total`` (largest remainders)."""
    whole = sum(weights.values())
    exact = {key: total * weight / whole for key, weight in weights.items()}
    shares = {key: math.floor(value) for key, value in exact.items()}
    for key in sorted(exact, key=lambda k: exact[k] - shares[k], reverse=True)[: total - sum(shares.values())]:
        shares[key] += 1
    return shares


def _create_clinics(
    rng: random.Random, municipalities: dict[str, Organisation], new_citizens: dict[str, int]
) -> tuple[dict[str, list[tuple[int, float]]], int]:
    """About one clinic per 1,500 citizens in each municipality, counting the citizens already
    there and the clinics already there (demo clinics too). Returns the clinics per municipality
    with a size weight each, and how many were created."""
    existing_citizens = dict(
        Citizen.objects.filter(municipality__in=municipalities.values())
        .values_list("municipality_id")
        .annotate(n=models.Count("pk"))
    )
    clinics: dict[str, list[tuple[int, float]]] = {}
    for code, municipality in municipalities.items():
        found = Organisation.objects.filter(
            kind=OrganisationKind.GP_CLINIC, municipality=municipality, is_active=True
        ).values_list("pk", flat=True)
        clinics[code] = [(pk, 1.0) for pk in found]
    used = [
        int(sor[2:])
        for sor in Organisation.objects.filter(kind=OrganisationKind.GP_CLINIC).values_list("sor_code", flat=True)
        if sor.startswith(f"9{Namespace.GP_CLINIC}") and sor[2:].isdigit() and int(sor[2:]) >= FIRST_GENERATED_CLINIC
    ]
    number = max(used, default=FIRST_GENERATED_CLINIC - 1)
    to_create: list[tuple[str, Organisation]] = []
    for code, municipality in municipalities.items():
        total = existing_citizens.get(municipality.pk, 0) + new_citizens.get(code, 0)
        wanted = max(1, round(total / CITIZENS_PER_CLINIC))
        for _ in range(wanted - len(clinics[code])):
            number += 1
            postal_code, town = rng.choice(POSTAL_AREAS[code])
            street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
            style = rng.random()
            if style < 0.4:
                name = f"Lægerne {street}, {town}"
            elif style < 0.7:
                name = f"Lægehuset {town} {number % 1000}"
            else:
                name = f"Læge {rng.choice(LAST_NAMES)[0]}, {town}"
            clinic = Organisation(
                kind=OrganisationKind.GP_CLINIC,
                name=name,
                sor_code=synthetic_sor(Namespace.GP_CLINIC, number),
                gln=synthetic_gln(Namespace.GP_CLINIC, number),
                ydernummer=str(1_000_000 + number),
                municipality=municipality,
                street=street,
                postal_code=postal_code,
                city=town,
                phone=f"{rng.randint(62, 76)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            )
            clinic.full_clean(validate_unique=False, validate_constraints=False)
            to_create.append((code, clinic))
    Organisation.objects.bulk_create([clinic for _, clinic in to_create], batch_size=500)
    if any(clinic.pk is None for _, clinic in to_create):  # a database that returns no ids
        ids = dict(
            Organisation.objects.filter(sor_code__in=[c.sor_code for _, c in to_create]).values_list("sor_code", "pk")
        )
        for _, clinic in to_create:
            clinic.pk = ids[clinic.sor_code]
    for code, clinic in to_create:
        # Practices differ in size: a few large group practices, many smaller ones.
        clinics[code].append((clinic.pk, rng.lognormvariate(0, 0.45)))
    return clinics, len(to_create)


def _next_slots() -> dict[tuple[datetime.date, bool], int]:
    """For each birth date and sex, the first free slot after the synthetic numbers in use.

    Within one date, century digit and sex the slots follow the number's digits, so the highest
    number of each such group is enough: the database groups and the rows stay few."""
    highest = (
        Citizen.objects.filter(cpr__regex=r"^[0-9]{7}" + SYNTHETIC_MARK + "[0-9]{2}$")
        .annotate(head=Substr("cpr", 1, 7), odd=Mod(Cast(Substr("cpr", 10, 1), models.IntegerField()), 2))
        .values("head", "odd")
        .annotate(top=Max("cpr"))
        .values_list("top", flat=True)
    )
    slots: dict[tuple[datetime.date, bool], int] = {}
    for cpr in highest:
        found = synthetic_slot(cpr)
        if found is not None:
            key = (found[0], found[1])
            slots[key] = max(slots.get(key, 0), found[2] + 1)
    return slots


class RowWriter:
    """Writes batches of rows given as tuples in ``columns`` order (foreign keys as ids)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        fields = [model._meta.get_field(name) for name in columns]
        self.attnames = [f.attname for f in fields]
        self.db_columns = [f.column for f in fields]

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if connection.vendor == "postgresql":
            self._copy(rows)
        else:
            objects = [self.model(**dict(zip(self.attnames, row, strict=True))) for row in rows]
            self.model.objects.bulk_create(objects, batch_size=2000)

    def _copy(self, rows: list[tuple]) -> None:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(copy_value(value) for value in row))
            buffer.write("\n")
        self.copy_text(buffer.getvalue())

    def copy_text(self, text: str) -> None:
        """PostgreSQL only: rows already in COPY's text format, one per line (for the largest tables,
        where converting each value on its own would cost more than the COPY)."""
        if not text:
            return
        buffer = io.StringIO(text)
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(column) for column in self.db_columns)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)  # psycopg2


def copy_value(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def _phone(rng: random.Random) -> str:
    return f"{rng.randint(20, 31)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"


CITIZEN_COLUMNS = [
    "id", "cpr", "birth_date", "sex", "first_name", "last_name", "search_name", "street", "postal_code", "city",
    "phone", "municipality", "gp_clinic", "receives_home_care", "created_at", "updated_at",
]  # fmt: skip


class _CitizenMaker:
    """Makes one citizen's rows at a time; holds the lookup tables and the CPR counters."""

    def __init__(self, rng: random.Random, places: dict[str, _Municipality], university_department: int | None):
        self.rng = rng
        self.places = places
        self.university_department = university_department
        self.now = timezone.now()
        self.today = timezone.localdate()
        conditions = {c.icd10_code: c.pk for c in Condition.objects.filter(is_active=True)}
        self.profiles = [
            (p.code, conditions[p.code], p.min_age, condition_probabilities(p))
            for p in CONDITION_PROFILES
            if p.code in conditions
        ]
        self.age_band = WeightedChoice(range(len(AGE_BANDS)), AGE_BANDS)
        self.female_name = WeightedChoice([n for n, _ in FEMALE_NAMES], [w for _, w in FEMALE_NAMES])
        self.male_name = WeightedChoice([n for n, _ in MALE_NAMES], [w for _, w in MALE_NAMES])
        self.last_name = WeightedChoice([n for n, _ in LAST_NAMES], [w for _, w in LAST_NAMES])
        self.slots = _next_slots()
        self.result = GenerationResult()
        self.citizens: list[tuple] = []
        self.conditions: list[tuple] = []
        self.stays: list[tuple] = []
        self.contacts: list[tuple] = []

    def take(self) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
        rows = self.citizens, self.conditions, self.stays, self.contacts
        self.citizens, self.conditions, self.stays, self.contacts = [], [], [], []
        return rows

    def _cpr(self, birth_date: datetime.date, male: bool) -> tuple[str, datetime.date]:
        while True:
            slot = self.slots.get((birth_date, male), 0)
            cpr = synthetic_cpr(birth_date, male, slot)
            if cpr is not None:
                self.slots[(birth_date, male)] = slot + 1
                return cpr, birth_date
            birth_date -= datetime.timedelta(days=1)  # this birth date's block is full: the day before

    def make(self, code: str) -> None:
        rng, today, now, place = self.rng, self.today, self.now, self.places[code]
        birth_date = today - datetime.timedelta(days=int((self.age_band(rng) * 5 + rng.random() * 5) * 365.25))
        age = (today.year - birth_date.year) - ((today.month, today.day) < (birth_date.month, birth_date.day))
        male = rng.random() < (0.5 if age < 70 else 0.45 if age < 85 else 0.35)
        cpr, birth_date = self._cpr(birth_date, male)
        citizen_id = uuid.UUID(int=rng.getrandbits(128), version=4)

        given = self.male_name if male else self.female_name
        first = given(rng)
        if rng.random() < 0.12:
            first = f"{first} {given(rng)}"
        last = self.last_name(rng)
        if rng.random() < 0.08:
            last = f"{self.last_name(rng)} {last}"
        postal_code, town = place.postal(rng)
        street = f"{rng.choice(STREETS)} {rng.randint(1, 180)}"
        if rng.random() < 0.3:
            street += f", {rng.randint(1, 4)}. {rng.choice(('tv', 'th', 'mf'))}"

        conditions = 0
        for icd10, condition_id, min_age, by_age in self.profiles:
            if rng.random() < by_age[min(age, 104)]:
                conditions += 1
                self.result.conditions[icd10] += 1
                onset = None
                if rng.random() < 0.9:
                    earliest = max(min_age, age - 25)
                    onset_age = earliest + rng.random() * max(age - earliest, 0)
                    onset = min(birth_date + datetime.timedelta(days=int(onset_age * 365.25)), today)
                self.conditions.append((citizen_id, condition_id, onset))

        home_care_p = 0.003 if age < 65 else 0.03 if age < 75 else 0.12 if age < 85 else 0.35
        home_care = rng.random() < home_care_p * (1 + 0.3 * conditions)
        self.result.home_care += home_care

        department = place.department_id
        if self.university_department and rng.random() < UNIVERSITY_HOSPITAL_SHARE:
            department = self.university_department
        stay_p = (0.0008 if age < 18 else 0.0012 if age < 65 else 0.005 if age < 80 else 0.012) * (1 + 0.4 * conditions)
        draw = rng.random()
        if department and draw < stay_p:  # admitted now
            admitted = now - datetime.timedelta(minutes=rng.randint(30, 14 * 24 * 60))
            kind = StayKind.ACUTE_AMBULANT if rng.random() < 0.1 else StayKind.INPATIENT
            on_leave = kind == StayKind.INPATIENT and rng.random() < 0.03
            self.stays.append((citizen_id, department, kind, admitted, on_leave, None))
            self.result.current_stays += 1
        if department and draw < stay_p * 25:  # an earlier stay within the year, some within 30 days
            days_ago = rng.randint(15, 30) if rng.random() < 0.12 else rng.randint(31, 365)
            admitted = now - datetime.timedelta(days=days_ago, minutes=rng.randint(0, 1440))
            discharged = admitted + datetime.timedelta(hours=rng.randint(4, 14 * 24))
            self.stays.append((citizen_id, department, StayKind.INPATIENT, admitted, False, discharged))
            self.result.past_stays += 1

        if age >= 70 and rng.random() < 0.3:
            contact_first = (self.female_name if rng.random() < 0.5 else self.male_name)(rng)
            name = f"{contact_first} {last.split()[-1]}"
            self.contacts.append((citizen_id, name, rng.choice(RELATIONS), _phone(rng), True))
            self.result.contact_persons += 1

        phone = _phone(rng) if rng.random() < 0.85 else ""
        search_name = Citizen.make_search_name(first, last)
        self.citizens.append(
            (
                citizen_id, cpr, birth_date, "male" if male else "female", first, last, search_name, street,
                postal_code, town, phone, place.organisation.pk, place.clinics(rng), home_care, now, now,
            )
        )  # fmt: skip


def generate_region(
    *,
    citizens: int,
    seed: int = 1,
    batch_size: int = 20_000,
    progress: Callable[[str], None] | None = None,
    extensions: Sequence[Callable[..., RegionExtension]] = (),
) -> GenerationResult:
    """Add ``citizens`` synthetic citizens (and the GP clinics they need), and whatever the
    ``extensions`` add for each batch of them. Safe to run again: new citizens continue the CPR
    sequences, and the random stream depends on how many are there."""
    if settings.IS_PRODUCTION:
        raise ImproperlyConfigured("Synthetic citizens are never generated in production.")
    if citizens < 1:
        raise ValueError("Generate at least one citizen.")
    say = progress or (lambda message: None)
    reference_data_load()

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one run at a time: each counts the CPR sequences
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('citizens.generate_region'))")
        stream = f"{seed}:{Citizen.objects.count()}"
        rng = random.Random(stream)
        codes = [row["code"] for row in _municipality_rows()]
        municipalities = {
            org.municipality_code: org
            for org in Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY, municipality_code__in=codes)
        }
        per_municipality = split_proportionally(citizens, {code: POPULATION[code] for code in municipalities})
        clinics, clinics_created = _create_clinics(rng, municipalities, per_municipality)
        departments = _departments_by_site()
        places = {
            code: _Municipality(
                organisation=municipality,
                code=code,
                clinics=WeightedChoice([pk for pk, _ in clinics[code]], [w for _, w in clinics[code]]),
                postal=WeightedChoice(POSTAL_AREAS[code], [3] + [1] * (len(POSTAL_AREAS[code]) - 1)),
                department_id=departments.get(HOSPITAL_SITE[code]),
            )
            for code, municipality in municipalities.items()
        }
        say(f"{len(places)} municipalities; {clinics_created} GP clinics created")

        maker = _CitizenMaker(rng, places, departments.get(UNIVERSITY_HOSPITAL_SITE))
        # Each extension has a random stream of its own, so it leaves the citizens as they were.
        added = [
            factory(rng=random.Random(f"{stream}:extension:{index}"), now=maker.now, progress=say)
            for index, factory in enumerate(extensions)
        ]
        writers = [
            RowWriter(Citizen, CITIZEN_COLUMNS),
            RowWriter(CitizenCondition, ["citizen", "condition", "onset_date"]),
            RowWriter(HospitalStay, ["citizen", "department", "kind", "admitted_at", "on_leave", "discharged_at"]),
            RowWriter(ContactPerson, ["citizen", "name", "relation", "phone", "is_primary"]),
        ]
        # Citizens of all municipalities interleaved, as they would be in a real table.
        order = [code for code, n in per_municipality.items() for _ in range(n)]
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            for code in order[start : start + batch_size]:
                maker.make(code)
            batch = maker.take()
            for writer, rows in zip(writers, batch, strict=True):
                writer.write(rows)
            for extension in added:
                extension.add(batch[0], batch[1])
            say(f"{min(start + batch_size, len(order)):,} of {len(order):,} citizens written")
        extras = {extension.name: extension.finish() for extension in added}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics for the planner
                for model in (Organisation, Citizen, CitizenCondition, HospitalStay, ContactPerson):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    result = maker.result
    result.extensions = extras
    result.citizens = len(order)
    result.clinics_created = clinics_created
    result.method = "COPY" if connection.vendor == "postgresql" else "bulk_create"
    return result
