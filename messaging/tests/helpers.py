"""Small builders shared by the messaging tests (the ``world`` and ``actor`` fixtures are in the root conftest)."""

from __future__ import annotations

import base64
import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messaging.choices import Category, Channel, HospitalCode, MessageType
from messaging.models import Delivery, HospitalEvent, Message, Recipient, WebhookEndpoint
from messaging.services import hospital_event_record, message_send
from sectors.choices import MembershipRole
from sectors.models import Organisation, User
from sectors.tests.factories import MembershipFactory

# The smallest files of each accepted type (the type is read from the content, not the name).
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def send(world, actor, *, sender: str = "gp_a", receiver: Organisation | None = None, **fields) -> Message:
    """A care communication from the GP clinic to the citizen's municipality unless told otherwise."""
    fields.setdefault("category", Category.NURSING)
    fields.setdefault("text", "Borgeren har fået ny medicin.")
    return message_send(actor=actor(sender), citizen=world.citizen, receiver=receiver or world.municipality_a, **fields)


def admit(world, actor, *, code: str = HospitalCode.STIN, hours_ago: float = 2, by: str = "hospital_nurse"):
    return hospital_event_record(
        actor=actor(by),
        citizen=world.citizen,
        code=code,
        occurred_at=timezone.now() - datetime.timedelta(hours=hours_ago),
    )


def member(organisation: Organisation, role: str = MembershipRole.CARE_COORDINATOR, **fields) -> User:
    return MembershipFactory(organisation=organisation, role=role, **fields).user


def webhook(organisation: Organisation, url: str = "https://hooks.example.org/smartcare") -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(organisation=organisation, url=url)


def recipient(message: Message, organisation: Organisation) -> Recipient:
    return Recipient.objects.get(message=message, organisation=organisation)


def deliveries(message: Message, organisation: Organisation | None = None, channel: str | None = None):
    qs = Delivery.objects.filter(message=message).order_by("pk")
    if organisation is not None:
        qs = qs.filter(recipient__organisation=organisation)
    if channel is not None:
        qs = qs.filter(channel=channel)
    return qs


def in_app(message: Message, organisation: Organisation) -> Delivery:
    """The first in-app delivery of the message to the organisation."""
    return deliveries(message, organisation, Channel.IN_APP).first()


def acknowledgements(message: Message):
    return Message.objects.filter(type=MessageType.ACKNOWLEDGEMENT, acknowledges=message)


def notices(organisation: Organisation, kind: str | None = None):
    qs = Message.objects.filter(type=MessageType.NOTIFICATION, recipients__organisation=organisation)
    if kind is not None:
        qs = qs.filter(notice_kind=kind)
    return qs


def latest_event(world) -> HospitalEvent:
    return HospitalEvent.objects.filter(citizen=world.citizen).order_by("-recorded_at", "-pk").first()
