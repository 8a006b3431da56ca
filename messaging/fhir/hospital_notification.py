"""A HospitalNotification posted to ``$process-message``: checked against MedCom's rules
(dk-medcom-hospitalnotification) and handed to the hospital event services, the same path as an
event recorded in the portal.

The Danish code (STAA, STIN, STOR, SLOR, SLHJ, MORS) is read from Encounter.class, Encounter.status
and the Provenance activity; a ``revise-`` or ``cancel-`` activity corrects or cancels the earlier
notification its Provenance names, which must be the sender's own, for the same citizen and code.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from citizens.identity import citizens_identified
from citizens.models import Citizen
from citizens.services import citizen_register_from_notification
from sectors.choices import MUNICIPAL_UNIT_KINDS, OrganisationKind
from sectors.models import Organisation

from .. import services
from ..choices import HospitalCode, Revision
from ..models import HospitalEvent, Message
from . import codes
from .checks import check_provenance, check_receivers
from .errors import Reject
from .gateway import check_gateway_receivers
from .intake import Incoming
from .parsing import fhir_datetime as _when
from .patients import Person, check_person, citizen_of

EPISODE_ACTIVITIES = {activity for _cls, _status, activity in codes.HOSPITAL.values()} | {codes.DISCHARGE_EMERGENCY}
LEAVE_PERIOD = "leave-period-extension"


def hospital_notification_receive(incoming: Incoming) -> Message:
    """The notification as a hospital event and its message to the municipality; a broken rule
    raises ``Reject``."""
    msg = incoming.msg
    receiver, _cc = check_receivers(msg)
    check_gateway_receivers(incoming.gateway, [receiver])
    incoming.receiver = receiver
    municipality = _municipality_of(receiver)
    encounter = msg.focus("Encounter")
    if encounter is None:
        raise Reject("MSG_RESOURCE_REQUIRED", _("A HospitalNotification must have an Encounter."), "required")
    person = check_person(msg, encounter)
    patient, cpr = person.resource, person.cpr
    provenance, activity = check_provenance(msg)
    code, revision = _hospital_code(encounter, patient, activity)
    if not any((episode.get("identifier") or {}).get("value") for episode in encounter.get("episodeOfCare") or []):
        raise Reject("MSG_RESOURCE_REQUIRED", _("The Encounter must have an episodeOfCare identifier."), "required")
    actor = incoming.actor()
    header_id = msg.header_id
    if revision == Revision.NEW and cpr is None:
        # A person known by a replacement number only: found or registered by it (registry data
        # never changed), in the municipality the notification is addressed to.
        citizen = citizen_of(person, by=actor, receiver=municipality)
        if citizen.municipality_id != municipality.pk:
            raise Reject(
                "MSG_PARAM_INVALID",
                _("The citizen lives in another municipality than the one the notification is sent to."),
                "business-rule",
            )
        event = services.hospital_event_record(
            actor=actor,
            code=code,
            occurred_at=_occurred_at(code, encounter, provenance),
            header_id=header_id,
            receiver=receiver if receiver != municipality else None,
            citizen=citizen,
        )
        return event.message
    if revision == Revision.NEW:
        at = _occurred_at(code, encounter, provenance)
        name = next(iter(patient.get("name") or []), {})
        address = next(iter(patient.get("address") or []), {})
        notified = citizen_register_from_notification(
            actor=actor,
            municipality=municipality,
            cpr=cpr,
            first_name=" ".join(name.get("given") or []),
            last_name=name.get("family") or "",
            street=", ".join(address.get("line") or []),
            postal_code=address.get("postalCode") or "",
            city=address.get("city") or "",
        )
        event = services.hospital_event_record(
            actor=actor,
            code=code,
            occurred_at=at,
            header_id=header_id,
            receiver=receiver if receiver != municipality else None,
            **notified.event_fields,
        )
        return event.message
    earlier_id = msg.earlier_header_id(provenance)
    earlier = (
        HospitalEvent.objects.select_related("citizen", "message")
        .filter(message__header_id=earlier_id, department=incoming.sender)
        .first()
        if earlier_id
        else None
    )
    if earlier is None or not _same_person(earlier.citizen, person):
        raise Reject(
            "MSG_NO_EXIST",
            _("The notification that this one corrects or cancels (Provenance entity) is unknown to the portal."),
            "not-found",
        )
    if earlier.code != code:
        raise Reject(
            "MSG_PARAM_INVALID",
            _("A correction or cancellation of %(earlier)s cannot be %(code)s.")
            % {"earlier": earlier.code, "code": code},
            "business-rule",
        )
    if revision == Revision.CORRECTION:
        at = _occurred_at(code, encounter, provenance)
        event = services.hospital_event_correct(actor=actor, event=earlier, occurred_at=at, header_id=header_id)
    else:
        event = services.hospital_event_cancel(actor=actor, event=earlier, header_id=header_id)
    return event.message


def _same_person(citizen: Citizen, person: Person) -> bool:
    if person.cpr is not None:
        return citizen.cpr == person.cpr
    return any(c.pk == citizen.pk for c in citizens_identified(cpr=None, replacement_ids=person.replacement_ids))


def _municipality_of(receiver: Organisation) -> Organisation:
    """A notification goes to the citizen's municipality or one of its units (MedCom addresses a
    unit: the one receiving hospital notifications, a home-care district)."""
    if receiver.kind == OrganisationKind.MUNICIPALITY:
        return receiver
    if receiver.kind in MUNICIPAL_UNIT_KINDS and receiver.municipality is not None:
        return receiver.municipality
    raise Reject(
        "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
        _("A HospitalNotification is sent to the citizen's municipality or one of its units; %(org)s is neither.")
        % {"org": receiver.name},
        "not-supported",
    )


def _hospital_code(encounter: dict[str, Any], patient: dict[str, Any], activity: str) -> tuple[str, str]:
    """The Danish code from Encounter.class, Encounter.status and the Provenance activity
    (DOMAIN.md); a combination that names no code is refused."""
    revision, base = Revision.NEW, activity
    for rev, prefix in codes.REVISION_PREFIX.items():
        if prefix and activity.startswith(prefix):
            revision, base = rev, activity[len(prefix) :]
    if base not in EPISODE_ACTIVITIES:
        raise Reject(
            "MSG_CodeSystem_VALUE_UNKNOWN",
            _("'%(activity)s' is not a HospitalNotification activity.") % {"activity": activity},
            "code-invalid",
        )
    klass = (encounter.get("class") or {}).get("code") or ""
    status = encounter.get("status") or ""
    deceased = bool(patient.get("deceasedBoolean") or patient.get("deceasedDateTime"))
    for code, (code_class, code_status, code_activity) in codes.HOSPITAL.items():
        if code in (HospitalCode.SLHJ, HospitalCode.MORS):
            if (code == HospitalCode.MORS) != deceased:
                continue
            fits = (klass, base) in (("IMP", code_activity), ("EMER", codes.DISCHARGE_EMERGENCY))
        else:
            fits = klass == code_class and base == code_activity
        status_fits = status == code_status or (revision == Revision.CANCELLATION and status == "entered-in-error")
        if fits and status_fits:
            return code, revision
    raise Reject(
        "MSG_PARAM_INVALID",
        _("Encounter class '%(class)s', status '%(status)s' and activity '%(activity)s' name no HospitalNotification.")
        % {"class": klass, "status": status, "activity": activity},
        "business-rule",
    )


def _occurred_at(code: str, encounter: dict[str, Any], provenance: dict[str, Any]) -> datetime.datetime:
    period = encounter.get("period") or {}
    leave: dict[str, Any] = {}
    for extension in encounter.get("extension") or []:
        if (extension.get("url") or "").endswith(LEAVE_PERIOD):
            leave = extension.get("valuePeriod") or {}
    if code in (HospitalCode.STAA, HospitalCode.STIN):
        return _when(period.get("start"), "Encounter.period.start")
    if code in (HospitalCode.SLHJ, HospitalCode.MORS):
        return _when(period.get("end"), "Encounter.period.end")
    value = leave.get("start") if code == HospitalCode.STOR else leave.get("end")
    return _when(value or provenance.get("occurredDateTime"), "The leave period")
