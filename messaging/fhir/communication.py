"""Communication: the MedCom care communications and hospital notifications the acting
organisation sent or received (as the inbox and sent box show them), for the FHIR read API.

A third party that got a forward sees the forward and what follows, never the earlier exchange:
exactly the rows ``selectors`` shows on the thread page. Acknowledgements and the portal's own
notifications are no Communications."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from citizens.access import Actor
from citizens.fhir.params import DateParam, ReferenceParam, Token, TokenParam, key_int, key_uuid, token_codes
from citizens.fhir.registry import Include, ResourceType
from citizens.fhir.types.clinical import patient_param
from smartcare.datetimes import rfc3339

from ..choices import Category, HospitalCode, MessageType, Priority, RecipientRole, Revision
from ..models import Attachment, Message, Recipient
from . import codes

TYPES = (MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION)
# The kind of message, as the Communication's first category (MedCom's event codes).
EVENT = {
    MessageType.CARE_COMMUNICATION: codes.EVENT_CARE_COMMUNICATION,
    MessageType.HOSPITAL_NOTIFICATION: codes.EVENT_HOSPITAL_NOTIFICATION,
}
HEADER_IDS = "https://smartcare.dk/fhir/NamingSystem/medcom-messageheader-id"
HOSPITAL_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-hospitalNotification-messageActivityCodes"
REVISION_STATUS = {Revision.CANCELLATION: "entered-in-error"}


def _received(organisation_id: int) -> Exists:
    return Exists(
        Recipient.objects.filter(message_id=OuterRef("pk"), organisation_id=organisation_id, received_at__isnull=False)
    )


def _scope(actor: Actor, rows: QuerySet) -> QuerySet:
    organisation = actor.organisation
    if organisation is None:
        return rows.none()
    return rows.filter(Q(sender_id=organisation.pk) | _received(organisation.pk))


def _categories(message: Message) -> list[dict[str, Any]]:
    categories: list[dict[str, Any]] = [
        {"coding": [{"system": codes.EVENT_CODES, "code": EVENT[MessageType(message.type)]}]}
    ]
    if message.category:
        label = str(Category(message.category).label)
        categories.append({"coding": [{"system": codes.CATEGORY_CODES, "code": message.category, "display": label}]})
    return categories


def _payload(message: Message, files: list[Attachment]) -> list[dict[str, Any]]:
    payload: list[dict[str, Any]]
    if message.type == MessageType.HOSPITAL_NOTIFICATION and message.hospital_code:
        text = str(HospitalCode(message.hospital_code).label)
        payload = [{"contentString": f"{message.hospital_code}: {text}"}]
    else:
        payload = [{"contentString": message.text}] if message.text else []
    payload += [
        {"contentAttachment": {"contentType": f.content_type, "title": f.filename, "size": f.size}} for f in files
    ]
    return payload


def communication(message: Message, receivers: list[Recipient], files: list[Attachment]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": str(message.pk),
        "identifier": [{"system": HEADER_IDS, "value": message.header_id}],
        "status": REVISION_STATUS.get(Revision(message.revision), "completed") if message.revision else "completed",
        "category": _categories(message),
        "priority": "asap" if message.priority == Priority.ASAP else "routine",
        "subject": {"reference": f"Patient/{message.citizen_id}"},
    }
    if message.topic:
        resource["topic"] = {"text": message.topic}
    if message.stay_id:
        resource["encounter"] = {"reference": f"Encounter/{message.stay_id}"}
    resource["sent"] = rfc3339(message.sent_at)
    resource["recipient"] = [
        {"reference": f"Organization/{r.organisation_id}", "display": r.organisation.name}
        for r in sorted(receivers, key=lambda r: (r.role != RecipientRole.PRIMARY, r.pk))
    ]
    resource["sender"] = {"reference": f"Organization/{message.sender_id}", "display": message.sender.name}
    if message.parent_id:
        resource["inResponseTo"] = [{"reference": f"Communication/{message.parent_id}"}]
    payload = _payload(message, files)
    if payload:
        resource["payload"] = payload
    return resource


def build(rows: Sequence[Message]) -> list[dict[str, Any]]:
    """A page in three statements whatever its size: the messages, their receivers, their files."""
    ids = [m.pk for m in rows]
    receivers: dict[Any, list[Recipient]] = defaultdict(list)
    for recipient in Recipient.objects.filter(message_id__in=ids).select_related("organisation"):
        receivers[recipient.message_id].append(recipient)
    files: dict[Any, list[Attachment]] = defaultdict(list)
    for attachment in Attachment.objects.filter(message_id__in=ids).order_by("pk"):
        files[attachment.message_id].append(attachment)
    return [communication(m, receivers[m.pk], files[m.pk]) for m in rows]


def _category(token: Token) -> Q:
    by_event = {code: kind for kind, code in EVENT.items()}
    return Q(type__in=token_codes(token, codes.EVENT_CODES, by_event)) | Q(
        category__in=token_codes(token, codes.CATEGORY_CODES, Category.values)
    )


def _receiver(keys: list[Any]) -> Q:
    return Q(pk__in=Recipient.objects.filter(organisation_id__in=keys).values("message_id"))


COMMUNICATION = ResourceType(
    name="Communication",
    description=(
        "MedCom care communications and hospital notifications the acting organisation sent or received "
        "(a forward's receiver sees the forward and what follows)."
    ),
    rows=lambda: Message.objects.filter(type__in=TYPES).select_related("sender"),
    build=build,
    parse_id=key_uuid,
    params=(
        patient_param(),
        patient_param(name="subject"),
        ReferenceParam(
            "sender",
            "The sender (Organization/<id>).",
            field_name="sender_id",
            targets=("Organization",),
            convert=key_int,
        ),
        ReferenceParam(
            "recipient",
            "A receiver (Organization/<id>).",
            field_name="recipients__organisation_id",
            targets=("Organization",),
            convert=key_int,
            pointing=_receiver,
        ),
        TokenParam("category", "The MedCom event code or care communication category.", match=_category),
        DateParam("sent", "When it was sent, with prefixes.", field_name="sent_at"),
        ReferenceParam(
            "encounter",
            "The hospital stay (Encounter/<id>).",
            field_name="stay_id",
            targets=("Encounter",),
            convert=key_int,
        ),
    ),
    sorts={"sent": ("sent_at",)},
    default_order=("-sent_at",),
    scope=_scope,
    includes=(Include("patient", "Patient", lambda rows: Q(pk__in={m.citizen_id for m in rows})),),
)
