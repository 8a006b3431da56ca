"""Demo organisations and staff for ``make run``. Refuses to run in production: the demo
accounts share one published password."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.text import slugify

from .choices import MembershipRole, OrganisationKind
from .identifiers import Namespace, synthetic_gln, synthetic_sor
from .models import Membership, Organisation, User
from .reference import FIXTURES, REGION_SOR, department_at, municipality_by_code, reference_data_load
from .services import membership_create, user_create

DEMO_PASSWORD = "smartcare-demo"  # noqa: S105 - published on purpose; demo only
DEMO_DOMAIN = "smartcare.example"
STREETS = ["Vestergade", "Østergade", "Kongensgade", "Jernbanegade", "Nørregade", "Søndergade", "Skovvej"]
FIRST_NAMES = ["Anne", "Mette", "Lars", "Søren", "Hanne", "Jens", "Camilla", "Peter", "Line", "Mads", "Ida", "Rasmus"]
LAST_NAMES = ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen"]
CLINICS_PER_MUNICIPALITY = {"0461": 6}
DEFAULT_CLINICS = 3


@dataclass(frozen=True)
class DemoAccount:
    email: str
    first_name: str
    last_name: str
    title: str
    role: str | None
    organisation: str  # a key into the organisations resolved below
    superuser: bool = False


DEMO_ACCOUNTS = [
    DemoAccount(
        "admin@smartcare.example",
        "Ada",
        "Administrator",
        "Systemadministrator",
        MembershipRole.ORGANISATION_ADMIN,
        "region",
        superuser=True,
    ),
    DemoAccount("gp@smartcare.example", "Karen", "Holm", "Praktiserende læge", MembershipRole.GP, "clinic:0461"),
    DemoAccount("gp2@smartcare.example", "Henrik", "Lund", "Praktiserende læge", MembershipRole.GP, "clinic:0621"),
    DemoAccount(
        "nurse.ouh@smartcare.example",
        "Sofie",
        "Krogh",
        "Sygeplejerske",
        MembershipRole.HOSPITAL_NURSE,
        "department:ouh-odense",
    ),
    DemoAccount(
        "system.ouh@smartcare.example",
        "OUH",
        "Systemintegration",
        "Systemintegration",
        MembershipRole.INTEGRATION,
        "department:ouh-odense",
    ),
    DemoAccount(
        "homecare.odense@smartcare.example",
        "Birgitte",
        "Møller",
        "Hjemmesygeplejerske",
        MembershipRole.HOME_CARE_NURSE,
        "municipality:0461",
    ),
    DemoAccount(
        "homecare.svendborg@smartcare.example",
        "Jonas",
        "Friis",
        "Hjemmesygeplejerske",
        MembershipRole.HOME_CARE_NURSE,
        "municipality:0479",
    ),
]

STAFF_BY_KIND = {
    OrganisationKind.GP_CLINIC: [MembershipRole.GP, MembershipRole.PRACTICE_NURSE],
    OrganisationKind.MUNICIPALITY: [
        MembershipRole.HOME_CARE_NURSE,
        MembershipRole.HOME_CARE_ASSISTANT,
        MembershipRole.CARE_COORDINATOR,
        MembershipRole.ORGANISATION_ADMIN,
    ],
    OrganisationKind.HOSPITAL_DEPARTMENT: [MembershipRole.HOSPITAL_PHYSICIAN, MembershipRole.HOSPITAL_NURSE],
    OrganisationKind.SPECIALIST_PRACTICE: [MembershipRole.SPECIALIST, MembershipRole.PRACTICE_NURSE],
}


def _email_slug(text: str) -> str:
    for danish, ascii_ in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("Æ", "Ae"), ("Ø", "Oe"), ("Å", "Aa")):
        text = text.replace(danish, ascii_)
    return slugify(text)


def _municipality_rows() -> list[dict[str, str]]:
    with open(FIXTURES / "municipalities.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def gp_clinic_values(number: int, i: int, row: dict[str, str]) -> dict[str, str]:
    """The demo's clinic number ``number`` (the ``i``-th of its municipality ``row``); the
    shipped SOR file lists the same clinics (``scripts/sor_file.py``)."""
    street = STREETS[(number + i) % len(STREETS)]
    return {
        "sor_code": synthetic_sor(Namespace.GP_CLINIC, number),
        "name": f"Lægerne {street} {number % 90 + 1}, {row['town']}",
        "gln": synthetic_gln(Namespace.GP_CLINIC, number),
        "ydernummer": f"{90000 + number}",
        "street": f"{street} {number % 90 + 1}",
        "postal_code": row["postal_code"],
        "city": row["town"],
        "phone": f"66 {10 + number % 89:02d} {number % 100:02d} {number % 97:02d}",
    }


def _gp_clinics(counter: Counter) -> dict[str, Organisation]:
    """A few clinics per municipality; returns the first clinic of each municipality by code."""
    first: dict[str, Organisation] = {}
    number = 0
    for row in _municipality_rows():
        municipality = municipality_by_code(row["code"])
        for i in range(CLINICS_PER_MUNICIPALITY.get(row["code"], DEFAULT_CLINICS)):
            number += 1
            values = gp_clinic_values(number, i, row)
            clinic = Organisation.objects.filter(sor_code=values["sor_code"]).first()
            if clinic is None:
                clinic = Organisation(kind=OrganisationKind.GP_CLINIC, municipality=municipality, **values)
                clinic.full_clean()
                clinic.save()
                counter["organisations"] += 1
            first.setdefault(row["code"], clinic)
    return first


def _ensure_member(
    counter: Counter,
    *,
    email: str,
    first: str,
    last: str,
    title: str,
    role: str | None,
    organisation: Organisation | None,
    password_hash: str,
    superuser: bool = False,
) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(
            by=None,
            email=email,
            first_name=first,
            last_name=last,
            title=title,
            password_hash=password_hash,
            is_superuser=superuser,
        )
        counter["users"] += 1
    if (
        role
        and organisation
        and not Membership.objects.filter(user=user, organisation=organisation, role=role).exists()
    ):
        membership_create(by=None, user=user, organisation=organisation, role=role)
        counter["memberships"] += 1
    return user


@transaction.atomic
def demo_data_load() -> Counter:
    if settings.IS_PRODUCTION:
        raise ImproperlyConfigured("Demo data is never loaded in production.")
    counter: Counter = Counter()
    reference_data_load()
    clinics = _gp_clinics(counter)
    lookup = {
        "region": Organisation.objects.get(sor_code=REGION_SOR),
        "clinic:0461": clinics["0461"],
        "clinic:0621": clinics["0621"],
        "department:ouh-odense": department_at("Odense Universitetshospital", "Odense"),
        "municipality:0461": municipality_by_code("0461"),
        "municipality:0479": municipality_by_code("0479"),
    }
    password_hash = make_password(DEMO_PASSWORD)  # one expensive hash, shared by every demo account
    for account in DEMO_ACCOUNTS:
        _ensure_member(
            counter,
            email=account.email,
            first=account.first_name,
            last=account.last_name,
            title=account.title,
            role=account.role,
            organisation=lookup[account.organisation],
            password_hash=password_hash,
            superuser=account.superuser,
        )
    # Staff for every role in every organisation, so each role can be tried out.
    n = 0
    for organisation in Organisation.objects.in_portal().filter(kind__in=STAFF_BY_KIND).order_by("kind", "sor_code"):
        for role in STAFF_BY_KIND[organisation.kind]:
            n += 1
            email = f"{_email_slug(role)}.{_email_slug(organisation.name)[:40]}@{DEMO_DOMAIN}"
            _ensure_member(
                counter,
                email=email,
                first=FIRST_NAMES[n % len(FIRST_NAMES)],
                last=LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)],
                title=MembershipRole(role).label,
                role=role,
                organisation=organisation,
                password_hash=password_hash,
            )
    return counter
