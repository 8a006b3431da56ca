"""``$process-message``: a MedCom message bundle from an organisation's own system.

The bundle is read with ``fhir.resources.R4B`` (JSON or XML), then checked against MedCom's rules
and handed to the same services as a message written in the portal. The answer:

- a body that is not a FHIR message bundle with a MessageHeader (broken JSON/XML, another
  resource, another Bundle type): HTTP 400 with an OperationOutcome (nothing to acknowledge);
- a HospitalNotification or CareCommunication: HTTP 200 with a MedCom Acknowledgement bundle,
  ``ok`` when the message is in the receiver's inbox, ``fatal-error`` with an OperationOutcome
  (a ``MSG_…`` code and a readable text) when a rule is broken, and nothing is created;
  ``transient-error`` when the portal failed (a database error): send it again later. The HTTP
  status is 200 for every acknowledgement: the acknowledgement code is the answer;
- an Acknowledgement: acknowledgements are never acknowledged (MedCom), so the answer is an
  OperationOutcome: 200 (information) when it settled the outgoing message, 422 when the
  acknowledged message is unknown to the portal or was not sent to the acknowledging organisation.

Duplicates, whichever way the message first came in: a MessageHeader id that the portal already
has (a resend with a new Bundle id, or a message created in the portal) is answered with the
acknowledgement given the first time, counted on the receivers, logged, and creates nothing. A
Bundle id that arrives again with another MessageHeader id is a fatal error.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle

from citizens.access import Actor
from citizens.cpr import parse_cpr
from citizens.models import Citizen
from citizens.services import citizen_register_from_notification
from sectors.acting import resolve
from sectors.choices import OrganisationKind
from sectors.models import Membership, Organisation

from .. import services
from ..choices import AckCode, Activity, HospitalCode, Priority, RecipientRole, Revision
from ..models import Attachment, FhirReceipt, HospitalEvent, Message, Recipient
from . import codes, resources
from .acknowledgement import acknowledgement_bundle, operation_outcome
from .checks import (
    IdentifierConflict,
    check_length,
    check_patient_lengths,
    check_unique_entries,
    organisation_identified,
)
from .errors import TRANSIENT_ERRORS, BadRequest, Reject, portal_failure, service_rejection, service_text
from .parsing import JSON, XML, format_of, parse
from .parsing import fhir_datetime as _when

logger = logging.getLogger(__name__)

EVENTS = {codes.EVENT_CARE_COMMUNICATION, codes.EVENT_HOSPITAL_NOTIFICATION, codes.EVENT_ACKNOWLEDGEMENT}
CARE_ACTIVITIES = {Activity.NEW.value, Activity.REPLY.value, Activity.FORWARD.value}
# MedCom's other CareCommunication activities: known, but not something the portal can show.
CARE_ACTIVITIES_UNSUPPORTED = {"retract-message", "modified-message"}
EPISODE_ACTIVITIES = {activity for _cls, _status, activity in codes.HOSPITAL.values()} | {codes.DISCHARGE_EMERGENCY}
PAYLOAD_AUTHOR = "medcom-core-practitioner-extension"
PAYLOAD_CONTACT = "medcom-core-contact-extension"
LEAVE_PERIOD = "leave-period-extension"
CPR_MESSAGE = (
    "The Patient's CPR identifier is not a valid CPR number (10 digits, DDMMYYSSSS, starting with a real date)."
)


def _id_of(reference: str | None) -> str:
    """The id at the end of a reference (``MessageHeader/<id>``, a full URL or ``urn:uuid:<id>``)."""
    reference = (reference or "").rstrip("/")
    if reference.startswith("urn:uuid:"):
        return reference[len("urn:uuid:") :]
    return reference.rsplit("/", 1)[-1]


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _coding(concept: dict | None, system: str | None = None) -> str:
    for coding in (concept or {}).get("coding") or []:
        if system is None or coding.get("system") == system:
            return coding.get("code") or ""
    return ""


@dataclass
class Message_:
    """The parts of the bundle the rules look at (plain FHIR JSON)."""

    data: dict[str, Any]
    header: dict[str, Any]
    by_ref: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any]) -> Message_:
        entries = data.get("entry") or []
        header = next(
            e["resource"] for e in entries if (e.get("resource") or {}).get("resourceType") == "MessageHeader"
        )
        by_ref: dict[str, dict[str, Any]] = {}
        for e in entries:
            resource = e.get("resource") or {}
            if resource.get("id"):
                by_ref[f"{resource['resourceType']}/{resource['id']}"] = resource
            if e.get("fullUrl"):
                by_ref[e["fullUrl"]] = resource
        return cls(data, header, by_ref)

    @property
    def header_id(self) -> str:
        return self.header.get("id") or ""

    @property
    def event(self) -> str:
        return (self.header.get("eventCoding") or {}).get("code") or ""

    def resolve(self, reference: dict | None, resource_type: str | None = None) -> dict[str, Any] | None:
        ref = (reference or {}).get("reference") or ""
        found = self.by_ref.get(ref)
        parts = ref.rstrip("/").split("/")
        if found is None and len(parts) >= 2:
            found = self.by_ref.get(f"{parts[-2]}/{parts[-1]}")
        if found is not None and resource_type and found.get("resourceType") != resource_type:
            return None
        return found

    def all(self, resource_type: str) -> list[dict[str, Any]]:
        return [
            e["resource"]
            for e in self.data.get("entry") or []
            if (e.get("resource") or {}).get("resourceType") == resource_type
        ]

    def first_is_header(self) -> bool:
        entries = self.data.get("entry") or []
        return bool(entries) and (entries[0].get("resource") or {}).get("resourceType") == "MessageHeader"

    def sender_resource(self) -> dict[str, Any] | None:
        return self.resolve(self.header.get("sender"), "Organization")

    def destinations(self) -> list[tuple[str, dict[str, Any] | None]]:
        result = []
        for destination in self.header.get("destination") or []:
            use = ""
            for extension in destination.get("extension") or []:
                if extension.get("url") == codes.DESTINATION_USE_EXTENSION:
                    use = (extension.get("valueCoding") or {}).get("code") or ""
            result.append((use, self.resolve(destination.get("receiver"), "Organization")))
        return result

    def focus(self, resource_type: str) -> dict[str, Any] | None:
        for reference in self.header.get("focus") or []:
            found = self.resolve(reference, resource_type)
            if found is not None:
                return found
        candidates = self.all(resource_type)
        return candidates[0] if len(candidates) == 1 else None

    def own_provenance(self) -> dict[str, Any] | None:
        """The Provenance of this message: the one whose target is this MessageHeader."""
        for provenance in self.all("Provenance"):
            for target in provenance.get("target") or []:
                if _id_of(target.get("reference")) == self.header_id:
                    return provenance
        return None

    def earlier_header_id(self, provenance: dict[str, Any]) -> uuid.UUID | None:
        """The earlier message this one answers, corrects or cancels (Provenance.entity.what)."""
        for entity in provenance.get("entity") or []:
            if entity.get("role") in ("revision", "removal"):
                found = _uuid(_id_of((entity.get("what") or {}).get("reference")))
                if found is not None:
                    return found
        return None

    def ack_reason(self) -> str:
        """The texts of an acknowledgement's OperationOutcome (why it is not ok)."""
        response = self.header.get("response") or {}
        outcome = self.resolve(response.get("details"), "OperationOutcome") or {}
        return "; ".join(
            (issue.get("details") or {}).get("text") or issue.get("diagnostics") or _coding(issue.get("details"))
            for issue in outcome.get("issue") or []
        )[:2000]


def identifiers(resource: dict[str, Any] | None) -> tuple[str | None, str | None]:
    return resources.identifier_of(resource or {}, codes.SOR), resources.identifier_of(resource or {}, codes.GLN)


# --- the answer -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    resource: dict[str, Any]


def _bad_request(exc: BadRequest, status: int = 400) -> Answer:
    return Answer(status, operation_outcome([exc.issue]))


def _dump(bundle: Bundle) -> dict[str, Any]:
    return json.loads(bundle.model_dump_json())


@dataclass
class Incoming:
    """One call of ``$process-message``."""

    msg: Message_
    user: Any
    sender: Organisation | None = None
    receiver: Organisation | None = None

    # the two ends of the acknowledgement, as well as the bundle lets us know them
    def ack_sender(self) -> Organisation | dict[str, Any]:
        if self.receiver is not None:
            return self.receiver
        for use, resource in self.msg.destinations():
            if use == "primary" and resource is not None:
                return resource
        return {"resourceType": "Organization", "id": resources.stable_id("portal"), "name": "SmartCare"}

    def ack_receiver(self) -> Organisation | dict[str, Any]:
        if self.sender is not None:
            return self.sender
        return self.msg.sender_resource() or {
            "resourceType": "Organization",
            "id": resources.stable_id("unknown-sender"),
            "name": "?",
        }

    def fatal(self, exc: Reject) -> dict[str, Any]:
        return _dump(
            acknowledgement_bundle(
                acknowledged_header_id=self.msg.header_id,
                sender=self.ack_sender(),
                receiver=self.ack_receiver(),
                code=AckCode.FATAL_ERROR,
                issues=[exc.issue],
            )
        )

    def transient(self) -> dict[str, Any]:
        text = _("The portal could not process the message just now. Send it again later.")
        return _dump(
            acknowledgement_bundle(
                acknowledged_header_id=self.msg.header_id,
                sender=self.ack_sender(),
                receiver=self.ack_receiver(),
                code=AckCode.TRANSIENT_ERROR,
                issues=[("MSG_Mailbox_Out_Of_Operation", text, "transient")],
            )
        )

    def ok(self, ack: Message) -> dict[str, Any]:
        """The acknowledgement the portal keeps as a message too, with the same ids (so a copy that
        reaches the sender's webhook is recognised as the same acknowledgement)."""
        return _dump(
            acknowledgement_bundle(
                acknowledged_header_id=str(ack.acknowledges_id),
                sender=ack.sender,
                receiver=self.sender,
                code=ack.ack_code or AckCode.OK,
                header_id=str(ack.pk),
                bundle_id=str(ack.bundle_id),
                timestamp=ack.sent_at,
                reason=ack.ack_reason,
            )
        )

    # --- the steps ---

    def check_header(self) -> None:
        if not self.msg.first_is_header():
            raise Reject("MSG_RESOURCE_TYPE_MISMATCH", _("The MessageHeader must be the first entry of the bundle."))
        if _uuid(self.msg.header_id) is None:
            raise Reject("MSG_ID_INVALID", _("The MessageHeader id must be a UUID."), "value", store=False)
        if self.msg.event not in EVENTS:
            raise Reject(
                "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
                _("The portal does not receive messages of the event '%(event)s'.") % {"event": self.msg.event},
                "not-supported",
                store=False,
            )

    def check_sender(self) -> None:
        resource = self.msg.sender_resource()
        sor, gln = identifiers(resource)
        if resource is None or not sor or not gln:
            raise Reject(
                "MSG_RESOURCE_REQUIRED",
                _("The sender must be an Organization in the bundle with a SOR and a GLN identifier."),
                "required",
                store=False,
            )
        mine = Organisation.objects.filter(
            pk__in=Membership.objects.active().filter(user=self.user).values("organisation_id"), is_active=True
        )
        try:
            self.sender = organisation_identified(sor, gln, mine)
        except IdentifierConflict:
            raise Reject(
                "MSG_PARAM_INVALID",
                _("The sender's SOR code and GLN do not name the same organisation."),
                "business-rule",
                store=False,
            ) from None
        if self.sender is None:
            raise Reject(
                "MSG_RESOURCE_NOT_ALLOWED",
                _("The sender is not an organisation that this integration token may send for."),
                "forbidden",
                store=False,
            )

    def check_bundle_id(self) -> dict[str, Any] | None:
        """A Bundle id seen before: the same message again (its answer), or another one (refused)."""
        bundle_id = self.msg.data.get("id") or ""
        if not bundle_id:
            raise Reject("MSG_RESOURCE_ID_MISSING", _("The Bundle has no id."), "required", store=False)
        header = _uuid(self.msg.header_id)
        seen = FhirReceipt.objects.filter(bundle_id=bundle_id).first()
        reused = (seen is not None and seen.header_id != header) or (
            Message.objects.filter(bundle_id=_uuid(bundle_id)).exclude(pk=header).exists()
            if _uuid(bundle_id)
            else False
        )
        if reused:
            raise Reject(
                "MSG_DUPLICATE_ID",
                _("The Bundle id %(id)s was already used for another message; a new message needs a new Bundle id.")
                % {"id": bundle_id[:64]},
                "duplicate",
                store=False,
            )
        return None

    def duplicate(self) -> dict[str, Any] | None:
        """The answer already given for this MessageHeader id, or None when it is new."""
        header = _uuid(self.msg.header_id)
        first = FhirReceipt.objects.filter(header_id=header).order_by("received_at", "pk").first()
        message = Message.objects.filter(pk=header).select_related("sender").first()
        if first is None and message is None:
            return None
        owner = first.sender_id if first is not None else message.sender_id
        if owner != self.sender.pk:
            raise Reject(
                "MSG_DUPLICATE_ID",
                _("The MessageHeader id is already used by another message."),
                "duplicate",
                store=False,
            )
        if first is not None:
            answer, code, message = first.ack_bundle, first.ack_code, first.message
        else:
            answer, code = self._answer_for_portal_message(message)
        bundle_id = self.msg.data.get("id")
        if not FhirReceipt.objects.filter(bundle_id=bundle_id).exists():
            FhirReceipt.objects.create(
                bundle_id=bundle_id, header_id=header, sender=self.sender, message=message,
                ack_code=code, ack_bundle=answer, duplicate=True,
            )  # fmt: skip
        if message is not None:
            Recipient.objects.filter(message=message).update(duplicates=F("duplicates") + 1)
        logger.info("duplicate FHIR message %s from organisation %s", header, self.sender.pk)
        return answer

    def _answer_for_portal_message(self, message: Message) -> tuple[dict[str, Any], str]:
        """A message created in the portal arrives again as a bundle: answered with the
        acknowledgement its primary receiver gave (or ok, when none has been given yet)."""
        primary = message.recipients.filter(role=RecipientRole.PRIMARY).select_related("organisation").first()
        ack = (
            Message.objects.filter(acknowledges=message, sender=primary.organisation).select_related("sender").first()
            if primary
            else None
        )
        self.receiver = primary.organisation if primary else None
        if ack is not None:
            return self.ok(ack), ack.ack_code or AckCode.OK
        bundle = acknowledgement_bundle(
            acknowledged_header_id=str(message.pk),
            sender=self.ack_sender(),
            receiver=self.sender,
            code=AckCode.OK,
            header_id=resources.stable_id(message.pk, "acknowledgement"),
            bundle_id=resources.stable_id(message.pk, "acknowledgement-bundle"),
        )
        return _dump(bundle), AckCode.OK

    def check_receivers(self) -> tuple[Organisation, list[Organisation]]:
        destinations = self.msg.destinations()
        primaries = [resource for use, resource in destinations if use == "primary"]
        if len(primaries) != 1:
            raise Reject(
                "MSG_Receiver_Identifier_MISSING",
                _("The MessageHeader must have exactly one primary destination (it has %(n)d).")
                % {"n": len(primaries)},
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
                organisation = organisation_identified(sor, gln, Organisation.objects.filter(is_active=True))
            except IdentifierConflict:
                organisation = None
            if organisation is None:
                raise Reject(
                    "MSG_Receiver_Identifier_UNKNOWN",
                    _("The receiver with SOR %(sor)s / GLN %(gln)s is not known to the portal.")
                    % {"sor": sor, "gln": gln},
                    "not-found",
                )
            found[use].append(organisation)
        self.receiver = found["primary"][0]
        return self.receiver, found["cc"]

    def patient(self, focus: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
        patient = self.msg.resolve((focus or {}).get("subject"), "Patient")
        if patient is None:
            patients = self.msg.all("Patient")
            patient = patients[0] if len(patients) == 1 else None
        if patient is None:
            raise Reject("MSG_RESOURCE_REQUIRED", _("The message must name its Patient."), "required")
        value = resources.identifier_of(patient, codes.CPR)
        if not value:
            raise Reject("MSG_RESOURCE_REQUIRED", _("The Patient must have a CPR identifier."), "required")
        try:
            return patient, parse_cpr(value).digits
        except ValidationError:
            raise Reject("MSG_BAD_FORMAT", _(CPR_MESSAGE), "value") from None

    def provenance(self) -> tuple[dict[str, Any], str]:
        provenance = self.msg.own_provenance()
        if provenance is None:
            raise Reject(
                "MSG_RESOURCE_REQUIRED",
                _("The bundle must have a Provenance for this message (target: its MessageHeader)."),
                "required",
            )
        activity = _coding(provenance.get("activity"))
        if not activity:
            raise Reject("MSG_RESOURCE_REQUIRED", _("The Provenance must have an activity code."), "required")
        return provenance, activity

    def actor(self) -> Actor:
        return Actor(user=self.user, acting=resolve(self.user, self.sender.pk))

    # --- care communication ---

    def care_communication(self) -> Message:
        receiver, cc = self.check_receivers()
        communication = self.msg.focus("Communication")
        if communication is None:
            raise Reject("MSG_RESOURCE_REQUIRED", _("A CareCommunication must have a Communication."), "required")
        _patient, cpr = self.patient(communication)
        provenance, activity = self.provenance()
        if activity in CARE_ACTIVITIES_UNSUPPORTED:
            raise Reject(
                "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
                _("The portal does not receive CareCommunications with the activity '%(activity)s'.")
                % {"activity": activity},
                "not-supported",
            )
        if activity not in CARE_ACTIVITIES:
            raise Reject(
                "MSG_CodeSystem_VALUE_UNKNOWN",
                _("'%(activity)s' is not a CareCommunication activity.") % {"activity": activity},
                "code-invalid",
            )
        category = _coding(communication.get("category", [None])[0] if communication.get("category") else None)
        if category not in codes.CATEGORIES:
            raise Reject(
                "MSG_VALUESET_VALUE_UNKNOWN",
                _("'%(category)s' is not a CareCommunication category.") % {"category": category},
                "code-invalid",
            )
        topic = ((communication.get("topic") or {}).get("text") or "").strip()
        if category == "other" and not topic:
            raise Reject("MSG_RESOURCE_REQUIRED", _("A topic is required when the category is 'other'."), "required")
        priority = communication.get("priority") or Priority.ROUTINE
        if priority not in Priority.values:
            raise Reject(
                "MSG_VALUESET_VALUE_UNKNOWN",
                _("The priority must be 'asap' (or left out)."),
                "code-invalid",
            )
        if priority == Priority.ASAP and category != "regarding-referral":
            raise Reject(
                "MSG_PARAM_INVALID",
                _("Priority 'asap' is only allowed when the category is 'regarding-referral'."),
                "business-rule",
            )
        texts, attachments, links, author_name, author_phone = self._payload(communication)
        check_length(Message, "topic", topic, "Communication.topic")
        check_length(Message, "author_name", author_name, "Practitioner.name")
        check_length(Message, "author_phone", author_phone, "ContactPoint.value")
        if not texts:
            raise Reject("MSG_RESOURCE_REQUIRED", _("The Communication must have a message text."), "required")
        citizen = Citizen.objects.filter(cpr=cpr).first()
        if citizen is None:
            raise Reject(
                "MSG_NO_EXIST",
                _("The citizen is not registered in the portal or has no care relationship with the sender."),
                "not-found",
            )
        earlier = self.msg.earlier_header_id(provenance)
        parent = Message.objects.filter(pk=earlier).first() if earlier else None
        text = "\n\n".join(texts + links)
        return services.message_import(
            actor=self.actor(),
            message_id=_uuid(self.msg.header_id),
            citizen=citizen,
            receiver=receiver,
            cc=cc,
            category=category,
            topic=topic,
            priority=priority,
            text=text,
            activity=activity,
            parent=parent,
            author_name=author_name,
            author_phone=author_phone,
            attachments=attachments,
        )

    def _payload(self, communication: dict[str, Any]):
        texts: list[str] = []
        attachments: list[SimpleUploadedFile] = []
        links: list[str] = []
        author_name = author_phone = ""
        for payload in communication.get("payload") or []:
            if payload.get("contentString"):
                texts.append(payload["contentString"].strip())
                if not author_name:
                    author_name, author_phone = self._author(payload)
            attachment = payload.get("contentAttachment")
            if attachment:
                title = (attachment.get("title") or "").strip() or _("attachment")
                if attachment.get("data"):
                    try:
                        content = base64.b64decode(attachment["data"], validate=True)
                    except (binascii.Error, ValueError):
                        raise Reject("MSG_Datatype_Wrong", _("An attachment is not valid base64."), "value") from None
                    # MedCom's title has no file extension; the message service names the file
                    # after the type its content has (``messaging.attachments.attachment_name``).
                    check_length(Attachment, "filename", title, "Attachment.title")
                    attachments.append(SimpleUploadedFile(title, content))
                elif attachment.get("url"):
                    links.append(f"{title}: {attachment['url']}")
        return texts, attachments, links, author_name, author_phone

    def _author(self, payload: dict[str, Any]) -> tuple[str, str]:
        name = phone = ""
        for extension in payload.get("extension") or []:
            url = extension.get("url") or ""
            if url.endswith(PAYLOAD_CONTACT):
                phone = (extension.get("valueContactPoint") or {}).get("value") or ""
            elif url.endswith(PAYLOAD_AUTHOR):
                who = self.msg.resolve(extension.get("valueReference"))
                if who and who.get("resourceType") == "PractitionerRole":
                    who = self.msg.resolve(who.get("practitioner"), "Practitioner")
                for human in (who or {}).get("name") or []:
                    name = human.get("text") or " ".join([*(human.get("given") or []), human.get("family") or ""])
                    break
        return name.strip(), phone

    # --- hospital notification ---

    def hospital_notification(self) -> Message:
        receiver, _cc = self.check_receivers()
        if receiver.kind != OrganisationKind.MUNICIPALITY:
            raise Reject(
                "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
                _("A HospitalNotification is sent to the citizen's municipality; %(org)s is not a municipality.")
                % {"org": receiver.name},
                "not-supported",
            )
        encounter = self.msg.focus("Encounter")
        if encounter is None:
            raise Reject("MSG_RESOURCE_REQUIRED", _("A HospitalNotification must have an Encounter."), "required")
        patient, cpr = self.patient(encounter)
        provenance, activity = self.provenance()
        code, revision = self._hospital_code(encounter, patient, activity)
        if not any((episode.get("identifier") or {}).get("value") for episode in encounter.get("episodeOfCare") or []):
            raise Reject("MSG_RESOURCE_REQUIRED", _("The Encounter must have an episodeOfCare identifier."), "required")
        actor = self.actor()
        message_id = _uuid(self.msg.header_id)
        if revision == Revision.NEW:
            at = self._occurred_at(code, encounter, provenance)
            name = next(iter(patient.get("name") or []), {})
            address = next(iter(patient.get("address") or []), {})
            notified = citizen_register_from_notification(
                actor=actor,
                municipality=receiver,
                cpr=cpr,
                first_name=" ".join(name.get("given") or []),
                last_name=name.get("family") or "",
                street=", ".join(address.get("line") or []),
                postal_code=address.get("postalCode") or "",
                city=address.get("city") or "",
            )
            event = services.hospital_event_record(
                actor=actor, code=code, occurred_at=at, message_id=message_id, **notified.event_fields
            )
            return event.message
        earlier_id = self.msg.earlier_header_id(provenance)
        earlier = (
            HospitalEvent.objects.select_related("citizen", "message")
            .filter(message_id=earlier_id, department=self.sender)
            .first()
            if earlier_id
            else None
        )
        if earlier is None or earlier.citizen.cpr != cpr:
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
            at = self._occurred_at(code, encounter, provenance)
            event = services.hospital_event_correct(actor=actor, event=earlier, occurred_at=at, message_id=message_id)
        else:
            event = services.hospital_event_cancel(actor=actor, event=earlier, message_id=message_id)
        return event.message

    def _hospital_code(self, encounter: dict[str, Any], patient: dict[str, Any], activity: str) -> tuple[str, str]:
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
            _(
                "Encounter class '%(class)s', status '%(status)s' and activity '%(activity)s' "
                "name no HospitalNotification."
            )
            % {"class": klass, "status": status, "activity": activity},
            "business-rule",
        )

    def _occurred_at(self, code: str, encounter: dict[str, Any], provenance: dict[str, Any]) -> datetime.datetime:
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

    # --- acknowledgement ---

    def acknowledgement(self) -> Answer:
        response = self.msg.header.get("response") or {}
        code = response.get("code") or ""
        acknowledged = _uuid(response.get("identifier"))
        message = Message.objects.filter(pk=acknowledged).first() if acknowledged else None
        if message is None or not message.recipients.filter(organisation=self.sender).exists():
            return Answer(
                422,
                operation_outcome(
                    [
                        (
                            "MSG_NO_EXIST",
                            _(
                                "The acknowledged message is unknown, or was not sent to the acknowledging "
                                "organisation."
                            ),
                            "not-found",
                        )
                    ]
                ),
            )
        reason = self.msg.ack_reason()
        settled = services.acknowledgement_record(message=message, organisation=self.sender, code=code, reason=reason)
        text = (
            _("The acknowledgement was recorded.")
            if settled
            else _("The message was already acknowledged by this organisation.")
        )
        return Answer(200, operation_outcome([("", text, "informational")], severity="information"))


def process_message(body: bytes, content_type: str, *, user) -> tuple[int, dict[str, Any]]:
    """The answer (HTTP status, FHIR resource as JSON) to one posted bundle."""
    try:
        msg = Message_.of(parse(body, format_of(content_type)))
    except BadRequest as exc:
        answer = _bad_request(exc)
        return answer.status, answer.resource
    incoming = Incoming(msg, user)
    try:
        answer = _process(incoming)
    except TRANSIENT_ERRORS:
        logger.exception("$process-message: database unavailable")
        answer = _unavailable(incoming)
    except Exception:  # noqa: BLE001 - fails again on a resend: a fatal error, never a 500
        logger.exception("$process-message: unexpected error")
        answer = _failed(incoming)
    return answer.status, answer.resource


def _unavailable(incoming: Incoming) -> Answer:
    """Send it again later (an acknowledgement is never acknowledged: an HTTP 503 for it)."""
    if incoming.msg.event == codes.EVENT_ACKNOWLEDGEMENT:
        return Answer(503, operation_outcome([("MSG_Mailbox_Out_Of_Operation", _("Try again later."), "transient")]))
    return Answer(200, incoming.transient())


def _failed(incoming: Incoming) -> Answer:
    if incoming.msg.event == codes.EVENT_ACKNOWLEDGEMENT:
        return Answer(422, operation_outcome([portal_failure().issue]))
    return Answer(200, incoming.fatal(portal_failure()))


def webhook_acknowledgement(body: bytes, content_type: str, *, delivery) -> bool:
    """The answer of an organisation's own system to a webhook delivery, when it is a MedCom
    Acknowledgement of the delivered message: recorded as that organisation's acknowledgement
    (no more resends). Anything else in the answer is ignored: the delivery itself succeeded."""
    message, organisation = delivery.message, delivery.recipient.organisation
    if not message.is_cross_organisation:
        return False  # an acknowledgement is never acknowledged
    fmt = XML if "xml" in content_type.lower() or body.lstrip().startswith(b"<") else JSON
    try:
        msg = Message_.of(parse(body, fmt))
    except BadRequest:
        return False
    response = msg.header.get("response") or {}
    if msg.event != codes.EVENT_ACKNOWLEDGEMENT or _uuid(response.get("identifier")) != message.pk:
        return False
    sor, gln = identifiers(msg.sender_resource())
    if (sor or gln) and sor != organisation.sor_code and gln != organisation.gln:
        return False  # it speaks for another organisation
    code = response.get("code") or ""
    if code not in AckCode.values:
        return False
    return bool(
        services.acknowledgement_record(message=message, organisation=organisation, code=code, reason=msg.ack_reason())
    )


def _process(incoming: Incoming) -> Answer:
    try:
        incoming.check_header()
        check_unique_entries(incoming.msg.data)
        incoming.check_sender()
        if incoming.msg.event == codes.EVENT_ACKNOWLEDGEMENT:
            return _guarded(incoming.acknowledgement)
        incoming.check_bundle_id()
        duplicate = incoming.duplicate()
        if duplicate is not None:
            return Answer(200, duplicate)
    except Reject as exc:
        return Answer(200, incoming.fatal(exc))
    for attempt in (1, 2):
        try:
            return Answer(200, _create(incoming))
        except IntegrityError:
            # The same message posted twice at once: the other one won; answer as its duplicate.
            # Or another message registered the same citizen at the same time: once more.
            logger.warning("$process-message: integrity error (attempt %d)", attempt)
            try:
                duplicate = incoming.duplicate()
            except Reject as exc:
                return Answer(200, incoming.fatal(exc))
            if duplicate is not None:
                return Answer(200, duplicate)
    logger.error("$process-message: integrity error twice for message %s", incoming.msg.header_id)
    return _failed(incoming)


def _guarded(step) -> Answer:
    try:
        with transaction.atomic():
            return step()
    except (ValidationError, PermissionDenied) as exc:
        return Answer(422, operation_outcome([("MSG_PARAM_INVALID", service_text(exc), "invalid")]))


def _create(incoming: Incoming) -> dict[str, Any]:
    """Create the message and its acknowledgement in one transaction, and keep the answer; a
    broken rule creates nothing and keeps the fatal-error answer."""
    handler = (
        incoming.care_communication
        if incoming.msg.event == codes.EVENT_CARE_COMMUNICATION
        else incoming.hospital_notification
    )
    try:
        with transaction.atomic():
            if incoming.msg.event == codes.EVENT_HOSPITAL_NOTIFICATION:
                check_patient_lengths(incoming.msg.all("Patient"))
            message = handler()
            ack = services.acknowledgement_send(message=message, organisation=incoming.receiver, code=AckCode.OK)
            answer = incoming.ok(ack)
            _keep(incoming, answer, AckCode.OK, message)
            return answer
    except Reject as exc:
        rejection = exc
    except (ValidationError, PermissionDenied) as exc:
        rejection = service_rejection(exc)
    answer = incoming.fatal(rejection)
    if rejection.store:
        with transaction.atomic():
            _keep(incoming, answer, AckCode.FATAL_ERROR, None)
    logger.info(
        "FHIR message %s from organisation %s rejected: %s",
        incoming.msg.header_id,
        incoming.sender.pk,
        rejection.issue[0],
    )
    return answer


def _keep(incoming: Incoming, answer: dict[str, Any], code: str, message: Message | None) -> None:
    bundle_uuid = _uuid(incoming.msg.data["id"])
    if message is not None and bundle_uuid is not None:
        # The message as it arrived: its Bundle id is the transmission's (a resend changes it).
        Message.objects.filter(pk=message.pk).update(bundle_id=bundle_uuid)
    FhirReceipt.objects.create(
        bundle_id=incoming.msg.data["id"],
        header_id=_uuid(incoming.msg.header_id),
        sender=incoming.sender,
        message=message,
        ack_code=code,
        ack_bundle=answer,
    )
