import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from citizens.choices import AccessAction, AccessReason
from citizens.models import AccessLogEntry, Citizen, ConsentEvent, HospitalStay
from citizens.services import (
    ConditionItem,
    ContactItem,
    citizen_create,
    citizen_update,
    consent_record,
    hospital_stay_end,
    hospital_stay_start,
)
from citizens.tests.factories import ConditionFactory

pytestmark = pytest.mark.django_db


def _create(actor, world, **overrides):
    fields = {
        "cpr": "120345-9871",
        "first_name": "Inge",
        "last_name": "Holm",
        "municipality": world.municipality_a,
        "gp_clinic": world.clinic_a,
    }
    fields.update(overrides)
    return citizen_create(actor=actor, **fields)


def test_create_normalises_cpr_derives_birth_date_and_sex_and_logs(world, actor):
    copd = ConditionFactory(icd10_code="J44")
    citizen = _create(
        actor("gp_a"),
        world,
        conditions=[ConditionItem(copd, datetime.date(2015, 5, 1))],
        contact_persons=[ContactItem(name="Bo Holm", phone="20304050", relation="søn", is_primary=True)],
    )
    assert citizen.cpr == "1203459871"
    assert citizen.cpr_formatted == "120345-9871"
    assert citizen.birth_date == datetime.date(1945, 3, 12)
    assert citizen.sex == "male"
    assert citizen.search_name == "INGE HOLM"
    assert [c.condition.icd10_code for c in citizen.conditions.all()] == ["J44"]
    assert citizen.contact_persons.get().name == "Bo Holm"
    entry = AccessLogEntry.objects.get(citizen=citizen)
    assert (entry.action, entry.reason) == (AccessAction.CREATE, AccessReason.CREATED)


@pytest.mark.parametrize("bad", ["310245-1234", "12034598", "abcdefghij", ""])
def test_invalid_cpr_is_a_field_error_and_nothing_is_saved(world, actor, bad):
    with pytest.raises(ValidationError) as exc:
        _create(actor("gp_a"), world, cpr=bad)
    assert "cpr" in exc.value.message_dict
    assert not Citizen.objects.filter(first_name="Inge").exists()


def test_duplicate_cpr_is_a_clear_error(world, actor):
    with pytest.raises(ValidationError) as exc:
        _create(actor("gp_a"), world, cpr=world.citizen.cpr)
    assert "already registered" in exc.value.message_dict["cpr"][0]


def test_only_gp_clinics_and_municipalities_register(world, actor):
    with pytest.raises(PermissionDenied):
        _create(actor("hospital_nurse"), world)


def test_the_registering_organisation_must_keep_a_relationship(world, actor):
    with pytest.raises(ValidationError):
        _create(actor("gp_b"), world)  # clinic B registering a citizen of clinic A
    assert not Citizen.objects.filter(cpr="1203459871").exists()
    citizen = _create(actor("homecare_b"), world, municipality=world.municipality_b, gp_clinic=world.clinic_a)
    assert citizen.municipality == world.municipality_b


def test_onset_in_the_future_or_before_birth_is_refused(world, actor):
    copd = ConditionFactory(icd10_code="J44")
    with pytest.raises(ValidationError):
        _create(
            actor("gp_a"), world, conditions=[ConditionItem(copd, timezone.localdate() + datetime.timedelta(days=3))]
        )
    with pytest.raises(ValidationError):
        _create(actor("gp_a"), world, conditions=[ConditionItem(copd, datetime.date(1930, 1, 1))])


def test_update_logs_the_changed_fields(world, actor):
    citizen_update(actor=actor("homecare_a"), citizen=world.citizen, phone="11223344", receives_home_care=True)
    world.citizen.refresh_from_db()
    assert world.citizen.receives_home_care
    entry = AccessLogEntry.objects.get(action=AccessAction.UPDATE)
    assert "phone" in entry.detail and "receives_home_care" in entry.detail
    assert entry.reason == AccessReason.MUNICIPALITY


def test_update_by_someone_outside_the_policy_is_refused(world, actor):
    with pytest.raises(PermissionDenied):
        citizen_update(actor=actor("gp_b"), citizen=world.citizen, phone="1")


def test_consent_is_recorded_with_who_and_when_and_logged(world, actor):
    consent_record(actor=actor("gp_a"), citizen=world.citizen, consent=True, note="Mundtligt samtykke")
    world.citizen.refresh_from_db()
    assert world.citizen.consent_to_share is True
    assert world.citizen.consent_recorded_by == world.users["gp_a"]
    assert ConsentEvent.objects.get(citizen=world.citizen).note == "Mundtligt samtykke"
    assert AccessLogEntry.objects.filter(action=AccessAction.CONSENT).count() == 1


def test_a_transfer_closes_the_previous_stay(world):
    now = timezone.now() - datetime.timedelta(days=4)
    first = hospital_stay_start(citizen=world.citizen, department=world.department, admitted_at=now)
    second = hospital_stay_start(
        citizen=world.citizen, department=world.other_department, admitted_at=now + datetime.timedelta(hours=5)
    )
    first.refresh_from_db()
    assert first.discharged_at == second.admitted_at
    assert world.citizen.current_stay == second
    hospital_stay_end(citizen=world.citizen, discharged_at=now + datetime.timedelta(days=2))
    assert world.citizen.current_stay is None
    with pytest.raises(ValidationError):
        hospital_stay_end(citizen=world.citizen, discharged_at=now + datetime.timedelta(days=3))
    assert HospitalStay.objects.filter(citizen=world.citizen).count() == 2


def test_a_stay_needs_a_department(world):
    with pytest.raises(ValidationError):
        hospital_stay_start(citizen=world.citizen, department=world.unit, admitted_at=timezone.now())
