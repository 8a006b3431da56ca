"""Rules about a bundle that ``$process-message`` checks before anything is created: a
MessageHeader first, with a FHIR id (any, not only a UUID: MedCom asks for a globally unique one)
in a Bundle whose id is a FHIR id too, and an event the portal receives; no two entries that a
reference cannot tell apart; a sender the integration token may send for and receivers the portal
knows, each named by a SOR code and a GLN that name the same organisation; a Bundle id used for
one message only; the message's own Provenance (the Patient is checked in ``patients``); and no value
longer than the portal keeps (refused, never cut short).

A MessageHeader id the portal already has is no error but a duplicate: answered as the first time
(``duplicate_answer``). Ids are compared as the strings the sender wrote (``messaging.ids``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import F, Model
from django.utils.translation import gettext as _

from citizens.models import Citizen
from sectors.models import Membership, Organisation
from sectors.selectors import IdentifierConflict, organisation_by_identifier

from ..choices import AckCode, RecipientRole
from ..ids import is_fhir_id
from ..models import FhirReceipt, Message, Recipient
from . import codes, resources
from .acknowledgement import acknowledgement_bundle
from .errors import ELEMENT_TOO_LONG, Reject
from .gateway import gateway_of, gateway_sender
from .intake import Incoming, dump
from .parsing import MessageBundle, code_of, identifiers

logger = logging.getLogger(__name__)

EVENTS = {codes.EVENT_CARE_COMMUNICATION, codes.EVENT_HOSPITAL_NOTIFICATION, codes.EVENT_ACKNOWLEDGEMENT}


def check_header(msg: MessageBundle) -> None:
    if not msg.first_is_header():
        raise Reject("MSG_RESOURCE_TYPE_MISMATCH", _("The MessageHeader must be the first entry of the bundle."))
    if not is_fhir_id(msg.header_id):
        raise Reject(
            "MSG_ID_INVALID",
            _("The MessageHeader id must be a FHIR id: 1 to 64 letters (A-Z, a-z), digits, '-' and '.'."),
            "value",
            store=False,
        )
    bundle_id = msg.data.get("id")
    if bundle_id is not None and not is_fhir_id(bundle_id):
        raise Reject(
            "MSG_ID_INVALID",
            _("The Bundle id must be a FHIR id: 1 to 64 letters (A-Z, a-z), digits, '-' and '.'."),
            "value",
            store=False,
        )
    if msg.event not in EVENTS:
        raise Reject(
            "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
            _("The portal does not receive messages of the event '%(event)s'.") % {"event": msg.event},
            "not-supported",
            store=False,
        )


def check_unique_entries(data: dict[str, Any]) -> None:
    """bdl-7: a fullUrl appears once in a message bundle; and so does a resource type and id, or a
    reference ``Type/id`` could mean either entry."""
    full_urls: set[str] = set()
    typed_ids: set[tuple[str, str]] = set()
    for entry in data.get("entry") or []:
        resource = entry.get("resource") or {}
        full_url = entry.get("fullUrl")
        typed_id = (resource.get("resourceType"), resource.get("id"))
        if (full_url and full_url in full_urls) or (typed_id[1] and typed_id in typed_ids):
            raise Reject(
                "MSG_DUPLICATE_ID",
                _("Two entries of the bundle have the same fullUrl, or the same resource type and id."),
                "duplicate",
                store=False,
            )
        if full_url:
            full_urls.add(full_url)
        if typed_id[1]:
            typed_ids.add(typed_id)


def check_sender(msg: MessageBundle, *, user: Any) -> Organisation:
    """The sender: an active organisation the integration token's user is an active member of;
    for a gateway, any organisation in the directory (``gateway.gateway_sender``)."""
    resource = msg.sender_resource()
    sor, gln = identifiers(resource)
    if resource is None or not sor or not gln:
        raise Reject(
            "MSG_RESOURCE_REQUIRED",
            _("The sender must be an Organization in the bundle with a SOR and a GLN identifier."),
            "required",
            store=False,
        )
    gateway = gateway_of(user)
    if gateway is not None:
        return gateway_sender(msg, gateway=gateway, sor=sor, gln=gln)
    mine = Organisation.objects.filter(
        pk__in=Membership.objects.active().filter(user=user).values("organisation_id"), is_active=True
    )
    try:
        sender = organisation_by_identifier(sor_code=sor, gln=gln, queryset=mine)
    except IdentifierConflict:
        raise Reject(
            "MSG_PARAM_INVALID",
            _("The sender's SOR code and GLN do not name the same organisation."),
            "business-rule",
            store=False,
        ) from None
    if sender is None:
        raise Reject(
            "MSG_RESOURCE_NOT_ALLOWED",
            _("The sender is not an organisation that this integration token may send for."),
            "forbidden",
            store=False,
        )
    return sender


def check_bundle_id(msg: MessageBundle) -> None:
    """A Bundle id seen before is the same message again (answered as a duplicate) or another one
    (refused)."""
    bundle_id = msg.data.get("id") or ""
    if not bundle_id:
        raise Reject("MSG_RESOURCE_ID_MISSING", _("The Bundle has no id."), "required", store=False)
    header = msg.header_id
    seen = FhirReceipt.objects.filter(bundle_id=bundle_id).first()
    reused = (seen is not None and seen.header_id != header) or (
        Message.objects.filter(bundle_id=bundle_id).exclude(header_id=header).exists()
    )
    if reused:
        raise Reject(
            "MSG_DUPLICATE_ID",
            _("The Bundle id %(id)s was already used for another message; a new message needs a new Bundle id.")
            % {"id": bundle_id[:64]},
            "duplicate",
            store=False,
        )


def duplicate_answer(incoming: Incoming) -> dict[str, Any] | None:
    """The answer already given for this MessageHeader id, or None when it is new."""
    header = incoming.msg.header_id
    first = FhirReceipt.objects.filter(header_id=header).order_by("received_at", "pk").first()
    message = Message.objects.filter(header_id=header).select_related("sender").first()
    if first is None and message is None:
        return None
    owner = first.sender_id if first is not None else message.sender_id
    if owner != incoming.sender.pk:
        raise Reject(
            "MSG_DUPLICATE_ID",
            _("The MessageHeader id is already used by another message."),
            "duplicate",
            store=False,
        )
    if first is not None:
        answer, code, message = first.ack_bundle, first.ack_code, first.message
    else:
        answer, code = _answer_for_portal_message(incoming, message)
    bundle_id = incoming.msg.data.get("id")
    if not FhirReceipt.objects.filter(bundle_id=bundle_id).exists():
        FhirReceipt.objects.create(
            bundle_id=bundle_id, header_id=header, sender=incoming.sender, message=message,
            ack_code=code, ack_bundle=answer, duplicate=True,
        )  # fmt: skip
    if message is not None:
        Recipient.objects.filter(message=message).update(duplicates=F("duplicates") + 1)
    logger.info("duplicate FHIR message %s from organisation %s", header, incoming.sender.pk)
    return answer


def _answer_for_portal_message(incoming: Incoming, message: Message) -> tuple[dict[str, Any], str]:
    """A message created in the portal arrives again as a bundle: answered with the
    acknowledgement its primary receiver gave (or ok, when none has been given yet)."""
    primary = message.recipients.filter(role=RecipientRole.PRIMARY).select_related("organisation").first()
    ack = (
        Message.objects.filter(acknowledges=message, sender=primary.organisation)
        .select_related("sender", "acknowledges")
        .first()
        if primary
        else None
    )
    incoming.receiver = primary.organisation if primary else None
    if ack is not None:
        return incoming.ok(ack), ack.ack_code or AckCode.OK
    bundle = acknowledgement_bundle(
        acknowledged_header_id=message.header_id,
        sender=incoming.ack_sender(),
        receiver=incoming.sender,
        code=AckCode.OK,
        header_id=resources.stable_id(message.pk, "acknowledgement"),
        bundle_id=resources.stable_id(message.pk, "acknowledgement-bundle"),
    )
    return dump(bundle), AckCode.OK


def check_receivers(msg: MessageBundle) -> tuple[Organisation, list[Organisation]]:
    """The primary receiver and the copies: active organisations the portal knows."""
    destinations = msg.destinations()
    primaries = [resource for use, resource in destinations if use == "primary"]
    if len(primaries) != 1:
        raise Reject(
            "MSG_Receiver_Identifier_MISSING",
            _("The MessageHeader must have exactly one primary destination (it has %(n)d).") % {"n": len(primaries)},
            "required",
        )
    if any(use not in ("primary", "cc") for use, _resource in destinations):
        raise Reject(
            "MSG_VALUESET_VALUE_UNKNOWN",
            _("Every destination must be marked primary or cc (the destination-use extension)."),
            "code-invalid",
        )
    found: dict[str, list[Organisation]] = {"primary": [], "cc": []}
    for use, resource in destinations:
        sor, gln = identifiers(resource)
        if resource is None or not sor or not gln:
            raise Reject(
                "MSG_Receiver_Identifier_MISSING",
                _("Every receiver must be an Organization in the bundle with a SOR and a GLN identifier."),
                "required",
            )
        try:
            organisation = organisation_by_identifier(
                sor_code=sor, gln=gln, queryset=Organisation.objects.filter(is_active=True, is_external=False)
            )
        except IdentifierConflict:
            organisation = None
        if organisation is None:
            raise Reject(
                "MSG_Receiver_Identifier_UNKNOWN",
                _("The receiver with SOR %(sor)s / GLN %(gln)s is not known to the portal.") % {"sor": sor, "gln": gln},
                "not-found",
            )
        found[use].append(organisation)
    return found["primary"][0], found["cc"]


def check_provenance(msg: MessageBundle) -> tuple[dict[str, Any], str]:
    """The message's own Provenance and its activity code."""
    provenance = msg.own_provenance()
    if provenance is None:
        raise Reject(
            "MSG_RESOURCE_REQUIRED",
            _("The bundle must have a Provenance for this message (target: its MessageHeader)."),
            "required",
        )
    activity = code_of(provenance.get("activity"))
    if not activity:
        raise Reject("MSG_RESOURCE_REQUIRED", _("The Provenance must have an activity code."), "required")
    return provenance, activity


def check_length(model: type[Model], field: str, value: str, what: str) -> None:
    """``value`` fits the model field it is kept in."""
    limit = model._meta.get_field(field).max_length
    if limit is not None and len(value or "") > limit:
        raise Reject(
            ELEMENT_TOO_LONG,
            _("%(what)s is longer than the %(limit)d characters the portal keeps.") % {"what": what, "limit": limit},
            "too-long",
        )


def check_patient_lengths(patients: list[dict[str, Any]]) -> None:
    """A hospital notification keeps the Patient's name and address on the citizen."""
    for patient in patients:
        name = next(iter(patient.get("name") or []), {})
        address = next(iter(patient.get("address") or []), {})
        check_length(Citizen, "first_name", " ".join(name.get("given") or []).strip(), "Patient.name.given")
        check_length(Citizen, "last_name", (name.get("family") or "").strip(), "Patient.name.family")
        check_length(Citizen, "street", ", ".join(address.get("line") or []).strip(), "Patient.address.line")
        check_length(Citizen, "postal_code", (address.get("postalCode") or "").strip(), "Patient.address.postalCode")
        check_length(Citizen, "city", (address.get("city") or "").strip(), "Patient.address.city")
