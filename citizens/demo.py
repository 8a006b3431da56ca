"""Demo citizens for ``make run``: obviously synthetic CPR numbers (the sequence part always
starts with 9 and the numbers ignore modulus 11), realistic names, addresses and conditions."""

from __future__ import annotations

import datetime
import random
from collections import Counter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from sectors.choices import OrganisationKind
from sectors.models import Membership, Organisation
from sectors.reference import department_at, municipality_by_code

from .cpr import parse_cpr
from .models import Citizen, CitizenCondition, Condition, ContactPerson, HospitalStay
from .reference import conditions_load

FEMALE = ["Inge", "Kirsten", "Hanne", "Mette", "Birthe", "Susanne", "Lone", "Jytte", "Karen", "Grethe", "Bente", "Anna"]
MALE = ["Jens", "Niels", "Poul", "Ole", "Henrik", "Erik", "Hans", "Jørgen", "Peter", "Per", "Bent", "Svend"]
LAST = [
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Poulsen",
    "Johansen",
    "Knudsen",
]
STREETS = [
    "Vesterbro",
    "Klostervej",
    "Skibhusvej",
    "Hjallesevej",
    "Nyborgvej",
    "Middelfartvej",
    "Rugårdsvej",
    "Munkebjergvej",
    "Tarupvej",
    "Bolbrovej",
    "Højstrupvej",
    "Sdr. Boulevard",
]
RELATIONS = ["datter", "søn", "ægtefælle", "nabo", "barnebarn"]
# (municipality code, town, postal code, how many of the Odense GP's citizens live there)
ODENSE_AREA = [
    ("0461", "Odense", ["5000", "5200", "5210", "5220", "5230", "5250"], 28),
    ("0440", "Kerteminde", ["5300"], 3),
    ("0480", "Bogense", ["5400"], 2),
    ("0430", "Ringe", ["5750"], 2),
    ("0420", "Assens", ["5610"], 1),
]
CONDITION_SETS = [
    ["J44"],
    ["E11"],
    ["I50", "I10"],
    ["E11", "I10"],
    ["J44", "I25"],
    ["I10"],
    ["I25", "I50"],
    ["E11", "I25", "I10"],
    ["J44", "F32"],
    ["M06"],
    ["I48", "I50"],
    ["N18", "E11"],
]


def _cpr(rng: random.Random, serial: int) -> tuple[str, datetime.date, str]:
    """A valid, obviously synthetic CPR for someone aged 45-92: the sequence part is 9xxx."""
    today = timezone.localdate()
    while True:
        birth = today - datetime.timedelta(days=rng.randint(45 * 365, 92 * 365))
        if not 1937 <= birth.year <= 1999:  # 7th digit 9 gives the 1900s for these years
            continue
        digits = f"{birth:%d%m}{birth.year % 100:02d}9{serial % 1000:03d}"
        return digits, birth, parse_cpr(digits).sex


def _citizen(rng, serial, *, municipality, gp_clinic, town, postal_code, home_care) -> tuple[Citizen, bool]:
    digits, birth, sex = _cpr(rng, serial)
    existing = Citizen.objects.filter(cpr=digits).first()
    if existing is not None:
        return existing, False
    first = rng.choice(MALE if sex == "male" else FEMALE)
    citizen = Citizen(
        cpr=digits,
        birth_date=birth,
        sex=sex,
        first_name=first,
        last_name=rng.choice(LAST),
        street=f"{rng.choice(STREETS)} {rng.randint(1, 140)}",
        postal_code=postal_code,
        city=town,
        phone=f"{rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        municipality=municipality,
        gp_clinic=gp_clinic,
        receives_home_care=home_care,
        consent_to_share=rng.random() < 0.85 or None,
    )
    citizen.full_clean()
    citizen.save()
    return citizen, True


def _decorate(rng: random.Random, citizen: Citizen, conditions: dict[str, Condition]) -> None:
    for code in rng.choice(CONDITION_SETS):
        onset = citizen.birth_date + datetime.timedelta(
            days=rng.randint(40 * 365, max(40 * 365 + 1, citizen.age * 365 - 30))
        )
        CitizenCondition.objects.get_or_create(
            citizen=citizen, condition=conditions[code], defaults={"onset_date": min(onset, timezone.localdate())}
        )
    if rng.random() < 0.7:
        ContactPerson.objects.create(
            citizen=citizen,
            name=f"{rng.choice(FEMALE + MALE)} {citizen.last_name}",
            relation=rng.choice(RELATIONS),
            phone=f"{rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            is_primary=True,
        )


@transaction.atomic
def citizen_demo_load() -> Counter:
    if settings.IS_PRODUCTION:
        raise ImproperlyConfigured("Demo data is never loaded in production.")
    rng = random.Random(20261128)  # noqa: S311 - deterministic demo data, not security
    counter: Counter = Counter()
    conditions_load()
    conditions = {c.icd10_code: c for c in Condition.objects.all()}
    odense_gp = Membership.objects.get(user__email="gp@smartcare.example").organisation
    kolding_gp = Membership.objects.get(user__email="gp2@smartcare.example").organisation
    ouh_odense = department_at("Odense Universitetshospital", "Odense")
    ouh_svendborg = department_at("Odense Universitetshospital", "Svendborg")
    serial = 0
    created: list[Citizen] = []

    def add(**kwargs):
        nonlocal serial
        serial += 1
        own = random.Random(serial)  # noqa: S311 - one stream per citizen: a re-run yields the same people
        citizen, new = _citizen(own, serial, **kwargs)
        if new:
            _decorate(own, citizen, conditions)
            counter["citizens"] += 1
            created.append(citizen)
        return citizen

    odense_citizens = []
    for code, town, postal_codes, count in ODENSE_AREA:
        municipality = municipality_by_code(code)
        for _ in range(count + (8 if code == "0461" else 0)):
            odense_citizens.append(
                add(
                    municipality=municipality,
                    gp_clinic=odense_gp,
                    town=town,
                    postal_code=rng.choice(postal_codes),
                    home_care=rng.random() < 0.4,
                )
            )
    svendborg = municipality_by_code("0479")
    svendborg_clinics = list(Organisation.objects.filter(kind=OrganisationKind.GP_CLINIC, municipality=svendborg))
    for i in range(14):
        add(
            municipality=svendborg,
            gp_clinic=svendborg_clinics[i % len(svendborg_clinics)],
            town="Svendborg",
            postal_code="5700",
            home_care=rng.random() < 0.5,
        )
    kolding = municipality_by_code("0621")
    for _ in range(14):
        add(
            municipality=kolding, gp_clinic=kolding_gp, town="Kolding", postal_code="6000", home_care=rng.random() < 0.3
        )

    # A few of the Odense GP's citizens are in hospital now, one was discharged last week.
    now = timezone.now()
    if created:
        for citizen in odense_citizens[:4]:
            if not citizen.stays.exists():
                HospitalStay.objects.create(
                    citizen=citizen,
                    department=ouh_odense,
                    admitted_at=now - datetime.timedelta(days=rng.randint(1, 6), hours=3),
                )
                counter["stays"] += 1
        citizen = odense_citizens[5]
        if not citizen.stays.exists():
            HospitalStay.objects.create(
                citizen=citizen,
                department=ouh_svendborg,
                admitted_at=now - datetime.timedelta(days=12),
                discharged_at=now - datetime.timedelta(days=7),
            )
            counter["stays"] += 1
    return counter
