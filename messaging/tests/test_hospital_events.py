"""Hospital events: the stay changes, the municipality is notified (copy to the GP clinic), and
the latest event can be corrected (RE_) or cancelled (AN_)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from freezegun import freeze_time

from citizens.access import access_reason
from citizens.choices import AccessReason, StayKind
from citizens.models import Citizen, HospitalStay
from messaging.choices import HospitalCode, MessageType, RecipientRole, Revision
from messaging.models import HospitalEvent, Message
from messaging.selectors import inbox
from messaging.services import hospital_event_cancel, hospital_event_correct, hospital_event_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(timezone.now().replace(microsecond=0)) as frozen:
        yield frozen


def ago(hours: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=hours)


@pytest.fixture
def record(world, actor):
    def record(code: str, hours_ago: float, by: str = "hospital_nurse") -> HospitalEvent:
        return hospital_event_record(actor=actor(by), citizen=world.citizen, code=code, occurred_at=ago(hours_ago))

    return record


def stay_of(world) -> HospitalStay | None:
    return HospitalStay.objects.filter(citizen=world.citizen).order_by("-admitted_at").first()


def notifications():
    return Message.objects.filter(type=MessageType.HOSPITAL_NOTIFICATION)


# --- each code -------------------------------------------------------------------------------------

BEFORE = {
    HospitalCode.STAA: [],
    HospitalCode.STIN: [],
    HospitalCode.STOR: [HospitalCode.STIN],
    HospitalCode.SLOR: [HospitalCode.STIN, HospitalCode.STOR],
    HospitalCode.SLHJ: [HospitalCode.STIN],
    HospitalCode.MORS: [HospitalCode.STIN],
}


def expected_stay(code: str, at: datetime.datetime) -> dict:
    return {
        HospitalCode.STAA: {"kind": StayKind.ACUTE_AMBULANT, "on_leave": False, "discharged_at": None},
        HospitalCode.STIN: {"kind": StayKind.INPATIENT, "on_leave": False, "discharged_at": None},
        HospitalCode.STOR: {"kind": StayKind.INPATIENT, "on_leave": True, "discharged_at": None},
        HospitalCode.SLOR: {"kind": StayKind.INPATIENT, "on_leave": False, "discharged_at": None},
        HospitalCode.SLHJ: {"kind": StayKind.INPATIENT, "on_leave": False, "discharged_at": at},
        HospitalCode.MORS: {"kind": StayKind.INPATIENT, "on_leave": False, "discharged_at": at},
    }[code]


@pytest.mark.parametrize("code", list(BEFORE))
def test_each_event_changes_the_stay_and_notifies_the_municipality_with_copy_to_the_gp(
    world, actor, record, code, django_capture_on_commit_callbacks
):
    for hours, earlier in zip([10, 8], BEFORE[code], strict=False):
        record(earlier, hours)
    at = ago(1)

    with django_capture_on_commit_callbacks(execute=True):
        event = hospital_event_record(actor=actor("hospital_nurse"), citizen=world.citizen, code=code, occurred_at=at)

    stay = stay_of(world)
    assert {"kind": stay.kind, "on_leave": stay.on_leave, "discharged_at": stay.discharged_at} == expected_stay(
        code, at
    )
    assert stay.department == world.department
    assert (event.code, event.revision, event.stay, event.occurred_at) == (code, Revision.NEW, stay, at)
    assert event.recorded_by == world.users["hospital_nurse"]
    message = event.message
    assert (message.type, message.hospital_code, message.revision) == (
        MessageType.HOSPITAL_NOTIFICATION,
        code,
        Revision.NEW,
    )
    assert (message.sender, message.department, message.occurred_at) == (world.department, world.department, at)
    assert message.hospital_code_label == code
    assert sorted((r.organisation_id, r.role) for r in message.recipients.all()) == sorted(
        [(world.municipality_a.pk, RecipientRole.PRIMARY), (world.clinic_a.pk, RecipientRole.CC)]
    )
    assert inbox(actor=actor("homecare_a")).first().message == message
    assert inbox(actor=actor("gp_a")).first().message == message
    citizen = Citizen.objects.get(pk=world.citizen.pk)
    assert citizen.deceased_at == (at if code == HospitalCode.MORS else None)


def test_the_department_gains_access_through_the_stay(world, actor, record):
    nurse = actor("hospital_nurse")
    assert access_reason(nurse, world.citizen) is None
    record(HospitalCode.STIN, 1)
    assert access_reason(nurse, world.citizen)[0] == AccessReason.HOSPITAL_STAY
    assert access_reason(actor("other_hospital"), world.citizen) is None


# --- invalid sequences -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "code"),
    [
        ([], HospitalCode.STOR),  # leave without a stay
        ([], HospitalCode.SLOR),
        ([HospitalCode.STIN], HospitalCode.SLOR),  # not on leave
        ([HospitalCode.STIN, HospitalCode.STOR], HospitalCode.STOR),  # already on leave
        ([HospitalCode.STAA], HospitalCode.STOR),  # no leave from an acute ambulant stay
        ([], HospitalCode.SLHJ),  # discharge without a stay
        ([], HospitalCode.MORS),
        ([HospitalCode.STIN, HospitalCode.SLHJ], HospitalCode.SLHJ),
    ],
)
def test_invalid_sequences_are_refused(world, record, history, code):
    for hours, earlier in zip([10, 8], history, strict=False):
        record(earlier, hours)
    before = (notifications().count(), list(HospitalStay.objects.values_list("pk", "on_leave", "discharged_at")))

    with pytest.raises(ValidationError):
        record(code, 1)

    after = (notifications().count(), list(HospitalStay.objects.values_list("pk", "on_leave", "discharged_at")))
    assert after == before


def test_an_event_in_the_future_is_refused(world, record):
    with pytest.raises(ValidationError) as exc:
        record(HospitalCode.STIN, -1)
    assert "occurred_at" in exc.value.message_dict
    assert not HospitalStay.objects.exists()


def test_no_events_for_a_deceased_citizen(world, record):
    record(HospitalCode.STIN, 5)
    record(HospitalCode.MORS, 2)
    with pytest.raises(ValidationError):
        record(HospitalCode.STIN, 1)
    assert notifications().count() == 2


def test_a_leave_at_another_departments_stay_is_refused(world, record):
    record(HospitalCode.STIN, 5)
    with pytest.raises(ValidationError):
        record(HospitalCode.STOR, 1, by="other_hospital")


@pytest.mark.parametrize("user", ["gp_a", "homecare_a", "unit_physician"])
def test_only_hospital_departments_record_events(world, record, user):
    with pytest.raises(PermissionDenied):
        record(HospitalCode.STIN, 1, by=user)
    assert not HospitalStay.objects.exists()
    assert not notifications().exists()


# --- corrections and cancellations -----------------------------------------------------------------


def test_correcting_the_latest_event_moves_the_stay_and_sends_a_correction(
    world, actor, record, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = record(HospitalCode.STIN, 3)
        corrected = hospital_event_correct(actor=actor("hospital_nurse"), event=first, occurred_at=ago(4))

    stay = stay_of(world)
    assert stay.admitted_at == ago(4)
    assert HospitalStay.objects.count() == 1
    first.refresh_from_db()
    assert first.superseded
    assert (corrected.revision, corrected.revises, corrected.occurred_at, corrected.stay) == (
        Revision.CORRECTION,
        first,
        ago(4),
        stay,
    )
    message = corrected.message
    assert (message.revision, message.revises, message.thread) == (
        Revision.CORRECTION,
        first.message,
        first.message.thread,
    )
    assert message.hospital_code_label == "RE_STIN"
    assert message.occurred_at == ago(4)
    assert sorted(r.organisation_id for r in message.recipients.all()) == sorted(
        [world.municipality_a.pk, world.clinic_a.pk]
    )
    assert [row.message for row in inbox(actor=actor("homecare_a"))] == [message, first.message]


def test_a_correction_can_itself_be_corrected_but_the_original_not_again(world, actor, record):
    nurse = actor("hospital_nurse")
    first = record(HospitalCode.STIN, 3)
    corrected = hospital_event_correct(actor=nurse, event=first, occurred_at=ago(4))
    with pytest.raises(ValidationError):
        hospital_event_correct(actor=nurse, event=first, occurred_at=ago(5))
    with pytest.raises(ValidationError):
        hospital_event_cancel(actor=nurse, event=first)
    again = hospital_event_correct(actor=nurse, event=corrected, occurred_at=ago(5))
    assert again.revises == corrected
    assert stay_of(world).admitted_at == ago(5)


@pytest.mark.parametrize("code", [HospitalCode.STIN, HospitalCode.STOR])
def test_a_correction_cannot_move_an_event_into_the_future(world, actor, record, code):
    if code != HospitalCode.STIN:
        record(HospitalCode.STIN, 5)
    event = record(code, 3)
    with pytest.raises(ValidationError):
        hospital_event_correct(actor=actor("hospital_nurse"), event=event, occurred_at=ago(-2))
    event.refresh_from_db()
    assert not event.superseded
    assert event.occurred_at == ago(3)


def test_correcting_a_discharge_before_the_admission_is_refused(world, actor, record):
    record(HospitalCode.STIN, 3)
    discharge = record(HospitalCode.SLHJ, 1)
    with pytest.raises(ValidationError):
        hospital_event_correct(actor=actor("hospital_nurse"), event=discharge, occurred_at=ago(5))
    assert stay_of(world).discharged_at == ago(1)


def test_correcting_a_death_moves_the_time_of_death(world, actor, record):
    record(HospitalCode.STIN, 5)
    death = record(HospitalCode.MORS, 2)
    hospital_event_correct(actor=actor("hospital_nurse"), event=death, occurred_at=ago(3))
    assert Citizen.objects.get(pk=world.citizen.pk).deceased_at == ago(3)
    assert stay_of(world).discharged_at == ago(3)


def test_cancelling_an_admission_removes_the_stay(world, actor, record, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = record(HospitalCode.STIN, 3)
        cancelled = hospital_event_cancel(actor=actor("hospital_nurse"), event=first)

    assert not HospitalStay.objects.filter(citizen=world.citizen).exists()
    assert (cancelled.revision, cancelled.revises, cancelled.stay) == (Revision.CANCELLATION, first, None)
    assert cancelled.superseded  # a cancellation is not revised again
    message = cancelled.message
    assert message.hospital_code_label == "AN_STIN"
    assert (message.revises, message.thread) == (first.message, first.message.thread)
    assert [row.message for row in inbox(actor=actor("homecare_a"))][0] == message
    with pytest.raises(ValidationError):
        hospital_event_cancel(actor=actor("hospital_nurse"), event=cancelled)


def test_cancelling_a_discharge_reopens_the_stay(world, actor, record):
    record(HospitalCode.STIN, 5)
    discharge = record(HospitalCode.SLHJ, 1)
    cancelled = hospital_event_cancel(actor=actor("hospital_nurse"), event=discharge)
    stay = stay_of(world)
    assert stay.discharged_at is None
    assert cancelled.message.hospital_code_label == "AN_SLHJ"
    # the stay goes on: leave can start again
    record(HospitalCode.STOR, 0.5)
    assert stay_of(world).on_leave


def test_cancelling_a_death_clears_it(world, actor, record):
    record(HospitalCode.STIN, 5)
    death = record(HospitalCode.MORS, 2)
    hospital_event_cancel(actor=actor("hospital_nurse"), event=death)
    assert Citizen.objects.get(pk=world.citizen.pk).deceased_at is None
    assert stay_of(world).discharged_at is None


def test_cancelling_a_leave_ends_it(world, actor, record):
    record(HospitalCode.STIN, 5)
    leave = record(HospitalCode.STOR, 2)
    hospital_event_cancel(actor=actor("hospital_nurse"), event=leave)
    assert stay_of(world).on_leave is False


def test_an_older_event_cannot_be_revised_once_a_later_one_exists(world, actor, record):
    nurse = actor("hospital_nurse")
    admission = record(HospitalCode.STIN, 5)
    record(HospitalCode.STOR, 2)
    with pytest.raises(ValidationError):
        hospital_event_correct(actor=nurse, event=admission, occurred_at=ago(6))
    with pytest.raises(ValidationError):
        hospital_event_cancel(actor=nurse, event=admission)
    assert stay_of(world).admitted_at == ago(5)
    assert notifications().count() == 2


@pytest.mark.parametrize("user", ["other_hospital", "gp_a", "homecare_a"])
def test_only_the_recording_department_revises(world, actor, record, user):
    first = record(HospitalCode.STIN, 3)
    with pytest.raises(PermissionDenied):
        hospital_event_correct(actor=actor(user), event=first, occurred_at=ago(4))
    with pytest.raises(PermissionDenied):
        hospital_event_cancel(actor=actor(user), event=first)
    first.refresh_from_db()
    assert not first.superseded
    assert notifications().count() == 1


def test_cancelling_a_transfer_reopens_the_stay_before(world, actor, django_capture_on_commit_callbacks):
    first = actor("hospital_nurse")
    second = actor("other_hospital")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        hospital_event_record(
            actor=first, citizen=world.citizen, code="STIN", occurred_at=now - datetime.timedelta(hours=5)
        )
        transfer = hospital_event_record(
            actor=second, citizen=world.citizen, code="STIN", occurred_at=now - datetime.timedelta(hours=1)
        )
        hospital_event_cancel(actor=second, event=transfer)

    current = HospitalStay.objects.get(citizen=world.citizen, discharged_at__isnull=True)
    assert current.department == world.department
    assert HospitalStay.objects.filter(citizen=world.citizen).count() == 1
