"""Synthetic messages for the synthetic region: ``generate_region`` calls ``MessageGenerator`` for
each batch of citizens it writes (``settings.SMARTCARE_REGION_EXTENSIONS``).

About 2 million messages at the region's full size (1.67 per citizen generated, so the volume
scales with ``--citizens``), spread over the last year, so the inboxes, threads and delivery tables
have the size the benchmark (``make bench``) reads them at:

- a hospital notification for each hospital stay the citizen generator wrote (admitted, and
  discharged home for the stays that ended), from the department to the citizen's municipality with
  a copy to the GP clinic, each with its hospital event;
- care communications filling up the rest: threads of one to three messages between the citizen's
  GP clinic and municipality, answered back and forth.

Every message is in its receivers' inboxes: one receiver row per organisation, received and
acknowledged seconds after sending, handled unless it is from the last two days (hospital
notifications left unhandled longer were reminded of once, so the escalation task finds nothing to
do), with its in-app delivery delivered at the first attempt and that attempt recorded. The
acknowledgement messages themselves are not written (the receiver rows carry their answer), nor
any e-mail or webhook delivery: nobody subscribes.

Rows are written like the citizens: COPY on PostgreSQL, ``bulk_create`` elsewhere, with ids
assigned here so rows can point at each other (the sequences are moved past them at the end). The
services are bypassed for speed, so there are no access-log entries. Never runs in production
(generate_region refuses first).
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections import Counter
from collections.abc import Callable

from django.db import connection
from django.db.models import Max

from citizens.models import HospitalStay
from citizens.rowwriter import RowWriter, settle_tables

from .choices import (
    AckCode,
    Activity,
    AttemptOutcome,
    Category,
    Channel,
    DeliveryStatus,
    HospitalCode,
    MessageType,
    Priority,
    RecipientRole,
    Revision,
)
from .models import Delivery, DeliveryAttempt, HospitalEvent, Message, Recipient, Thread

MESSAGES_AT_FULL_SIZE, FULL_SIZE = 2_000_000, 1_200_000
MESSAGES_PER_CITIZEN = MESSAGES_AT_FULL_SIZE / FULL_SIZE
HISTORY_DAYS = 365
OPEN_DAYS = 2  # messages of the last days may still be unhandled
ESCALATED_AFTER = datetime.timedelta(hours=4)

# Citizen rows from citizens.generate.CITIZEN_COLUMNS.
C_ID, C_MUNICIPALITY, C_CLINIC = 0, 11, 12

THREAD_COLUMNS = ["id", "citizen", "category", "topic", "created_at", "last_message_at"]
MESSAGE_COLUMNS = [
    "id", "header_id", "type", "thread", "parent", "activity", "citizen", "sender", "author", "author_name",
    "author_phone", "category", "topic", "priority", "text", "hospital_code", "given_name", "given_address",
    "revision", "revises", "department", "stay", "occurred_at", "acknowledges", "ack_code", "ack_reason",
    "notice_kind", "link", "source_key", "bundle_id", "sent_at",
]  # fmt: skip
RECIPIENT_COLUMNS = [
    "id", "message", "organisation", "role", "received_at", "duplicates", "assigned_to", "handled_at", "handled_by",
    "ack_code", "ack_reason", "acknowledged_at", "last_sent_at", "resends", "unacknowledged_alerted_at",
    "escalated_at",
]  # fmt: skip
DELIVERY_COLUMNS = [
    "id", "message", "recipient", "digest", "email_notice", "channel", "user", "key", "status", "attempts",
    "next_attempt_at", "claimed_at", "delivered_at", "last_error", "created_at",
]  # fmt: skip
ATTEMPT_COLUMNS = ["delivery", "started_at", "finished_at", "outcome", "error"]
EVENT_COLUMNS = [
    "id", "citizen", "department", "code", "revision", "revises", "occurred_at", "stay", "message", "recorded_by",
    "recorded_at", "superseded",
]  # fmt: skip
TABLES = {
    "threads": (Thread, THREAD_COLUMNS),
    "messages": (Message, MESSAGE_COLUMNS),
    "recipients": (Recipient, RECIPIENT_COLUMNS),
    "deliveries": (Delivery, DELIVERY_COLUMNS),
    "attempts": (DeliveryAttempt, ATTEMPT_COLUMNS),
    "events": (HospitalEvent, EVENT_COLUMNS),
}

# What care communications between a GP clinic and a municipality are about, with a first message
# and the answers that may follow (stored texts are in the portal's language).
CONVERSATIONS = [
    (
        Category.MEDICINE,
        "Ændret medicin",
        "Borgerens blodtryksmedicin er øget. Vil I hjælpe med at dosere den nye dosis fra i morgen?",
        ["Tak, vi har ændret doseringen i medicinlisten.", "Dosering ændret fra i dag."],
    ),
    (
        Category.NURSING,
        "Sårpleje",
        "Såret på venstre underben væsker fortsat. Kan lægen se på det ved næste konsultation?",
        ["Vi har booket tid til borgeren torsdag.", "Start gerne med fugtig forbinding indtil da."],
    ),
    (
        Category.HOME_CARE_ASSESSMENT,
        "Visitation til hjemmepleje",
        "Borgeren har brug for hjælp til bad og påklædning efter faldet. Vil I vurdere behovet?",
        ["Visitator kommer på besøg mandag.", "Borgeren er visiteret til hjælp to gange ugentligt."],
    ),
    (
        Category.EXAMINATION_RESULTS,
        "Blodprøvesvar",
        "Blodprøverne fra i går er normale. Hjemmemålingerne kan fortsætte som aftalt.",
        ["Tak for svaret."],
    ),
    (
        Category.CARECOORDINATION,
        "Opfølgning efter udskrivelse",
        "Vi har været på besøg efter udskrivelsen. Borgeren er træt, men klarer sig. Ønsker I en kontrol?",
        ["Ja, vi indkalder til kontrol om en uge.", "Nej, ikke foreløbig. Kontakt os ved forværring."],
    ),
    (
        Category.TELEMEDICINE,
        "Hjemmemålinger",
        "Borgeren har haft svært ved at bruge blodtryksapparatet. Kan I hjælpe med instruktion?",
        ["Vi instruerer ved næste besøg.", "Instruktion givet, målingerne kommer nu igen."],
    ),
]


class MessageGenerator:
    """A ``citizens.generate.RegionExtension``: messages, their receivers and deliveries for each batch."""

    name = "messages"

    def __init__(self, *, rng: random.Random, now: datetime.datetime, progress: Callable[[str], None] | None = None):
        self.rng = rng
        self.now = now
        self.say = progress or (lambda message: None)
        self.pg = connection.vendor == "postgresql"
        self.next_id = {
            model: (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
            for model in (Recipient, Delivery, HospitalEvent)
        }
        bits = [rng.getrandbits(n) for n in (32, 16, 12, 12)]
        self.uuid_head = f"{bits[0]:08x}-{bits[1]:04x}-4{bits[2]:03x}-8{bits[3]:03x}-"
        self.uuid_count = 0
        self.owed = 0.0  # messages due but not yet written (the batches' fractions)
        self.counts: Counter = Counter()
        self.writers = {key: RowWriter(model, columns) for key, (model, columns) in TABLES.items()}
        self.rows: dict[str, list] = {key: [] for key in TABLES}
        self.started = datetime.datetime.now()

    def _uuid(self) -> uuid.UUID:
        """Ascending within a run, so the primary-key index grows at its right edge."""
        self.uuid_count += 1
        return uuid.UUID(f"{self.uuid_head}{self.uuid_count:012x}")

    def _id(self, model) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    # --- per batch ---------------------------------------------------------------------------------

    def add(self, citizens: list[tuple], conditions: list[tuple]) -> None:
        if not citizens:
            return
        self.owed += MESSAGES_PER_CITIZEN * len(citizens)
        places = {row[C_ID]: (row[C_MUNICIPALITY], row[C_CLINIC]) for row in citizens}
        stays = HospitalStay.objects.filter(citizen_id__in=list(places)).values_list(
            "pk", "citizen_id", "department_id", "admitted_at", "discharged_at"
        )
        for stay_id, citizen_id, department, admitted, discharged in stays:
            municipality, clinic = places[citizen_id]
            self._notification(citizen_id, department, municipality, clinic, stay_id, HospitalCode.STIN, admitted)
            if discharged is not None:
                self._notification(citizen_id, department, municipality, clinic, stay_id, HospitalCode.SLHJ, discharged)
        rows = list(places.items())
        while self.owed >= 1:
            citizen_id, (municipality, clinic) = rows[int(self.rng.random() * len(rows))]
            self._conversation(citizen_id, municipality, clinic)
        self._flush()
        elapsed = (datetime.datetime.now() - self.started).total_seconds()
        self.say(f"  messages: {self.counts['messages']:,} ({elapsed:.0f} s)")

    def _flush(self) -> None:
        for key, writer in self.writers.items():
            writer.write(self.rows[key])
            self.rows[key] = []

    # --- messages ----------------------------------------------------------------------------------

    def _sent_at(self) -> datetime.datetime:
        return self.now - datetime.timedelta(seconds=self.rng.random() * HISTORY_DAYS * 86400)

    def _message(self, *, kind: str, thread: uuid.UUID, citizen, sender: int, sent_at: datetime.datetime, **fields):
        message_id = self._uuid()
        values = {
            "parent": None, "activity": Activity.NEW, "author_name": "", "category": "", "topic": "",
            "priority": Priority.ROUTINE, "text": "", "hospital_code": "", "revision": Revision.NEW,
            "department": None, "stay": None, "occurred_at": None, **fields,
        }  # fmt: skip
        self.rows["messages"].append(
            (
                message_id, str(message_id), kind, thread, values["parent"], values["activity"], citizen, sender,
                None, values["author_name"], "", values["category"], values["topic"], values["priority"],
                values["text"], values["hospital_code"], "", "", values["revision"], None, values["department"],
                values["stay"], values["occurred_at"], None, "", "", "", "", None,
                str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), sent_at,
            )
        )  # fmt: skip
        self.owed -= 1
        self.counts["messages"] += 1
        self.counts[kind] += 1
        return message_id

    def _receive(self, message_id: uuid.UUID, organisation: int, role: str, sent_at: datetime.datetime, kind: str):
        """The receiver's row (received, acknowledged, handled unless recent), its in-app delivery
        and the one attempt that delivered it."""
        rng = self.rng
        received = sent_at + datetime.timedelta(seconds=1 + rng.random() * 20)
        acknowledged = received + datetime.timedelta(seconds=1 + rng.random() * 20)
        recent = received > self.now - datetime.timedelta(days=OPEN_DAYS)
        handled = None if recent and rng.random() < 0.6 else received + datetime.timedelta(hours=rng.random() * 30)
        escalated = None
        if handled is None and kind == MessageType.HOSPITAL_NOTIFICATION and received < self.now - ESCALATED_AFTER:
            escalated = received + ESCALATED_AFTER
        recipient_id = self._id(Recipient)
        self.rows["recipients"].append(
            (
                recipient_id, message_id, organisation, role, received, 0, None, handled, None, AckCode.OK, "",
                acknowledged, sent_at, 0, None, escalated,
            )
        )  # fmt: skip
        delivery_id = self._id(Delivery)
        self.rows["deliveries"].append(
            (
                delivery_id, message_id, recipient_id, None, None, Channel.IN_APP, None,
                f"{message_id}:{organisation}:in-app", DeliveryStatus.DELIVERED, 1, sent_at, None, received, "",
                sent_at,
            )
        )  # fmt: skip
        self.rows["attempts"].append((delivery_id, sent_at, received, AttemptOutcome.OK, ""))
        self.counts["deliveries"] += 1

    def _thread(self, citizen, category: str, topic: str, created: datetime.datetime, last: datetime.datetime):
        thread_id = self._uuid()
        self.rows["threads"].append((thread_id, citizen, category, topic, created, last))
        self.counts["threads"] += 1
        return thread_id

    def _notification(self, citizen, department: int, municipality: int, clinic: int, stay: int, code: str, at):
        """A hospital notification to the municipality, copy to the GP clinic, and its event."""
        sent_at = at + datetime.timedelta(seconds=5 + self.rng.random() * 60)
        if sent_at > self.now:
            sent_at = self.now
        thread = self._thread(citizen, "", "", sent_at, sent_at)
        kind = MessageType.HOSPITAL_NOTIFICATION
        message_id = self._message(
            kind=kind, thread=thread, citizen=citizen, sender=department, sent_at=sent_at, hospital_code=code,
            department=department, stay=stay, occurred_at=at,
        )  # fmt: skip
        self._receive(message_id, municipality, RecipientRole.PRIMARY, sent_at, kind)
        if clinic and clinic != municipality:
            self._receive(message_id, clinic, RecipientRole.CC, sent_at, kind)
        event_id = self._id(HospitalEvent)
        self.rows["events"].append(
            (event_id, citizen, department, code, Revision.NEW, None, at, stay, message_id, None, sent_at, False)
        )

    def _conversation(self, citizen, municipality: int, clinic: int) -> None:
        """A thread of one to three care communications, the GP clinic and the municipality in turn."""
        rng = self.rng
        category, topic, text, answers = CONVERSATIONS[int(rng.random() * len(CONVERSATIONS))]
        length = 1 + (rng.random() < 0.5) + (rng.random() < 0.2)
        start = self._sent_at()
        times = [start]
        for _ in range(length - 1):
            times.append(min(self.now, times[-1] + datetime.timedelta(hours=1 + rng.random() * 48)))
        thread = self._thread(citizen, category, topic, start, times[-1])
        sender, receiver = (clinic, municipality) if rng.random() < 0.5 else (municipality, clinic)
        parent = None
        kind = MessageType.CARE_COMMUNICATION
        for index, sent_at in enumerate(times):
            body = text if index == 0 else answers[int(rng.random() * len(answers))]
            parent = self._message(
                kind=kind, thread=thread, citizen=citizen, sender=sender, sent_at=sent_at, parent=parent,
                activity=Activity.NEW if index == 0 else Activity.REPLY, category=category, topic=topic, text=body,
            )  # fmt: skip
            self._receive(parent, receiver, RecipientRole.PRIMARY, sent_at, kind)
            sender, receiver = receiver, sender

    def finish(self) -> dict[str, int]:
        if self.pg:
            settle_tables(
                numbered=(Recipient, Delivery, HospitalEvent), written=[w.model for w in self.writers.values()]
            )
        return dict(sorted(self.counts.items()))
