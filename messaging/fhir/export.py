"""Outgoing MedCom message bundles: a portal message as the FHIR message MedCom's IGs describe
(dk-medcom-messaging, -carecommunication, -hospitalnotification; acknowledgements are built by
``acknowledgement.acknowledgement_bundle``).

The bundle is built from what the portal stored, so the same message always exports the same
resources and identifiers (only the Bundle timestamp moves). Provenance covers this message and
every earlier message of the conversation that the exporting organisation took part in: a third
party that got a forward never learns of the earlier exchange through the export.
"""

from __future__ import annotations

import base64
import datetime
import os
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from fhir.resources.R4B.bundle import Bundle

from citizens.choices import StayKind
from sectors.models import Membership, Organisation
from smartcare.datetimes import rfc3339

from ..choices import HospitalCode, MessageType, Priority, RecipientRole, Revision
from ..models import Message, Recipient
from . import codes, resources

MEDCOM_TYPES = (MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION)
# What ``message_bundle`` exports: the MedCom messages and their acknowledgements.
EXPORTED_TYPES = (*MEDCOM_TYPES, MessageType.ACKNOWLEDGEMENT)
EVENT = {
    MessageType.CARE_COMMUNICATION: codes.EVENT_CARE_COMMUNICATION,
    MessageType.HOSPITAL_NOTIFICATION: codes.EVENT_HOSPITAL_NOTIFICATION,
}


def message_bundle(message: Message, *, for_organisation: Organisation | None = None) -> Bundle:
    """The MedCom message bundle of ``message``, with the history ``for_organisation`` (default:
    the sender) may know. A portal notification is no MedCom message: ``ValueError``."""
    if message.type == MessageType.ACKNOWLEDGEMENT:
        from .acknowledgement import acknowledgement_bundle  # F2's builder, the one for acknowledgements

        acknowledged = message.acknowledges
        return acknowledgement_bundle(
            acknowledged_header_id=acknowledged.header_id,
            sender=message.sender,
            receiver=acknowledged.sender,
            code=codes.ACK_CODES[message.ack_code],
            reason=message.ack_reason,
            header_id=message.header_id,
            bundle_id=message.bundle_id,
            timestamp=message.sent_at,
        )
    if message.type not in MEDCOM_TYPES:
        raise ValueError(f"a {message.type} is not a MedCom message")
    return _Builder(message, for_organisation or message.sender).bundle()


def bundle_json(bundle: Bundle) -> bytes:
    return bundle.model_dump_json().encode()


def bundle_xml(bundle: Bundle) -> bytes:
    return bundle.model_dump_xml()


# --- helpers -----------------------------------------------------------------------------------------


def _when(value: datetime.datetime) -> str:
    """FHIR dateTime/instant with the time zone (MedCom requires one), in the portal's zone."""
    return rfc3339(value)


def _urn(value: str) -> str:
    return f"urn:uuid:{value}"


def _coding(system: str, code: str) -> dict[str, str]:
    return {"system": system, "code": code}


def _is_acute_ambulant(message: Message) -> bool:
    if message.stay is not None:
        return message.stay.kind == StayKind.ACUTE_AMBULANT
    return message.hospital_code == HospitalCode.STAA


def activity_code(message: Message) -> str:
    """The Provenance activity of a message (care communication: new/reply/forward; hospital
    notification: admit-inpatient, revise-…, cancel-…)."""
    if message.type == MessageType.HOSPITAL_NOTIFICATION:
        return codes.hospital_activity(
            message.hospital_code, message.revision, acute_ambulant=_is_acute_ambulant(message)
        )
    return message.activity


def _payload_identifier(message: Message, part: Any) -> str:
    return _urn(resources.stable_uuid4(message.pk, "payload", part))


def _involving(organisation: Organisation) -> Q:
    return Q(sender_id=organisation.pk) | Q(
        recipients__organisation_id=organisation.pk, recipients__received_at__isnull=False
    )


class _Builder:
    """One bundle. Organisations are collected while the resources are built, so every
    Organization referred to (receivers, earlier senders, assigners) is in the bundle once."""

    def __init__(self, message: Message, for_organisation: Organisation) -> None:
        self.message = message
        self.for_organisation = for_organisation
        self.organisations: dict[int, Organisation] = {}
        self.entries: list[dict[str, Any]] = []
        self.header_ids: dict[uuid.UUID, str] = {}

    # organisations
    def org_ref(self, organisation: Organisation) -> dict[str, str]:
        self.organisations.setdefault(organisation.pk, organisation)
        return resources.reference("Organization", resources.stable_id("organisation", organisation.pk))

    def bundle(self) -> Bundle:
        message = self.message
        receivers = list(
            Recipient.objects.filter(message=message)
            .select_related("organisation__webhook")
            .order_by("-role", "pk")  # the primary receiver first
        )
        if message.type == MessageType.HOSPITAL_NOTIFICATION:
            # MedComHospitalNotificationMessageHeader: destination[cc] 0..0, the receiver is always
            # primary (medcom-hospitalNotification-5). The portal's copy to the GP clinic is its own.
            receivers = [r for r in receivers if r.role == RecipientRole.PRIMARY]
        history = self.history()
        self.header_ids = self.header_ids_of(history)
        patient = resources.patient(message.citizen, deceased=self.deceased())
        header_id = message.header_id
        if message.type == MessageType.CARE_COMMUNICATION:
            focus = self.communication(patient["id"])
        else:
            focus = self.encounter(patient["id"], history)
        header = self.header(header_id, receivers, focus)
        provenances = [self.provenance(m, history) for m in history]
        provenances.append(self.provenance(message, history))
        organizations = [resources.organization(org) for org in self.organisations.values()]
        entries = [header, *organizations, patient, focus, *self.entries, *provenances]
        data = {
            "resourceType": "Bundle",
            "id": message.bundle_id,
            "type": "message",
            "timestamp": _when(timezone.now()),
            "entry": [resources.entry(resource) for resource in entries],
        }
        return Bundle.model_validate(data)

    def history(self) -> list[Message]:
        """The earlier MedCom messages of the conversation the organisation sent or received, oldest
        first: the thread, and for a hospital notification the earlier notifications of the stay."""
        message = self.message
        related = Q(thread_id=message.thread_id)
        if message.type == MessageType.HOSPITAL_NOTIFICATION and message.stay_id:
            related |= Q(type=MessageType.HOSPITAL_NOTIFICATION, stay_id=message.stay_id)
        earlier = Q(sent_at__lt=message.sent_at) | Q(sent_at=message.sent_at, pk__lt=message.pk)
        return list(
            Message.objects.filter(related, earlier, type__in=MEDCOM_TYPES)
            .filter(_involving(self.for_organisation))
            .exclude(pk=message.pk)
            .distinct()
            .select_related("sender", "stay")
            .prefetch_related("attachments")
            .order_by("sent_at", "pk")
        )

    def header_ids_of(self, history: list[Message]) -> dict[uuid.UUID, str]:
        """The MessageHeader ids (as their senders wrote them) of the messages the Provenance
        entries name: the history's own, and the earlier messages they point at, read at once."""
        messages = [*history, self.message]
        known = {m.pk: m.header_id for m in messages}
        wanted = {self.previous(m, history) for m in messages} - {None} - known.keys()
        if wanted:
            known.update(Message.objects.filter(pk__in=wanted).values_list("pk", "header_id"))
        return known

    # MessageHeader
    def header(self, header_id: str, receivers: Iterable[Recipient], focus: dict[str, Any]) -> dict[str, Any]:
        message = self.message
        destinations = []
        for recipient in receivers:
            webhook = getattr(recipient.organisation, "webhook", None)
            destinations.append(
                {
                    "extension": [
                        {
                            "url": codes.DESTINATION_USE_EXTENSION,
                            "valueCoding": _coding(codes.DESTINATION_USE, recipient.role),
                        }
                    ],
                    "endpoint": webhook.url if webhook is not None and webhook.active else codes.UNKNOWN_ENDPOINT,
                    "receiver": self.org_ref(recipient.organisation),
                }
            )
        return {
            "resourceType": "MessageHeader",
            "id": header_id,
            "eventCoding": _coding(codes.EVENT_CODES, EVENT[message.type]),
            "destination": destinations,
            "sender": self.org_ref(message.sender),
            "source": {"endpoint": resources.base_url()},
            "focus": [resources.reference(focus["resourceType"], focus["id"])],
        }

    def deceased(self) -> bool | None:
        """MORS says the patient died; its cancellation says the patient did not."""
        if self.message.type != MessageType.HOSPITAL_NOTIFICATION or self.message.hospital_code != HospitalCode.MORS:
            return None
        return self.message.revision != Revision.CANCELLATION

    # CareCommunication
    def communication(self, patient_id: str) -> dict[str, Any]:
        message = self.message
        resource: dict[str, Any] = {
            "resourceType": "Communication",
            "id": resources.stable_id(message.pk, "communication"),
            # One identifier for the whole conversation, as in MedCom's reply examples.
            "identifier": [{"value": _urn(resources.stable_uuid4(message.thread_id, "communication"))}],
            "status": "unknown",
            "category": [{"coding": [_coding(codes.CATEGORY_CODES, message.category)]}],
            "subject": resources.reference("Patient", patient_id),
            "payload": self.payloads(),
        }
        if message.priority == Priority.ASAP:
            resource["priority"] = codes.PRIORITY[message.priority]
        if message.topic:
            resource["topic"] = {"text": message.topic}
        return resource

    def payloads(self) -> list[dict[str, Any]]:
        """The message's own text segment, then its attachments (base64 from the stored file)."""
        message = self.message
        sender = self.org_ref(message.sender)
        common = [{"url": codes.PAYLOAD_DATE_EXTENSION, "valueDateTime": _when(message.sent_at)}]
        text_extensions = [
            *common,
            {
                "url": codes.PAYLOAD_IDENTIFIER_EXTENSION,
                "valueIdentifier": {"value": _payload_identifier(message, "text"), "assigner": sender},
            },
            {"url": codes.PAYLOAD_AUTHOR_EXTENSION, "valueReference": self.author()},
        ]
        phone = message.author_phone or message.sender.phone
        if phone:
            text_extensions.append(
                {
                    "url": codes.PAYLOAD_AUTHOR_CONTACT_EXTENSION,
                    "valueContactPoint": {"system": "phone", "value": phone},
                }
            )
        payloads = [{"extension": text_extensions, "contentString": message.text}]
        for attachment in message.attachments.all():
            with attachment.file.open("rb") as handle:
                data = base64.b64encode(handle.read()).decode()
            payloads.append(
                {
                    "extension": [
                        *common,
                        {
                            "url": codes.PAYLOAD_IDENTIFIER_EXTENSION,
                            "valueIdentifier": {
                                "value": _payload_identifier(message, f"attachment:{attachment.pk}"),
                                "assigner": sender,
                            },
                        },
                    ],
                    "contentAttachment": {
                        "contentType": attachment.content_type,
                        # MedCom: the title never carries the file type's extension.
                        "title": os.path.splitext(attachment.filename)[0] or attachment.filename,
                        "creation": _when(message.sent_at),
                        "data": data,
                    },
                }
            )
        return payloads

    def author(self) -> dict[str, str]:
        """The PractitionerRole (and Practitioner) of the segment's author, added to the bundle."""
        message = self.message
        user = message.author
        name = message.author_name or (user.get_full_name() if user else "") or message.sender.name
        if user is not None and (user.last_name or user.first_name):
            family, given = user.last_name, user.first_name.split()
        else:
            *given, family = name.split() or [name]
        role_text = ""
        if user is not None:
            membership = Membership.objects.active().filter(user_id=user.pk, organisation_id=message.sender_id).first()
            if membership is not None:
                with translation.override(settings.LANGUAGE_CODE):
                    role_text = str(membership.get_role_display())
        if not role_text:
            with translation.override(settings.LANGUAGE_CODE):
                role_text = str(message.sender.get_kind_display())
        practitioner_id = resources.stable_id(message.pk, "practitioner")
        role_id = resources.stable_id(message.pk, "practitionerrole")
        human_name: dict[str, Any] = {"use": "official", "family": family}
        if given:
            human_name["given"] = given
        self.entries.append(
            {
                "resourceType": "PractitionerRole",
                "id": role_id,
                "identifier": [{"value": _urn(resources.stable_uuid4(message.pk, "practitionerrole"))}],
                "practitioner": resources.reference("Practitioner", practitioner_id),
                "organization": self.org_ref(message.sender),
                "code": [{"text": role_text}],
            }
        )
        self.entries.append(
            {
                "resourceType": "Practitioner",
                "id": practitioner_id,
                "identifier": [{"value": _urn(resources.stable_uuid4(message.pk, "practitioner"))}],
                "name": [human_name],
            }
        )
        return resources.reference("PractitionerRole", role_id)

    # HospitalNotification
    def encounter(self, patient_id: str, history: list[Message]) -> dict[str, Any]:
        message = self.message
        code = message.hospital_code
        klass, status, _activity = codes.HOSPITAL[code]
        if _is_acute_ambulant(message):
            klass = "EMER"
        if message.revision == Revision.CANCELLATION:
            status = codes.ENCOUNTER_CANCELLED
        stay = message.stay
        at = message.occurred_at or message.sent_at
        # An admission starts the stay at its own (possibly corrected) time; later events keep the stay's.
        start = at if code in (HospitalCode.STAA, HospitalCode.STIN) or stay is None else stay.admitted_at
        resource: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": resources.stable_id(message.pk, "encounter"),
            "identifier": [{"value": _urn(resources.stable_uuid4(message.pk, "encounter"))}],
            "status": status,
            "class": _coding(codes.ENCOUNTER_CLASS, klass),
            "subject": resources.reference("Patient", patient_id),
            "episodeOfCare": [
                {
                    "identifier": {
                        "system": codes.EPISODE_OF_CARE_IDENTIFIER,
                        "value": _urn(resources.stable_id("episode-of-care", *self.episode_key())),
                    }
                }
            ],
            "period": {"start": _when(start)},
            "serviceProvider": self.org_ref(message.department or message.sender),
        }
        if code in (HospitalCode.SLHJ, HospitalCode.MORS):
            resource["period"]["end"] = _when(at)
        if code == HospitalCode.STOR:
            resource["extension"] = [{"url": codes.LEAVE_PERIOD_EXTENSION, "valuePeriod": {"start": _when(at)}}]
        elif code == HospitalCode.SLOR:
            left = next(
                (m.occurred_at for m in reversed(history) if m.hospital_code == HospitalCode.STOR and m.occurred_at),
                at,
            )
            resource["extension"] = [
                {"url": codes.LEAVE_PERIOD_EXTENSION, "valuePeriod": {"start": _when(left), "end": _when(at)}}
            ]
        return resource

    def episode_key(self) -> tuple[str, Any]:
        """The stay, or (its notifications outliving a cancelled admission) the first notification."""
        current: Message | None = self.message
        root = self.message
        while current is not None:
            if current.stay_id:
                return ("stay", current.stay_id)
            root = current
            current = current.revises
        return ("message", root.pk)

    # Provenance
    def provenance(self, message: Message, history: list[Message]) -> dict[str, Any]:
        is_current = message.pk == self.message.pk
        header = (
            resources.reference("MessageHeader", message.header_id)
            if is_current
            else {"reference": resources.full_url("MessageHeader", message.header_id)}
        )
        resource: dict[str, Any] = {
            "resourceType": "Provenance",
            "id": resources.stable_id(message.pk, "provenance"),
            "target": [header],
            "occurredDateTime": _when(message.sent_at),
            "recorded": _when(message.sent_at),
            "activity": {"coding": [_coding(codes.ACTIVITY_CODES, activity_code(message))]},
            "agent": [{"who": self.org_ref(message.sender)}],
        }
        entities = []
        previous = self.previous(message, history)
        if previous is not None:
            role = (
                codes.PROVENANCE_ROLE_REMOVAL
                if message.revision == Revision.CANCELLATION
                else codes.PROVENANCE_ROLE_REVISION
            )
            what = resources.full_url("MessageHeader", self.header_ids[previous])
            entities.append({"role": role, "what": {"reference": what}})
        if message.type == MessageType.CARE_COMMUNICATION:
            parts = ["text", *[f"attachment:{a.pk}" for a in message.attachments.all()]]
            entities += [
                {
                    "role": codes.PROVENANCE_ROLE_SOURCE,
                    "what": {"identifier": {"value": _payload_identifier(message, part)}},
                }
                for part in parts
            ]
        if entities:
            resource["entity"] = entities
        return resource

    @staticmethod
    def previous(message: Message, history: list[Message]) -> uuid.UUID | None:
        """The id of the message this one answers, forwards, corrects or cancels; for a new hospital
        notification, the stay's notification before it (MedCom's examples: STOR after STIN)."""
        if message.revises_id:
            return message.revises_id
        if message.parent_id:
            return message.parent_id
        if message.type == MessageType.HOSPITAL_NOTIFICATION and message.stay_id:
            before = [
                m
                for m in history
                if m.type == MessageType.HOSPITAL_NOTIFICATION
                and m.stay_id == message.stay_id
                and (m.sent_at, str(m.pk)) < (message.sent_at, str(message.pk))
            ]
            if before:
                return before[-1].pk
        return None
