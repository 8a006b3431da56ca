"""Single-row rules of organisations, users and memberships: ``clean()`` for the message, and the
named database constraint for the guarantee when ``clean()`` is bypassed."""

import datetime
from functools import partial

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from freezegun import freeze_time

from sectors.choices import MUNICIPAL_UNIT_KINDS, MembershipRole, OrganisationKind
from sectors.models import Membership, Organisation, User

from .factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    HospitalWardFactory,
    MembershipFactory,
    MunicipalityFactory,
    MunicipalUnitFactory,
    OrganisationFactory,
    PharmacyFactory,
    RegionFactory,
    SpecialistPracticeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

KIND_FACTORIES = {
    OrganisationKind.REGION: RegionFactory,
    OrganisationKind.MUNICIPALITY: MunicipalityFactory,
    OrganisationKind.HOSPITAL_UNIT: HospitalUnitFactory,
    OrganisationKind.HOSPITAL_DEPARTMENT: HospitalDepartmentFactory,
    OrganisationKind.GP_CLINIC: GPClinicFactory,
    **{kind: partial(MunicipalUnitFactory, kind=kind) for kind in MUNICIPAL_UNIT_KINDS},
    OrganisationKind.HOSPITAL_WARD: HospitalWardFactory,
    OrganisationKind.SPECIALIST_PRACTICE: SpecialistPracticeFactory,
    OrganisationKind.PHARMACY: PharmacyFactory,
    OrganisationKind.OTHER: partial(OrganisationFactory, kind=OrganisationKind.OTHER),
}


def clean_errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo, translation.override("en"):
        instance.full_clean()
    with translation.override("en"):
        return excinfo.value.message_dict


def assert_db_refuses(instance, constraint_name: str | None = None):
    """Saving without ``full_clean()`` must still fail, in the database."""
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        instance.save()
    if constraint_name:
        assert constraint_name in str(excinfo.value)


def unsaved(kind: str, **fields) -> Organisation:
    """A well-formed organisation of ``kind`` that is not saved yet (no related rows needed)."""
    defaults = {"ydernummer": "", "municipality_code": ""}
    if kind == OrganisationKind.GP_CLINIC:
        defaults["ydernummer"] = "4711"
    if kind == OrganisationKind.MUNICIPALITY:
        defaults["municipality_code"] = "0461"
    return OrganisationFactory.build(kind=kind, **{**defaults, **fields})


# --- Organisation: clean() ------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(OrganisationKind))
def test_factories_build_valid_organisations(kind):
    organisation = KIND_FACTORIES[kind]()
    organisation.full_clean()
    assert organisation.sector  # every kind belongs to a sector


def test_municipality_requires_municipality_code():
    errors = clean_errors(unsaved(OrganisationKind.MUNICIPALITY, municipality_code=""))
    assert list(errors) == ["municipality_code"]


@pytest.mark.parametrize(
    "kind",
    [OrganisationKind.REGION, OrganisationKind.HOSPITAL_UNIT, OrganisationKind.GP_CLINIC],
)
def test_only_municipalities_have_a_municipality_code(kind):
    errors = clean_errors(unsaved(kind, municipality_code="0461"))
    assert list(errors) == ["municipality_code"]


def test_malformed_municipality_code_is_a_field_error():
    errors = clean_errors(unsaved(OrganisationKind.MUNICIPALITY, municipality_code="461"))
    assert "municipality_code" in errors


def test_gp_clinic_requires_ydernummer():
    errors = clean_errors(unsaved(OrganisationKind.GP_CLINIC, ydernummer=""))
    assert list(errors) == ["ydernummer"]


@pytest.mark.parametrize(
    "kind", [OrganisationKind.REGION, OrganisationKind.MUNICIPALITY, OrganisationKind.HOSPITAL_UNIT]
)
def test_only_gp_clinics_have_a_ydernummer(kind):
    errors = clean_errors(unsaved(kind, ydernummer="4711"))
    assert list(errors) == ["ydernummer"]


def test_department_requires_a_parent():
    errors = clean_errors(unsaved(OrganisationKind.HOSPITAL_DEPARTMENT, parent=None))
    assert list(errors) == ["parent"]


@pytest.mark.parametrize("parent_factory", [MunicipalityFactory, RegionFactory, HospitalDepartmentFactory])
def test_department_parent_must_be_a_hospital_unit(parent_factory):
    errors = clean_errors(unsaved(OrganisationKind.HOSPITAL_DEPARTMENT, parent=parent_factory()))
    assert list(errors) == ["parent"]


def test_department_under_a_hospital_unit_is_valid():
    unsaved(OrganisationKind.HOSPITAL_DEPARTMENT, parent=HospitalUnitFactory()).full_clean()


def test_located_in_must_be_a_municipality():
    errors = clean_errors(unsaved(OrganisationKind.GP_CLINIC, municipality=HospitalUnitFactory()))
    assert list(errors) == ["municipality"]


def test_organisation_cannot_be_its_own_parent():
    unit = HospitalUnitFactory()
    unit.parent = unit
    assert "parent" in clean_errors(unit)


def test_bad_gln_is_a_field_error():
    errors = clean_errors(unsaved(OrganisationKind.HOSPITAL_UNIT, gln="5790000000006"))
    assert list(errors) == ["gln"]


@pytest.mark.parametrize("field", ["sor_code", "gln"])
def test_duplicate_identifier_is_a_field_error(field):
    existing = HospitalUnitFactory()
    errors = clean_errors(unsaved(OrganisationKind.HOSPITAL_UNIT, **{field: getattr(existing, field)}))
    assert list(errors) == [field]


def test_duplicate_municipality_code_is_rejected():
    MunicipalityFactory(municipality_code="0461")
    errors = clean_errors(unsaved(OrganisationKind.MUNICIPALITY, municipality_code="0461"))
    # A conditional unique constraint reports as a non-field error (Django only maps
    # unconditional single-field constraints to the field).
    assert errors == {NON_FIELD_ERRORS: ["Another municipality already has this municipality code."]}


def test_duplicate_ydernummer_is_rejected():
    GPClinicFactory(ydernummer="4711")
    errors = clean_errors(unsaved(OrganisationKind.GP_CLINIC, ydernummer="4711"))
    assert errors == {NON_FIELD_ERRORS: ["Another GP clinic already has this ydernummer."]}


# --- Organisation: database constraints -------------------------------------------------------


def test_db_refuses_municipality_without_code():
    assert_db_refuses(
        unsaved(OrganisationKind.MUNICIPALITY, municipality_code=""),
        "organisation_municipality_code_only_for_municipalities",
    )


def test_db_refuses_malformed_municipality_code():
    assert_db_refuses(
        unsaved(OrganisationKind.MUNICIPALITY, municipality_code="46a1"),
        "organisation_municipality_code_only_for_municipalities",
    )


def test_db_refuses_municipality_code_on_other_kinds():
    assert_db_refuses(
        unsaved(OrganisationKind.HOSPITAL_UNIT, municipality_code="0461"),
        "organisation_municipality_code_only_for_municipalities",
    )


def test_db_refuses_ydernummer_outside_gp_clinics():
    assert_db_refuses(
        unsaved(OrganisationKind.MUNICIPALITY, ydernummer="4711"), "organisation_ydernummer_only_for_practices"
    )


def test_db_refuses_department_without_parent():
    assert_db_refuses(unsaved(OrganisationKind.HOSPITAL_DEPARTMENT, parent=None), "organisation_department_has_parent")


@pytest.mark.parametrize("field", ["sor_code", "gln"])
def test_db_refuses_duplicate_identifier(field):
    existing = HospitalUnitFactory()
    assert_db_refuses(unsaved(OrganisationKind.HOSPITAL_UNIT, **{field: getattr(existing, field)}))


def test_db_refuses_duplicate_municipality_code():
    MunicipalityFactory(municipality_code="0461")
    assert_db_refuses(unsaved(OrganisationKind.MUNICIPALITY, municipality_code="0461"))


def test_db_allows_many_organisations_without_municipality_code():
    HospitalUnitFactory.create_batch(3)
    assert Organisation.objects.filter(municipality_code="").count() == 3


def test_db_refuses_duplicate_ydernummer():
    GPClinicFactory(ydernummer="4711")
    assert_db_refuses(unsaved(OrganisationKind.GP_CLINIC, ydernummer="4711"))


# --- User -------------------------------------------------------------------------------------


def test_user_clean_lowercases_email():
    user = User(email="Karen.Holm@Example.DK")
    user.set_unusable_password()
    user.full_clean()
    assert user.email == "karen.holm@example.dk"


def test_db_refuses_email_differing_only_in_case():
    User.objects.create_user("karen@example.dk")
    user = User(email="KAREN@example.dk")
    assert_db_refuses(user)


# --- Membership -------------------------------------------------------------------------------


def test_membership_end_before_start_is_rejected():
    membership = MembershipFactory.build(
        user=UserFactory(),
        organisation=GPClinicFactory(),
        start_date=datetime.date(2025, 3, 1),
        end_date=datetime.date(2025, 2, 28),
    )
    assert list(clean_errors(membership)) == ["end_date"]
    assert_db_refuses(membership, "membership_end_not_before_start")


def test_membership_ending_on_its_first_day_is_valid():
    membership = MembershipFactory.build(
        user=UserFactory(),
        organisation=GPClinicFactory(),
        start_date=datetime.date(2025, 3, 1),
        end_date=datetime.date(2025, 3, 1),
    )
    membership.full_clean()
    membership.save()


def test_db_refuses_the_same_role_twice_from_the_same_day():
    first = MembershipFactory()
    duplicate = Membership(
        user=first.user, organisation=first.organisation, role=first.role, start_date=first.start_date
    )
    assert "__all__" in clean_errors(duplicate)
    assert_db_refuses(duplicate)


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (OrganisationKind.MUNICIPALITY, MembershipRole.GP),
        (OrganisationKind.MUNICIPALITY, MembershipRole.HOSPITAL_NURSE),
        (OrganisationKind.GP_CLINIC, MembershipRole.HOME_CARE_NURSE),
        (OrganisationKind.GP_CLINIC, MembershipRole.HOSPITAL_PHYSICIAN),
        (OrganisationKind.HOSPITAL_DEPARTMENT, MembershipRole.GP),
        (OrganisationKind.HOSPITAL_UNIT, MembershipRole.HOME_CARE_ASSISTANT),
        (OrganisationKind.REGION, MembershipRole.HOSPITAL_NURSE),
        (OrganisationKind.REGION, MembershipRole.GP),
    ],
)
def test_role_that_does_not_fit_the_organisation_is_rejected(kind, role):
    membership = Membership(user=UserFactory(), organisation=KIND_FACTORIES[kind](), role=role)
    assert list(clean_errors(membership)) == ["role"]


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (OrganisationKind.GP_CLINIC, MembershipRole.GP),
        (OrganisationKind.GP_CLINIC, MembershipRole.PRACTICE_NURSE),
        (OrganisationKind.MUNICIPALITY, MembershipRole.HOME_CARE_NURSE),
        (OrganisationKind.MUNICIPALITY, MembershipRole.HOME_CARE_ASSISTANT),
        (OrganisationKind.HOSPITAL_DEPARTMENT, MembershipRole.HOSPITAL_PHYSICIAN),
        (OrganisationKind.HOSPITAL_UNIT, MembershipRole.HOSPITAL_NURSE),
    ]
    + [(kind, MembershipRole.CARE_COORDINATOR) for kind in OrganisationKind]
    + [(kind, MembershipRole.ORGANISATION_ADMIN) for kind in OrganisationKind],
)
def test_role_that_fits_the_organisation_is_accepted(kind, role):
    Membership(user=UserFactory(), organisation=KIND_FACTORIES[kind](), role=role).full_clean()


def test_is_active_on_covers_start_and_end_day_inclusive():
    membership = Membership(start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2025, 6, 30))
    assert not membership.is_active_on(datetime.date(2024, 12, 31))
    assert membership.is_active_on(datetime.date(2025, 1, 1))
    assert membership.is_active_on(datetime.date(2025, 6, 30))
    assert not membership.is_active_on(datetime.date(2025, 7, 1))


def test_open_ended_membership_stays_active():
    membership = Membership(start_date=datetime.date(2025, 1, 1), end_date=None)
    assert membership.is_active_on(datetime.date(2099, 12, 31))
    assert not membership.is_active_on(datetime.date(2024, 12, 31))


@freeze_time("2025-06-30 12:00:00")
def test_is_active_defaults_to_today():
    assert Membership(start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2025, 6, 30)).is_active
    assert not Membership(start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2025, 6, 29)).is_active
    assert not Membership(start_date=datetime.date(2025, 7, 1)).is_active


@freeze_time("2025-06-30 12:00:00")
def test_active_queryset_matches_is_active_and_skips_inactive_users_and_organisations():
    today = datetime.date(2025, 6, 30)
    current = MembershipFactory(start_date=today - datetime.timedelta(days=10))
    ends_today = MembershipFactory(start_date=today - datetime.timedelta(days=10), end_date=today)
    MembershipFactory(start_date=today - datetime.timedelta(days=10), end_date=today - datetime.timedelta(days=1))
    MembershipFactory(start_date=today + datetime.timedelta(days=1))
    MembershipFactory(user=UserFactory(is_active=False))
    MembershipFactory(organisation=GPClinicFactory(is_active=False))

    assert set(Membership.objects.active()) == {current, ends_today}
    assert {m for m in Membership.objects.all() if m.is_active} >= {current, ends_today}
