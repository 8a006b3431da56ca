"""The person a MedCom message is about, as its Patient names them: a CPR number, one or more
replacement numbers (E-CPR, with the issuer's system under ``codes.REPLACEMENT_ROOT``), or both;
the official name, whose family name may be unknown (a data-absent-reason extension).

A care communication about a person the portal does not know registers them
(``citizens.identity.citizen_register_from_message``): the receiver is then the one organisation
with a relationship with them. A known person is never changed by a message.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.choices import Sex
from citizens.cpr import parse_cpr
from citizens.identity import citizen_register_from_message, citizens_identified
from citizens.models import Citizen
from sectors.choices import OrganisationKind
from sectors.models import Organisation

from . import codes
from .errors import Reject
from .parsing import MessageBundle

DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
CPR_MESSAGE = (
    "The Patient's CPR identifier is not a valid CPR number (10 digits, DDMMYYSSSS, starting with a real date)."
)


@dataclass
class Person:
    resource: dict[str, Any]
    cpr: str | None
    replacement_ids: list[tuple[str, str]] = field(default_factory=list)

    @property
    def official_name(self) -> dict[str, Any]:
        names = self.resource.get("name") or []
        return next((n for n in names if n.get("use") == "official"), names[0] if names else {})

    @property
    def family_name_unknown(self) -> bool:
        name = self.official_name
        absent = any((e.get("url") or "") == DATA_ABSENT for e in (name.get("_family") or {}).get("extension") or [])
        return absent or not (name.get("family") or "").strip()


def the_patient(msg: MessageBundle, focus: dict[str, Any] | None) -> dict[str, Any]:
    """The Patient the focus resource names (or the bundle's only one)."""
    patient = msg.resolve((focus or {}).get("subject"), "Patient")
    if patient is None:
        patients = msg.all("Patient")
        patient = patients[0] if len(patients) == 1 else None
    if patient is None:
        raise Reject("MSG_RESOURCE_REQUIRED", _("The message must name its Patient."), "required")
    return patient


def check_person(msg: MessageBundle, focus: dict[str, Any] | None) -> Person:
    """The Patient with its CPR number and replacement numbers; identifiers of other systems are
    allowed and ignored. A Patient with neither is refused, and so is a CPR number that is none."""
    patient = the_patient(msg, focus)
    cpr: str | None = None
    replacement: list[tuple[str, str]] = []
    for identifier in patient.get("identifier") or []:
        system, value = (identifier.get("system") or "").strip(), (identifier.get("value") or "").strip()
        if system == codes.CPR and value:
            try:
                cpr = parse_cpr(value).digits
            except ValidationError:
                raise Reject("MSG_BAD_FORMAT", _(CPR_MESSAGE), "value") from None
        elif system.startswith(codes.REPLACEMENT_ROOT + ".") and value:
            replacement.append((system, value))
    if cpr is None and not replacement:
        raise Reject(
            "MSG_RESOURCE_REQUIRED",
            _("The Patient must have a CPR number or a replacement number (E-CPR) with its issuer's system."),
            "required",
        )
    return Person(patient, cpr, replacement)


def citizen_of(person: Person, *, by: Actor, receiver: Organisation) -> Citizen:
    """The citizen the person is, registered from the message when the portal does not know them
    (in the receiver's municipality: the model needs one, and the receiver is who cares)."""
    name = person.official_name
    try:
        return citizen_register_from_message(
            by=by,
            cpr=person.cpr,
            replacement_ids=person.replacement_ids,
            first_name=" ".join(name.get("given") or []),
            last_name=name.get("family") or "",
            family_name_unknown=person.family_name_unknown,
            birth_date=_birth_date(person.resource),
            sex=person.resource.get("gender") or Sex.UNKNOWN,
            municipality=_municipality_of(receiver, person),
        )
    except ValidationError as exc:
        raise Reject("MSG_PARAM_INVALID", " ".join(exc.messages), "business-rule") from None


def _municipality_of(receiver: Organisation, person: Person) -> Organisation:
    """Where a new citizen is registered; a known one keeps theirs (the model asks for one)."""
    if receiver.kind == OrganisationKind.MUNICIPALITY:
        return receiver
    if receiver.municipality is not None:
        return receiver.municipality
    known = citizens_identified(cpr=person.cpr, replacement_ids=person.replacement_ids)
    if len(known) == 1:
        return known[0].municipality
    raise Reject(
        "MSG_NO_EXIST",
        _("The citizen is not registered in the portal, and the receiver lies in no municipality to register them in."),
        "not-found",
    )


def _birth_date(patient: dict[str, Any]) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(patient.get("birthDate") or "")
    except ValueError:
        return None
