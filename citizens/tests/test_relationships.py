"""Care relationships as data: the rows each change writes, the gate reading them, and
``relationships_check`` proving the table matches the facts after every kind of change."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from citizens.access import access_reason, organisation_sees, organisations_seeing, visible_citizens
from citizens.choices import AccessReason, ObjectionTarget, RelationshipKind
from citizens.models import CareRelationship, HospitalStay
from citizens.relationships import live, relationships_recompute
from citizens.services import (
    break_glass_open,
    citizen_create,
    citizen_update,
    hospital_stay_end,
    hospital_stay_start,
    objection_record,
)
from citizens.tests.factories import CitizenFactory
from sectors.choices import Sector

pytestmark = pytest.mark.django_db


def rows(citizen, **filters) -> set:
    return set(
        CareRelationship.objects.filter(live(timezone.now()), citizen=citizen, **filters).values_list(
            "kind", "organisation_id"
        )
    )


def check_clean() -> None:
    out = StringIO()
    call_command("relationships_check", stdout=out)
    assert "OK" in out.getvalue()


def test_registration_writes_the_gp_clinic_and_the_municipality(world, actor):
    citizen = citizen_create(
        actor=actor("gp_a"),
        cpr="0101409001",
        first_name="Ane",
        last_name="Hansen",
        municipality=world.municipality_a,
        gp_clinic=world.clinic_a,
    )
    assert rows(citizen) == {
        (RelationshipKind.GP_CLINIC, world.clinic_a.pk),
        (RelationshipKind.MUNICIPALITY, world.municipality_a.pk),
    }
    assert CareRelationship.objects.filter(citizen=citizen, created_via="registration").count() == 2
    check_clean()


def test_a_move_and_a_new_gp_end_the_old_rows_and_open_new_ones(world, actor):
    citizen_update(
        actor=actor("gp_a"), citizen=world.citizen, municipality=world.municipality_b, gp_clinic=world.clinic_b
    )
    assert rows(world.citizen) == {
        (RelationshipKind.GP_CLINIC, world.clinic_b.pk),
        (RelationshipKind.MUNICIPALITY, world.municipality_b.pk),
    }
    ended = CareRelationship.objects.get(citizen=world.citizen, organisation=world.municipality_a)
    assert ended.valid_to is not None and ended.valid_to <= timezone.now()
    assert access_reason(actor("homecare_a"), world.citizen) is None
    check_clean()
    # Moving back reopens the same row.
    citizen_update(actor=actor("gp_b"), citizen=world.citizen, municipality=world.municipality_a)
    assert (RelationshipKind.MUNICIPALITY, world.municipality_a.pk) in rows(world.citizen)
    check_clean()


def test_admission_discharge_and_transfer(world, actor):
    now = timezone.now() - datetime.timedelta(minutes=20)
    stay = hospital_stay_start(citizen=world.citizen, department=world.department, admitted_at=now)
    row = CareRelationship.objects.get(source_type="stay", source_id=str(stay.pk))
    assert (row.current, row.valid_to, row.created_via) == (True, None, "admission")
    check_clean()

    hospital_stay_start(
        citizen=world.citizen, department=world.other_department, admitted_at=now + datetime.timedelta(minutes=5)
    )
    row.refresh_from_db()
    assert not row.current
    assert row.valid_to == now + datetime.timedelta(minutes=5, days=30)
    assert access_reason(actor("hospital_nurse"), world.citizen)[0] == AccessReason.HOSPITAL_RECENT
    assert access_reason(actor("other_hospital"), world.citizen)[0] == AccessReason.HOSPITAL_STAY
    check_clean()

    hospital_stay_end(citizen=world.citizen, discharged_at=now + datetime.timedelta(minutes=10))
    assert not CareRelationship.objects.filter(kind=RelationshipKind.HOSPITAL_STAY, current=True).exists()
    check_clean()


def test_a_cancelled_admission_ends_its_row(world, actor):
    stay = hospital_stay_start(citizen=world.citizen, department=world.department, admitted_at=timezone.now())
    stay.delete()
    assert access_reason(actor("hospital_nurse"), world.citizen) is None
    check_clean()


def test_validity_is_read_at_lookup_time(world, actor):
    """A discharged stay's row ends by itself: no job removes it."""
    start = timezone.now()
    hospital_stay_start(citizen=world.citizen, department=world.department, admitted_at=start)
    hospital_stay_end(citizen=world.citizen, discharged_at=start)
    nurse = actor("hospital_nurse")
    with freeze_time(start + datetime.timedelta(days=29)):
        assert access_reason(nurse, world.citizen)[0] == AccessReason.HOSPITAL_RECENT
    with freeze_time(start + datetime.timedelta(days=31)):
        assert access_reason(nurse, world.citizen) is None
        assert not visible_citizens(nurse.acting, nurse.user).exists()
        check_clean()


def test_the_hospital_sees_its_departments_stays_but_a_department_not_the_hospitals(world, actor):
    hospital_stay_start(citizen=world.citizen, department=world.department, admitted_at=timezone.now())
    assert access_reason(actor("unit_physician"), world.citizen)[0] == AccessReason.HOSPITAL_STAY
    assert organisation_sees(world.unit, world.citizen)
    other = CitizenFactory()
    CareRelationship.objects.create(
        citizen=other, organisation=world.unit, kind=RelationshipKind.CARE_TEAM, source_type="test", source_id="1"
    )
    assert not organisation_sees(world.department, other)


def test_an_objection_removes_rows_access_except_a_current_stay(world, actor):
    hospital_stay_start(citizen=world.citizen, department=world.department, admitted_at=timezone.now())
    before = set(CareRelationship.objects.values_list("pk", "valid_to"))
    objection_record(actor=actor("gp_a"), citizen=world.citizen, target=ObjectionTarget.SECTOR, sector=Sector.HOSPITAL)
    objection_record(
        actor=actor("gp_a"),
        citizen=world.citizen,
        target=ObjectionTarget.ORGANISATION,
        organisation=world.municipality_a,
    )
    assert set(CareRelationship.objects.values_list("pk", "valid_to")) == before  # no row effect
    assert access_reason(actor("hospital_nurse"), world.citizen)[0] == AccessReason.HOSPITAL_STAY
    assert access_reason(actor("homecare_a"), world.citizen) is None
    check_clean()


def test_break_the_glass_is_a_personal_row_with_its_reason(world, actor):
    outsider = actor("gp_b")
    break_glass_open(actor=outsider, cpr=world.citizen.cpr, reason="Akut henvendelse i vagten")
    row = CareRelationship.objects.get(kind=RelationshipKind.BREAK_THE_GLASS)
    assert (row.user_id, row.organisation_id, row.created_by_id) == (
        outsider.user.pk,
        world.clinic_b.pk,
        outsider.user.pk,
    )
    assert access_reason(outsider, world.citizen) == (AccessReason.BREAK_THE_GLASS, "Akut henvendelse i vagten")
    assert access_reason(actor("admin_b"), world.citizen) is None
    assert not organisation_sees(world.clinic_b, world.citizen)
    check_clean()


def test_organisations_seeing_answers_many_organisations_in_two_queries(world, actor):
    hospital_stay_start(citizen=world.citizen, department=world.department, admitted_at=timezone.now())
    orgs = [world.clinic_a, world.clinic_b, world.municipality_a, world.municipality_b, world.unit, world.department]
    with CaptureQueriesContext(connection) as queries:
        seeing = organisations_seeing(world.citizen, orgs)
    assert len(queries) == 2
    assert seeing == {org.pk for org in orgs if organisation_sees(org, world.citizen)}
    assert seeing == {world.clinic_a.pk, world.municipality_a.pk, world.unit.pk, world.department.pk}


def test_the_gate_costs_one_query_whatever_the_number_of_relationships(world, actor):
    nurse = actor("hospital_nurse")

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            list(visible_citizens(nurse.acting, nurse.user, with_reason=True)[:25])
            access_reason(nurse, world.citizen)
        return len(queries)

    hospital_stay_start(citizen=world.citizen, department=world.department, admitted_at=timezone.now())
    few = cost()
    for citizen in CitizenFactory.create_batch(5):
        hospital_stay_start(citizen=citizen, department=world.department, admitted_at=timezone.now())
    assert cost() == few == 2


def test_the_check_finds_drift_and_fixes_it(world):
    HospitalStay.objects.create(citizen=world.citizen, department=world.department, admitted_at=timezone.now())
    CareRelationship.objects.filter(kind=RelationshipKind.HOSPITAL_STAY).delete()  # missing
    CareRelationship.objects.filter(kind=RelationshipKind.GP_CLINIC).update(
        valid_to=timezone.now() + datetime.timedelta(days=1)
    )
    CareRelationship.objects.create(  # extra: no fact behind it
        citizen=world.citizen,
        organisation=world.clinic_b,
        kind=RelationshipKind.GP_CLINIC,
        source_type="citizen",
        source_id="gone",
    )
    with pytest.raises(CommandError, match="1 missing, 1 extra, 1 with wrong validity"):
        call_command("relationships_check", stdout=StringIO())
    call_command("relationships_check", "--fix", stdout=StringIO())
    check_clean()
    assert not relationships_recompute()


def test_generate_region_writes_the_rows(db):
    call_command("generate_region", citizens=300, seed=3, stdout=StringIO())
    assert CareRelationship.objects.exists()
    check_clean()
