"""Hospital events (admission, leave, discharge, death), their corrections and cancellations: the stay
changes and the citizen's municipality is notified.

Locks: every event of a citizen first locks the citizen's row (``_lock_citizen``), then the stay
or the earlier event it changes, so two events for one citizen are applied one after the other
and always take their locks in the same order. Each service is one transaction, run again when
the database picks it as a deadlock's victim (``smartcare.transactions``)."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from citizens.access import Actor, organisation_sees
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction, StayKind
from citizens.models import Citizen, HospitalStay
from citizens.services import hospital_stay_end, hospital_stay_start
from sectors.models import Organisation
from smartcare.transactions import retry_on_deadlock

from ..choices import HospitalCode, MessageType, RecipientRole, Revision
from ..hospital_rules import hospital_event_log, require_hospital_recorder
from ..models import HospitalEvent, Message
from ..notices import hospital_coordinators_write
from .routing import _create, _enqueue, _Sending, relationship_from_message_flag

STAY_KIND_OF: dict[str, str] = {HospitalCode.STAA: StayKind.ACUTE_AMBULANT, HospitalCode.STIN: StayKind.INPATIENT}


def _notification_receivers(citizen: Citizen) -> tuple[Organisation, list[Organisation]]:
    municipality = citizen.municipality
    if municipality is None:
        raise ValidationError(_("The citizen has no municipality to notify."))
    cc = [citizen.gp_clinic] if citizen.gp_clinic is not None else []
    return municipality, cc


def _lock_citizen(citizen_id) -> Citizen:
    """The citizen read afresh and locked, with the organisations a notification goes to.

    ``no_key``: the lock does not conflict with the key-share locks that rows referencing the
    citizen take when they are written (a message sent about the citizen, an access-log entry);
    a plain FOR UPDATE made every such write wait for the event's whole transaction and
    deadlocked with it. ``of``: the municipality and the GP clinic are read, not locked."""
    return (
        Citizen.objects.select_for_update(no_key=True, of=("self",))
        .select_related("municipality", "gp_clinic")
        .get(pk=citizen_id)
    )


def _apply_to_stay(
    *, citizen: Citizen, department: Organisation, code: str, at: datetime.datetime
) -> HospitalStay | None:
    if code in STAY_KIND_OF:
        return hospital_stay_start(citizen=citizen, department=department, admitted_at=at, kind=STAY_KIND_OF[code])
    current = (
        HospitalStay.objects.select_for_update(no_key=True).filter(citizen=citizen, discharged_at__isnull=True).first()
    )
    if current is None or current.department_id != department.pk:
        # Says nothing of a stay elsewhere: the recording department may not see the citizen.
        raise ValidationError({"code": [_("The citizen has no current stay at your department.")]})
    if code == HospitalCode.STOR:
        if current.kind != StayKind.INPATIENT or current.on_leave:
            raise ValidationError({"code": [_("Leave starts only during an inpatient stay, not already on leave.")]})
        current.on_leave = True
        current.save(update_fields=["on_leave"])
        return current
    if code == HospitalCode.SLOR:
        if not current.on_leave:
            raise ValidationError({"code": [_("The citizen is not on leave.")]})
        current.on_leave = False
        current.save(update_fields=["on_leave"])
        return current
    stay = hospital_stay_end(citizen=citizen, discharged_at=at)
    if code == HospitalCode.MORS:
        Citizen.objects.filter(pk=citizen.pk).update(deceased_at=at)
    return stay


def _notify(
    *,
    actor: Actor,
    citizen: Citizen,
    department: Organisation,
    code: str,
    at: datetime.datetime,
    stay: HospitalStay | None,
    revision: str,
    revises: Message | None,
    header_id: str | None = None,
    given_name: str = "",
    given_address: str = "",
    receiver: Organisation | None = None,
) -> Message:
    """``receiver``: the municipal unit the hospital addressed (MedCom addresses a unit, e.g. the
    one receiving hospital notifications); the citizen's municipality otherwise."""
    municipality, cc = _notification_receivers(citizen)
    new_to_unit = (
        receiver is not None
        and receiver != municipality
        and not organisation_sees(receiver, citizen, include_messages=True)
    )
    receiver = receiver or municipality
    message = _create(
        actor=actor,
        header_id=header_id,
        sending=_Sending(
            MessageType.HOSPITAL_NOTIFICATION, citizen, department, receiver, cc, revises.thread if revises else None
        ),
        hospital_code=code,
        revision=revision,
        revises=revises,
        department=department,
        stay=stay,
        occurred_at=at,
        text="",
        given_name=given_name,
        given_address=given_address,
    )
    if new_to_unit:
        relationship_from_message_flag(actor=actor, citizen=citizen, receiver=receiver)
    told = {receiver.pk, *(org.pk for org in cc)}
    _enqueue(hospital_coordinators_write(message=message, told=told))  # the care plans' coordinators
    return message


@retry_on_deadlock
@transaction.atomic
def hospital_event_record(
    *,
    actor: Actor,
    citizen: Citizen,
    code: str,
    occurred_at: datetime.datetime,
    header_id: str | None = None,
    given_name: str = "",
    given_address: str = "",
    receiver: Organisation | None = None,
) -> HospitalEvent:
    """Admission, leave, end of leave, discharge or death: the stay changes and the citizen's
    municipality (or the unit of it the hospital addressed, ``receiver``) is told (copy to the
    GP clinic), with no consent needed (the Health Act). ``given_*``: a sender's differing name
    and address, kept on the message as given."""
    department = require_hospital_recorder(actor)
    if code not in HospitalCode.values:
        raise ValidationError({"code": [_("Choose a hospital event.")]})
    HospitalEvent(citizen=citizen, occurred_at=occurred_at).clean()  # in the citizen's life, not ahead
    # Read (and lock) the citizen afresh: two events for the same citizen are applied one after
    # the other, and a death recorded meanwhile is seen.
    citizen = _lock_citizen(citizen.pk)
    if citizen.deceased_at is not None:
        raise ValidationError({"citizen": [_("The citizen is registered as deceased.")]})
    known = organisation_sees(department, citizen)
    stay = _apply_to_stay(citizen=citizen, department=department, code=code, at=occurred_at)
    message = _notify(
        actor=actor, citizen=citizen, department=department, code=code, at=occurred_at, stay=stay,
        revision=Revision.NEW, revises=None, header_id=header_id, given_name=given_name, given_address=given_address,
        receiver=receiver,
    )  # fmt: skip
    event = HospitalEvent.objects.create(
        citizen=citizen, department=department, code=code, occurred_at=occurred_at, stay=stay,
        message=message, recorded_by=actor.user,
    )  # fmt: skip
    hospital_event_log(actor=actor, citizen=citizen, code=code, occurred_at=occurred_at, had_relationship=known)
    return event


def _addressed(message: Message | None) -> Organisation | None:
    """The first notification's receiver: its correction or cancellation goes to the same unit."""
    if message is None:
        return None
    first = message.recipients.filter(role=RecipientRole.PRIMARY).select_related("organisation").first()
    return first.organisation if first is not None else None


def _require_revisable(actor: Actor, event: HospitalEvent) -> tuple[HospitalEvent, Citizen]:
    """The event as it is now and its citizen, both locked (the citizen first, as every event
    does), so a second correction of the same event is refused."""
    if event.department_id != require_hospital_recorder(actor).pk:
        raise PermissionDenied
    citizen = _lock_citizen(event.citizen_id)
    event = HospitalEvent.objects.select_for_update(no_key=True).get(pk=event.pk)
    if event.superseded:
        raise ValidationError(_("The event has already been corrected or cancelled."))
    later = HospitalEvent.objects.filter(
        citizen_id=event.citizen_id, superseded=False, revision__in=[Revision.NEW, Revision.CORRECTION]
    ).filter(Q(occurred_at__gt=event.occurred_at) | Q(occurred_at=event.occurred_at, pk__gt=event.pk))
    if later.exclude(pk=event.pk).exists():
        raise ValidationError(_("Only the latest event of the stay can be corrected or cancelled."))
    return event, citizen


@retry_on_deadlock
@transaction.atomic
def hospital_event_correct(
    *, actor: Actor, event: HospitalEvent, occurred_at: datetime.datetime, header_id: str | None = None
) -> HospitalEvent:
    """A correction (RE_) of the time of the latest event: the stay follows, and the municipality
    gets a correction that points at the first notification."""
    event, citizen = _require_revisable(actor, event)
    HospitalEvent(citizen=citizen, occurred_at=occurred_at).clean()
    stay = event.stay
    if stay is not None:
        if event.code in STAY_KIND_OF:
            stay.admitted_at = occurred_at
        elif event.code in (HospitalCode.SLHJ, HospitalCode.MORS):
            stay.discharged_at = occurred_at
        stay.full_clean()
        stay.save()
    if event.code == HospitalCode.MORS:
        Citizen.objects.filter(pk=event.citizen_id).update(deceased_at=occurred_at)
    return _revise(actor, event, citizen, Revision.CORRECTION, occurred_at, stay, header_id)


@retry_on_deadlock
@transaction.atomic
def hospital_event_cancel(*, actor: Actor, event: HospitalEvent, header_id: str | None = None) -> HospitalEvent:
    """A cancellation (AN_) withdraws the latest event: the stay is put back as it was before."""
    event, citizen = _require_revisable(actor, event)
    stay = event.stay
    if stay is not None:
        if event.code in STAY_KIND_OF:
            # A transfer closed the stay before at the moment of admission: it is current again.
            previous = (
                HospitalStay.objects.filter(citizen_id=event.citizen_id, discharged_at=stay.admitted_at)
                .exclude(pk=stay.pk)
                .first()
            )
            stay.delete()
            stay = None
            if previous is not None:
                previous.discharged_at = None
                previous.save(update_fields=["discharged_at"])
        elif event.code == HospitalCode.STOR:
            stay.on_leave = False
            stay.save(update_fields=["on_leave"])
        elif event.code == HospitalCode.SLOR:
            stay.on_leave = True
            stay.save(update_fields=["on_leave"])
        else:
            if HospitalStay.objects.filter(citizen_id=event.citizen_id, discharged_at__isnull=True).exists():
                raise ValidationError(_("The citizen has a newer stay; the discharge cannot be cancelled."))
            stay.discharged_at = None
            stay.save(update_fields=["discharged_at"])
    if event.code == HospitalCode.MORS:
        Citizen.objects.filter(pk=event.citizen_id).update(deceased_at=None)
    return _revise(actor, event, citizen, Revision.CANCELLATION, event.occurred_at, stay, header_id)


def _revise(
    actor: Actor,
    event: HospitalEvent,
    citizen: Citizen,
    revision: str,
    at: datetime.datetime,
    stay,
    header_id: str | None = None,
) -> HospitalEvent:
    HospitalEvent.objects.filter(pk=event.pk).update(superseded=True)
    message = _notify(
        actor=actor, citizen=citizen, department=event.department, code=event.code, at=at, stay=stay,
        revision=revision, revises=event.message, header_id=header_id, receiver=_addressed(event.message),
    )  # fmt: skip
    revised = HospitalEvent.objects.create(
        citizen=citizen, department=event.department, code=event.code, revision=revision, revises=event,
        occurred_at=at, stay=stay, message=message, recorded_by=actor.user,
        superseded=revision == Revision.CANCELLATION,
    )  # fmt: skip
    access_log_record(actor=actor, citizens=citizen, action=AccessAction.UPDATE, detail=f"hospital event {revision}")
    return revised
