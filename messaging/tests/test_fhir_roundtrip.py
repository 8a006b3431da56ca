"""Round trips through MedCom FHIR (issue #6): a message made in the portal is exported with
``GET /fhir/Bundle/<id>`` and posted to ``$process-message`` with the sending organisation's
integration token, for each message type and HospitalNotification code, in JSON and in XML.

Two installations are simulated in one database. The message is made (and delivered) inside a
savepoint that is rolled back once its export has been read, so afterwards the database is the
receiving side, where the message does not exist yet; what the message refers to (the message
answered, the notification corrected, the stay it changes) is made before the savepoint and so
exists on both sides.

- Inside the savepoint, where the portal made the message, posting its export is a duplicate: the
  answer is the acknowledgement the receiver gave in the portal, and no inbox changes.
- After the rollback, the export arrives exactly once, as the message the portal made (same
  MessageHeader id, citizen, texts, attachment, hospital code and time, the stay changed alike),
  answered with an ``ok`` acknowledgement; sent again, as it is or with a new Bundle id, it changes
  nothing and gets the identical answer.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.authtoken.models import Token

from citizens.models import Citizen, HospitalStay
from messaging import selectors
from messaging.choices import AckCode, HospitalCode, MessageType, RecipientRole
from messaging.delivery import delivery_run
from messaging.fhir import codes
from messaging.fhir.export import message_bundle
from messaging.models import Delivery, FhirReceipt, HospitalEvent, Message, Recipient
from messaging.services import (
    hospital_event_cancel,
    hospital_event_correct,
    hospital_event_record,
    message_forward,
    message_reply,
)

from .helpers import PDF, acknowledgements, recipient, send, upload

pytestmark = pytest.mark.django_db

URL = "/fhir/$process-message"
CONTENT_TYPES = {"json": "application/fhir+json", "xml": "application/fhir+xml"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Fhir:
    """The two endpoints, used as the organisations' own systems use them."""

    client: Any
    world: Any
    deliver: Callable

    def export(self, user: str, message: Message, fmt: str) -> bytes:
        self.client.force_login(self.world.users[user])
        response = self.client.get(reverse("fhir:bundle", args=[message.pk]), {"_format": fmt})
        self.client.logout()
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith(CONTENT_TYPES[fmt])
        return response.content

    def post(self, user: str, body: bytes, fmt: str):
        key = Token.objects.get_or_create(user=self.world.users[user])[0].key
        return self.deliver(
            self.client.post,
            URL,
            data=body,
            content_type=CONTENT_TYPES[fmt],
            HTTP_AUTHORIZATION=f"Token {key}",
        )


@pytest.fixture
def fhir(client, world, deliver) -> Fhir:
    return Fhir(client, world, deliver)


def answer_of(response, fmt: str) -> dict[str, Any]:
    """The FHIR resource answered, as JSON (an XML answer read with fhir.resources)."""
    assert response["Content-Type"].startswith(CONTENT_TYPES[fmt])
    if fmt == "xml":
        model = OperationOutcome if b"<OperationOutcome" in response.content[:200] else Bundle
        return json.loads(model.model_validate_xml(response.content).model_dump_json())
    return response.json()


def as_json(bundle: Bundle) -> dict[str, Any]:
    return json.loads(bundle.model_dump_json())


def header_of(data: dict[str, Any]) -> dict[str, Any]:
    header = data["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    return header


def with_new_bundle_id(body: bytes) -> bytes:
    """The same message sent again as MedCom resends do: a new Bundle id, the same MessageHeader id."""
    old = Bundle.model_validate_json(body).id if body.lstrip().startswith(b"{") else Bundle.model_validate_xml(body).id
    assert body.count(old.encode()) == 1  # the Bundle id names nothing else in the bundle
    return body.replace(old.encode(), str(uuid.uuid4()).encode())


# --- what "the same message" means ------------------------------------------------------------------


def stays(citizen_id) -> list[tuple]:
    return list(
        HospitalStay.objects.filter(citizen_id=citizen_id)
        .order_by("admitted_at", "pk")
        .values_list("department_id", "kind", "admitted_at", "discharged_at", "on_leave")
    )


def events(citizen_id) -> list[tuple]:
    return list(
        HospitalEvent.objects.filter(citizen_id=citizen_id)
        .order_by("recorded_at", "pk")
        .values_list(
            "message_id", "department_id", "code", "revision", "revises__message_id", "occurred_at", "superseded"
        )
    )


def snapshot(message: Message) -> dict[str, Any]:
    """Everything the receiver sees of the message and everything it changed in the portal, with
    nothing that is the portal's own bookkeeping (row ids, the time it was written)."""
    message = Message.objects.select_related("stay", "thread").get(pk=message.pk)
    citizen = Citizen.objects.get(pk=message.citizen_id)
    return {
        "message": {
            "type": message.type,
            "citizen": message.citizen_id,
            "sender": message.sender_id,
            "activity": message.activity,
            "parent": message.parent_id,
            "category": message.category,
            "topic": message.topic,
            "priority": message.priority,
            "text": message.text,
            "author": (message.author_name, message.author_phone),
            "thread": (message.thread.category, message.thread.topic),
            "hospital code": message.hospital_code_label,
            "revises": message.revises_id,
            "department": message.department_id,
            "time": message.occurred_at,
            "stay": (
                (message.stay.department_id, message.stay.kind, message.stay.admitted_at, message.stay.discharged_at)
                if message.stay
                else None
            ),
        },
        "attachments": [
            (a.filename, a.content_type, a.size, a.file.open("rb").read()) for a in message.attachments.all()
        ],
        "receivers": sorted(
            (r.organisation_id, r.role, r.received_at is not None, r.ack_code, r.acknowledged_at is not None)
            for r in Recipient.objects.filter(message=message)
        ),
        "citizen": (
            citizen.first_name,
            citizen.last_name,
            citizen.street,
            citizen.postal_code,
            citizen.city,
            citizen.municipality_id,
            citizen.gp_clinic_id,
            citizen.deceased_at,
        ),
        "stays": stays(citizen.pk),
        "events": events(citizen.pk),
    }


def inbox_rows(actor) -> list[Any]:
    return list(selectors.inbox(actor=actor).values_list("message_id", flat=True))


def counts() -> tuple[int, ...]:
    return (
        Message.objects.count(),
        Recipient.objects.count(),
        Delivery.objects.count(),
        Citizen.objects.count(),
        HospitalStay.objects.count(),
        HospitalEvent.objects.count(),
    )


# --- the cases ------------------------------------------------------------------------------------


def at(hours_ago: float) -> datetime.datetime:
    """Whole seconds: FHIR carries the time to the second, and the round trip must be exact."""
    return (timezone.now() - datetime.timedelta(hours=hours_ago)).replace(microsecond=0)


def hospital(world, actor, deliver, code: str, hours_ago: float) -> HospitalEvent:
    return deliver(
        hospital_event_record,
        actor=actor("hospital_nurse"),
        citizen=world.citizen,
        code=code,
        occurred_at=at(hours_ago),
    )


@dataclass(frozen=True)
class Case:
    sender: str  # the user whose organisation sends the message (and whose token posts it)
    receiver: str  # a user of the primary receiver
    before: Callable  # (world, actor, deliver) -> what exists on both sides
    make: Callable  # (world, actor, before) -> the message, made in the portal


def care_new(world, actor, _before) -> Message:
    world.users["gp_a"].phone = "38683868"
    world.users["gp_a"].save(update_fields=["phone"])
    return send(
        world,
        actor,
        topic="Ny medicin",
        text="Borgeren har fået ny medicin.\nSe vedhæftede liste.",
        attachments=[upload("medicinliste.pdf", PDF)],
    )


def care_original(world, actor, deliver) -> Message:
    return deliver(send, world, actor, topic="Sår", text="Skift forbinding dagligt.")


def care_reply(world, actor, original) -> Message:
    return message_reply(actor=actor("homecare_a"), message=original, text="Tak, vi følger op i morgen.")


def admitted_with_original(world, actor, deliver) -> Message:
    world.municipality_a.phone = "87878787"  # the forward's contact: the organisation's phone
    world.municipality_a.save(update_fields=["phone"])
    hospital(world, actor, deliver, HospitalCode.STIN, 10)  # the department may receive about the citizen
    return deliver(send, world, actor, topic="Medicin", text="Ny medicinliste.", attachments=[upload("liste.pdf", PDF)])


def care_forward(world, actor, original) -> Message:
    return message_forward(
        actor=actor("homecare_a"), message=original, receiver=world.department, text="Til orientering."
    )


def hospital_before(*codes_and_hours: tuple[str, float]) -> Callable:
    def before(world, actor, deliver):
        return [hospital(world, actor, deliver, code, hours) for code, hours in codes_and_hours]

    return before


def hospital_new(code: str, hours_ago: float = 2) -> Callable:
    def make(world, actor, _before):
        return hospital_event_record(
            actor=actor("hospital_nurse"), citizen=world.citizen, code=code, occurred_at=at(hours_ago)
        ).message

    return make


def correct_last(world, actor, before) -> Message:
    return hospital_event_correct(actor=actor("hospital_nurse"), event=before[-1], occurred_at=at(4)).message


def cancel_last(world, actor, before) -> Message:
    return hospital_event_cancel(actor=actor("hospital_nurse"), event=before[-1]).message


def nothing(world, actor, deliver):
    return None


CASES = {
    "care communication": Case("gp_a", "homecare_a", nothing, care_new),
    "reply": Case("homecare_a", "gp_a", care_original, care_reply),
    "forward": Case("homecare_a", "hospital_nurse", admitted_with_original, care_forward),
    "STAA": Case("hospital_nurse", "homecare_a", nothing, hospital_new(HospitalCode.STAA)),
    "STIN": Case("hospital_nurse", "homecare_a", nothing, hospital_new(HospitalCode.STIN)),
    "STOR": Case("hospital_nurse", "homecare_a", hospital_before(("STIN", 10)), hospital_new(HospitalCode.STOR, 6)),
    "SLOR": Case(
        "hospital_nurse", "homecare_a", hospital_before(("STIN", 10), ("STOR", 6)), hospital_new(HospitalCode.SLOR, 3)
    ),
    "SLHJ": Case("hospital_nurse", "homecare_a", hospital_before(("STIN", 10)), hospital_new(HospitalCode.SLHJ, 1)),
    "MORS": Case("hospital_nurse", "homecare_a", hospital_before(("STIN", 10)), hospital_new(HospitalCode.MORS, 1)),
    "RE_STIN": Case("hospital_nurse", "homecare_a", hospital_before(("STIN", 5)), correct_last),
    # An earlier stay at the department (discharged two days ago): a cancelled admission leaves the
    # department no current stay, and without a recent one it may not read (export) its own notice.
    "AN_STIN": Case(
        "hospital_nurse", "homecare_a", hospital_before(("STIN", 72), ("SLHJ", 48), ("STIN", 5)), cancel_last
    ),
}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("case", list(CASES))
def test_round_trip(world, actor, deliver, fhir, case, fmt):
    spec = CASES[case]
    before = spec.before(world, actor, deliver)
    receiver = actor(spec.receiver)

    # The sending installation: made in the portal, delivered and acknowledged there, exported.
    with transaction.atomic():
        message = deliver(spec.make, world, actor, before)
        made = snapshot(message)
        exported = fhir.export(spec.sender, message, fmt)
        primary = Recipient.objects.get(message=message, role=RecipientRole.PRIMARY)
        given = Message.objects.get(type=MessageType.ACKNOWLEDGEMENT, acknowledges=message, sender=primary.organisation)
        assert primary.received_at is not None and primary.ack_code == AckCode.OK

        # (a) Here the message exists: its export is a duplicate, answered with the acknowledgement
        # the receiver gave, and nothing new is shown.
        shown, existing = inbox_rows(receiver), counts()
        response = fhir.post(spec.sender, exported, fmt)
        assert response.status_code == 200, response.content
        assert answer_of(response, fmt) == as_json(message_bundle(given))
        assert inbox_rows(receiver) == shown and counts() == existing
        assert Recipient.objects.get(pk=primary.pk).duplicates == 1
        transaction.set_rollback(True)

    # (b) The receiving installation, where the message is new. Another organisation's token cannot
    # post it (the bundle's sender is not its organisation): refused, nothing created.
    assert not Message.objects.filter(pk=message.pk).exists()
    shown, existing = inbox_rows(receiver), counts()
    response = fhir.post("gp_b", exported, fmt)
    refused = header_of(answer_of(response, fmt))
    assert refused["response"]["code"] == "fatal-error" and counts() == existing
    response = fhir.post(spec.sender, exported, fmt)
    assert response.status_code == 200, response.content
    answer = answer_of(response, fmt)
    header = header_of(answer)
    assert header["eventCoding"]["code"] == codes.EVENT_ACKNOWLEDGEMENT
    assert header["response"] == {"identifier": str(message.pk), "code": "ok"}, answer

    arrived = Message.objects.get(pk=message.pk)  # the same MessageHeader id
    assert snapshot(arrived) == made
    assert inbox_rows(receiver) == [arrived.pk, *shown]  # exactly once, on top
    assert arrived.pk not in inbox_rows(actor("gp_b")) + inbox_rows(actor("homecare_b"))  # the outsiders
    stored = Message.objects.get(type=MessageType.ACKNOWLEDGEMENT, acknowledges=arrived, sender=primary.organisation)
    assert header["id"] == str(stored.pk)
    if isinstance(before, Message):  # a reply or forward joins the thread of the message it answers
        assert arrived.thread_id == before.thread_id
    elif before and arrived.revises_id:  # a correction or cancellation: the notification's thread
        assert arrived.thread_id == before[-1].message.thread_id

    # sent again, as it is and with a new Bundle id: nothing changes, the same answer
    arrived_state, existing = snapshot(arrived), counts()
    for body in (exported, with_new_bundle_id(exported)):
        response = fhir.post(spec.sender, body, fmt)
        assert response.status_code == 200, response.content
        assert answer_of(response, fmt) == answer
        assert inbox_rows(receiver) == [arrived.pk, *shown]
        assert counts() == existing and snapshot(arrived) == arrived_state
    assert FhirReceipt.objects.filter(header_id=message.pk).count() == 2  # two Bundle ids seen


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_round_trip_of_an_acknowledgement(world, actor, deliver, fhir, django_capture_on_commit_callbacks, fmt):
    """The municipality's acknowledgement of the GP clinic's message, exported and posted by the
    municipality's system, settles the clinic's message for the municipality (no more resends)."""
    message = send(world, actor)  # exists on both sides, not yet delivered
    row = recipient(message, world.municipality_a)
    assert row.acknowledged_at is None

    with transaction.atomic():
        with django_capture_on_commit_callbacks(execute=True):
            for delivery in Delivery.objects.filter(message=message).order_by("pk"):
                delivery_run(delivery.pk)
        (ack,) = acknowledgements(message)
        row.refresh_from_db()
        assert row.acknowledged_at is not None and row.ack_code == AckCode.OK
        exported = fhir.export("homecare_a", ack, fmt)
        data = as_json(Bundle.model_validate_json(exported) if fmt == "json" else Bundle.model_validate_xml(exported))
        assert header_of(data)["response"] == {"identifier": str(message.pk), "code": "ok"}

        # (a) Here it has settled the message already: posted, it changes nothing.
        settled, existing = Recipient.objects.filter(pk=row.pk).values().get(), counts()
        response = fhir.post("homecare_a", exported, fmt)
        assert response.status_code == 200, response.content
        assert answer_of(response, fmt)["resourceType"] == "OperationOutcome"
        assert Recipient.objects.filter(pk=row.pk).values().get() == settled and counts() == existing
        transaction.set_rollback(True)

    # (b) Where it is new, it settles the receiver's row once.
    assert not Message.objects.filter(pk=ack.pk).exists()
    row.refresh_from_db()
    assert row.acknowledged_at is None
    existing = counts()
    response = fhir.post("homecare_a", exported, fmt)
    assert response.status_code == 200, response.content
    outcome = answer_of(response, fmt)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "information"
    row.refresh_from_db()
    assert row.acknowledged_at is not None and (row.ack_code, row.ack_reason) == (AckCode.OK, "")
    assert counts() == existing  # acknowledgements are never acknowledged: nothing is created
    settled = Recipient.objects.filter(pk=row.pk).values().get()
    answers = []
    for body in (exported, with_new_bundle_id(exported)):
        response = fhir.post("homecare_a", body, fmt)
        assert response.status_code == 200, response.content
        answers.append(answer_of(response, fmt))
        assert Recipient.objects.filter(pk=row.pk).values().get() == settled and counts() == existing
    assert answers[0] == answers[1]
