"""A small world for access tests: two municipalities, two GP clinics, a hospital unit with
two departments, and one citizen listed at clinic A and living in municipality A."""

from dataclasses import dataclass

import pytest

from citizens.access import Actor
from citizens.tests.factories import CitizenFactory
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.models import Organisation, User
from sectors.tests.factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    MembershipFactory,
    MunicipalityFactory,
)


@dataclass
class World:
    municipality_a: Organisation
    municipality_b: Organisation
    clinic_a: Organisation
    clinic_b: Organisation
    unit: Organisation
    department: Organisation
    other_department: Organisation
    citizen: object
    users: dict


def actor_for(user: User, organisation: Organisation | None = None) -> Actor:
    return Actor(user=user, acting=resolve(user, organisation.pk if organisation else None), ip_address="127.0.0.1")


@pytest.fixture(autouse=True)
def english(request):
    """These tests read messages in English; Danish (the default) is tested on its own."""
    from django.conf import settings
    from django.utils import translation

    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def world(db) -> World:
    municipality_a, municipality_b = MunicipalityFactory(), MunicipalityFactory()
    clinic_a = GPClinicFactory(municipality=municipality_a)
    clinic_b = GPClinicFactory(municipality=municipality_b)
    unit = HospitalUnitFactory()
    department = HospitalDepartmentFactory(parent=unit)
    other_department = HospitalDepartmentFactory()
    citizen = CitizenFactory(municipality=municipality_a, gp_clinic=clinic_a)
    roles = {
        "gp_a": (clinic_a, MembershipRole.GP),
        "nurse_a": (clinic_a, MembershipRole.PRACTICE_NURSE),
        "gp_b": (clinic_b, MembershipRole.GP),
        "homecare_a": (municipality_a, MembershipRole.HOME_CARE_NURSE),
        "assistant_a": (municipality_a, MembershipRole.HOME_CARE_ASSISTANT),
        "homecare_b": (municipality_b, MembershipRole.HOME_CARE_NURSE),
        "hospital_nurse": (department, MembershipRole.HOSPITAL_NURSE),
        "unit_physician": (unit, MembershipRole.HOSPITAL_PHYSICIAN),
        "other_hospital": (other_department, MembershipRole.HOSPITAL_PHYSICIAN),
        "admin_b": (clinic_b, MembershipRole.ORGANISATION_ADMIN),
    }
    users = {name: MembershipFactory(organisation=org, role=role).user for name, (org, role) in roles.items()}
    return World(municipality_a, municipality_b, clinic_a, clinic_b, unit, department, other_department, citizen, users)


@pytest.fixture
def actor(world):
    return lambda name: actor_for(world.users[name])
