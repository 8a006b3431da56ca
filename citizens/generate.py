"""Synthetic citizens for load tests and demos: ``manage.py generate_region --citizens N``.

The data is made up but shaped like the Region of Southern Denmark (``synthetic_region``):
citizens spread over the 22 municipalities in proportion to their real populations, a Danish age
pyramid, Danish names, addresses with the municipalities' real postal codes, about one GP clinic per
1,500 citizens in the citizen's own municipality, chronic conditions whose prevalence rises with age
(hypertension about 20 % of adults, type 2 diabetes 6 %, COPD 5 %, ...), some citizens in home
care, and a small share admitted now (plus recent and older stays) at a department of their area's
hospital. CPR numbers are valid but recognisably synthetic (``synthetic_cpr``); repeated runs add
citizens and never collide.

Rows are written in batches (``rowwriter``): with COPY on PostgreSQL (1.2 million citizens take
minutes), with ``bulk_create`` elsewhere. ``bulk_create`` and COPY skip ``Citizen.save()``, so
``search_name`` is set here. Never runs in production.

Other apps add their data for each batch in the same transaction through ``extensions``
(``RegionExtension``; the command takes them from ``settings.SMARTCARE_REGION_EXTENSIONS``, e.g.
the care plans of ``careplans.generate``), so this module needs to know none of them.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone

from sectors.choices import OrganisationKind
from sectors.identifiers import Namespace, synthetic_gln, synthetic_sor
from sectors.models import Organisation
from sectors.reference import FIXTURES, reference_data_load

from .choices import StayKind
from .models import CareRelationship, Citizen, CitizenCondition, Condition, ContactPerson, HospitalStay
from .relationships import relationships_recompute
from .rowwriter import RowWriter
from .synthetic_cpr import next_slots, synthetic_cpr
from .synthetic_region import (
    AGE_BANDS,
    CONDITION_PROFILES,
    FEMALE_NAMES,
    HOSPITAL_SITE,
    LAST_NAMES,
    MALE_NAMES,
    POPULATION,
    POSTAL_AREAS,
    RELATIONS,
    STREETS,
    UNIVERSITY_HOSPITAL_SHARE,
    UNIVERSITY_HOSPITAL_SITE,
    condition_probabilities,
)

CITIZENS_PER_CLINIC = 1500
FIRST_GENERATED_CLINIC = 100_000  # clinic numbers below this belong to demo data


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
        self.slots = next_slots()
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
        # The care relationships of everything written above (the receivers do not see bulk writes).
        relationships_recompute(fix=True)
        say("care relationships written")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics for the planner
                for model in (Organisation, Citizen, CitizenCondition, HospitalStay, ContactPerson, CareRelationship):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    result = maker.result
    result.extensions = extras
    result.citizens = len(order)
    result.clinics_created = clinics_created
    result.method = "COPY" if connection.vendor == "postgresql" else "bulk_create"
    return result
