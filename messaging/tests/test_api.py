"""The messaging API with the fixed cast: the citizen's GP clinic (sender), the citizen's
municipality (receiver) and a colleague there, a hospital department, and outsiders (clinic B,
municipality B, another department) who get nothing on any endpoint."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from citizens.choices import AccessAction
from citizens.models import AccessLogEntry, HospitalStay
from citizens.tests.factories import CitizenFactory
from messaging.choices import (
    AttemptOutcome,
    Category,
    Channel,
    DeliveryStatus,
    HospitalCode,
    MessageType,
    Priority,
    Revision,
)
from messaging.models import Delivery, DeliveryAttempt, HospitalEvent, Message, ReadMark, Recipient
from messaging.services import hospital_event_record, message_reply, message_send
from sectors.choices import MembershipRole
from sectors.tests.factories import MembershipFactory

from .fhir_post import ack_of, care

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OUTSIDERS = ["gp_b", "homecare_b"]


def client_for(user) -> APIClient:
    """Signed in, reading messages in English (Danish, the default, is tested on its own)."""
    client = APIClient()
    client.force_authenticate(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def ago(minutes: int = 60) -> str:
    return (timezone.now() - datetime.timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def as_(world):
    return lambda name: client_for(world.users[name])


@pytest.fixture
def send(world, actor, deliver):
    def send(sender: str = "gp_a", receiver=None, citizen=None, **fields) -> Message:
        fields.setdefault("category", Category.NURSING)
        fields.setdefault("text", "Borgeren har fået ny medicin.")
        return deliver(
            lambda: message_send(
                actor=actor(sender),
                citizen=citizen or world.citizen,
                receiver=receiver or world.municipality_a,
                **fields,
            )
        )

    return send


@pytest.fixture
def message(send):
    """From the GP clinic to the citizen's municipality, delivered and acknowledged."""
    return send()


@pytest.fixture
def admitted(world, actor, deliver):
    """The citizen admitted at the department an hour ago (the department now sees the citizen)."""
    return deliver(
        lambda: hospital_event_record(
            actor=actor("hospital_nurse"),
            citizen=world.citizen,
            code=HospitalCode.STIN,
            occurred_at=timezone.now() - datetime.timedelta(hours=1),
        )
    )


def send_payload(world, **fields) -> dict:
    payload = {
        "citizen": str(world.citizen.pk),
        "receiver": world.municipality_a.pk,
        "category": Category.NURSING,
        "text": "Borgeren har fået ny medicin.",
    }
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not None}


# --- inbox and sent box --------------------------------------------------------------------------


def test_inbox_lists_received_messages_with_their_state(world, as_, message):
    body = as_("homecare_a").get("/api/v1/messages/").json()

    assert body["count"] == 1
    item = body["results"][0]
    assert item["id"] == str(message.pk)
    assert item["type"] == MessageType.CARE_COMMUNICATION
    assert item["category"] == Category.NURSING and item["priority"] == Priority.ROUTINE
    assert item["sender"] == {
        "id": world.clinic_a.pk,
        "name": world.clinic_a.name,
        "sor_code": world.clinic_a.sor_code,
        "gln": world.clinic_a.gln,
    }
    assert item["citizen"] == {"id": str(world.citizen.pk), "name": world.citizen.full_name, "cpr": world.citizen.cpr}
    assert item["received_at"] and item["is_read"] is False and item["is_copy"] is False
    assert item["handled_at"] is None and item["assigned_to"] is None
    assert item["thread"] == str(message.thread_id)
    assert as_("homecare_a").get("/api/v1/messages/", {"box": "inbox"}).json()["count"] == 1


def test_the_rows_shown_are_logged_as_api_read(world, as_, message):
    before = AccessLogEntry.objects.count()

    as_("homecare_a").get("/api/v1/messages/")

    entry = AccessLogEntry.objects.order_by("-pk").first()
    assert AccessLogEntry.objects.count() == before + 1
    assert entry.citizen_id == world.citizen.pk and entry.action == AccessAction.API_READ
    assert entry.detail == "api message inbox"


def test_sent_box_shows_the_receivers_and_their_acknowledgements(world, as_, message):
    body = as_("gp_a").get("/api/v1/messages/", {"box": "sent"}).json()

    assert body["count"] == 1
    item = body["results"][0]
    assert item["id"] == str(message.pk) and item["citizen"]["cpr"] == world.citizen.cpr
    [receiver] = item["receivers"]
    assert receiver["organisation"]["id"] == world.municipality_a.pk
    assert receiver["role"] == "primary" and receiver["ack_code"] == "ok" and receiver["acknowledged_at"]
    # the sender's inbox has only the acknowledgement's effect, no message
    assert as_("gp_a").get("/api/v1/messages/").json()["count"] == 0


def test_inbox_hospital_notification_has_its_code_label(world, as_, admitted):
    [item] = as_("homecare_a").get("/api/v1/messages/").json()["results"]

    assert item["type"] == MessageType.HOSPITAL_NOTIFICATION and item["hospital_code_label"] == "STIN"
    assert item["sender"]["id"] == world.department.pk
    # the GP clinic gets a copy
    [copy] = as_("gp_a").get("/api/v1/messages/").json()["results"]
    assert copy["is_copy"] is True


def test_inbox_filters(world, as_, actor, send, admitted):
    other = CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a)
    nursing = send()
    medicine = send(category=Category.MEDICINE, citizen=other)
    client = as_("homecare_a")

    def ids(**params) -> set[str]:
        return {item["id"] for item in client.get("/api/v1/messages/", params).json()["results"]}

    everything = ids()
    assert len(everything) == 3  # two messages and the admission
    assert ids(category=Category.MEDICINE) == {str(medicine.pk)}
    assert ids(citizen=str(other.pk)) == {str(medicine.pk)}
    assert ids(type=MessageType.HOSPITAL_NOTIFICATION) == {str(admitted.message_id)}
    client.post(f"/api/v1/messages/{nursing.pk}/read/")
    assert ids(unread="true") == everything - {str(nursing.pk)}
    client.post(f"/api/v1/messages/{medicine.pk}/handled/", {"handled": True}, format="json")
    assert ids(unhandled="true") == everything - {str(medicine.pk)}
    assistant = world.users["assistant_a"]
    client.post(f"/api/v1/messages/{nursing.pk}/assign/", {"user": assistant.pk}, format="json")
    assert ids(mine="true") == set()
    assert {i["id"] for i in as_("assistant_a").get("/api/v1/messages/", {"mine": "true"}).json()["results"]} == {
        str(nursing.pk)
    }
    # the sent box filters too
    sent = as_("gp_a").get("/api/v1/messages/", {"box": "sent", "category": Category.MEDICINE}).json()
    assert [i["id"] for i in sent["results"]] == [str(medicine.pk)]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"box": "outbox"}, "box"),
        ({"category": "gossip"}, "category"),
        ({"citizen": "not-a-uuid"}, "citizen"),
        ({"type": MessageType.ACKNOWLEDGEMENT}, "type"),
    ],
)
def test_invalid_filters_answer_400(as_, message, params, field):
    response = as_("homecare_a").get("/api/v1/messages/", params)

    assert response.status_code == 400
    assert field in response.json()


def _count_queries(client, url, params=None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return response.json()["count"], len(ctx.captured_queries)


def test_list_endpoints_make_a_fixed_number_of_queries(world, as_, actor, send, admitted, deliver):
    others = [CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a) for _ in range(2)]
    people = [world.citizen, *others]

    minutes = iter(range(59, 0, -1))  # after the admission an hour ago, in order

    def add(n: int) -> None:
        for i in range(n):
            message = send(citizen=people[i % 3], topic=f"Besked {i}")
            deliver(lambda m=message: message_reply(actor=actor("homecare_a"), message=m, text="Tak"))
            Recipient.objects.filter(message=message).update(assigned_to=world.users["homecare_a"])
            for code in (HospitalCode.STOR, HospitalCode.SLOR):  # a leave: more rows for the department
                at = timezone.now() - datetime.timedelta(minutes=next(minutes))
                deliver(
                    lambda c=code, t=at: hospital_event_record(
                        actor=actor("hospital_nurse"), citizen=world.citizen, code=c, occurred_at=t
                    )
                )

    lists = [
        ("homecare_a", "/api/v1/messages/", None),
        ("gp_a", "/api/v1/messages/", None),
        ("gp_a", "/api/v1/messages/", {"box": "sent"}),
        ("gp_a", "/api/v1/deliveries/", None),
        ("hospital_nurse", "/api/v1/hospital-events/", None),
    ]
    add(2)
    small = {(who, url, str(p)): _count_queries(as_(who), url, p) for who, url, p in lists}
    add(6)
    large = {(who, url, str(p)): _count_queries(as_(who), url, p) for who, url, p in lists}

    for key in small:
        assert large[key][0] > small[key][0], key
        assert small[key][1] == large[key][1] <= 12, (key, small[key], large[key])


def test_pagination_has_a_count(as_, send):
    for i in range(3):
        send(topic=f"Besked {i}")

    body = as_("homecare_a").get("/api/v1/messages/", {"page_size": 2}).json()

    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


# --- one message and its thread ----------------------------------------------------------------


def test_a_receiver_reads_one_message(world, as_, message):
    body = as_("homecare_a").get(f"/api/v1/messages/{message.pk}/").json()

    assert body["id"] == str(message.pk) and body["text"] == "Borgeren har fået ny medicin."
    assert body["citizen"]["id"] == str(world.citizen.pk)
    assert body["sender"]["gln"] == world.clinic_a.gln
    assert body["activity"] == "new-message" and body["parent"] is None
    assert [r["organisation"]["id"] for r in body["receivers"]] == [world.municipality_a.pk]
    assert body["receipt"]["received_at"] and body["receipt"]["handled_at"] is None
    assert body["is_read"] is False and body["attachments"] == []
    entry = AccessLogEntry.objects.order_by("-pk").first()
    assert entry.action == AccessAction.API_READ and entry.citizen_id == world.citizen.pk


def test_a_message_received_as_a_bundle_shows_its_message_header_id_as_sent(world, as_, post):
    """Any FHIR id is a MessageHeader id (issue #14); the message id is a UUID derived from it."""
    assert ack_of(post(care(world, header_id="medcom-msg.2026-12-07.0001")))["code"] == "ok"
    message = Message.objects.get(header_id="medcom-msg.2026-12-07.0001")

    body = as_("homecare_a").get(f"/api/v1/messages/{message.pk}/").json()

    assert (body["id"], body["header_id"]) == (str(message.pk), "medcom-msg.2026-12-07.0001")


def test_the_sender_reads_it_without_a_receipt(as_, message):
    body = as_("gp_a").get(f"/api/v1/messages/{message.pk}/").json()

    assert body["receipt"] is None
    assert body["receivers"][0]["ack_code"] == "ok"


def test_the_thread_has_the_messages_in_order(world, as_, actor, message, deliver):
    reply = deliver(lambda: message_reply(actor=actor("homecare_a"), message=message, text="Tak, set."))

    for who in ("gp_a", "homecare_a"):
        body = as_(who).get(f"/api/v1/messages/{reply.pk}/thread/").json()
        assert body["id"] == str(message.thread_id)
        assert body["citizen"]["id"] == str(world.citizen.pk)
        assert [m["id"] for m in body["messages"]] == [str(message.pk), str(reply.pk)]
        assert body["messages"][1]["parent"] == str(message.pk)


def test_unknown_and_malformed_ids_are_404(as_, message):
    client = as_("homecare_a")

    assert client.get(f"/api/v1/messages/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/api/v1/messages/{uuid.uuid4()}/thread/").status_code == 404
    assert client.get("/api/v1/messages/not-a-uuid/").status_code == 404


# --- the outsider ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsider_gets_empty_lists_and_404_everywhere(world, as_, message, who):
    client = as_(who)

    for params in ({}, {"box": "sent"}, {"citizen": str(world.citizen.pk)}):
        assert client.get("/api/v1/messages/", params).json()["count"] == 0, params
    assert client.get(f"/api/v1/messages/{message.pk}/").status_code == 404
    assert client.get(f"/api/v1/messages/{message.pk}/thread/").status_code == 404
    writes = [
        ("reply", {"text": "Hej"}),
        ("forward", {"receiver": world.clinic_b.pk}),
        ("read", {}),
        ("unread", {}),
        ("handled", {"handled": True}),
        ("assign", {"user": None}),
    ]
    for name, body in writes:
        assert client.post(f"/api/v1/messages/{message.pk}/{name}/", body, format="json").status_code == 404, name
    assert client.get("/api/v1/deliveries/").json()["count"] == 0
    assert client.get(f"/api/v1/deliveries/{message.deliveries.first().pk}/").status_code == 404
    assert Message.objects.filter(parent=message).count() == 0
    assert not ReadMark.objects.exists()
    assert Recipient.objects.get(message=message).handled_at is None


def test_outsider_naming_the_citizen_is_told_it_does_not_exist(world, as_):
    client = as_("gp_b")
    hidden = client.post("/api/v1/messages/", send_payload(world, receiver=world.municipality_b.pk), format="json")
    missing = client.post(
        "/api/v1/messages/",
        send_payload(world, citizen=str(uuid.uuid4()), receiver=world.municipality_b.pk),
        format="json",
    )

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json() == {"citizen": ["No such citizen."]}
    assert not Message.objects.exists()


def test_the_acting_organisation_header_chooses_the_inbox(world, as_, message):
    gp = world.users["gp_a"]
    MembershipFactory(user=gp, organisation=world.municipality_a, role=MembershipRole.CARE_COORDINATOR)
    client = as_("gp_a")

    assert client.get("/api/v1/messages/").json()["count"] == 0  # the first membership: the clinic
    as_municipality = client.get("/api/v1/messages/", HTTP_X_ACTING_ORGANISATION=str(world.municipality_a.pk))
    assert as_municipality.json()["count"] == 1


def test_anonymous_is_refused(message):
    client = APIClient()

    for url in (
        "/api/v1/messages/",
        f"/api/v1/messages/{message.pk}/",
        "/api/v1/deliveries/",
        "/api/v1/hospital-events/",
    ):
        assert client.get(url).status_code == 403, url


# --- sending -----------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["id", "sor_code", "gln", "id_as_text"])
def test_send_to_a_receiver_named_by_id_sor_code_or_gln(world, as_, deliver, address):
    municipality = world.municipality_a
    receiver = {
        "id": municipality.pk,
        "sor_code": municipality.sor_code,
        "gln": municipality.gln,
        "id_as_text": str(municipality.pk),
    }[address]

    response = deliver(
        lambda: as_("gp_a").post("/api/v1/messages/", send_payload(world, receiver=receiver), format="json")
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["receivers"][0]["organisation"]["id"] == municipality.pk
    assert body["sender"]["id"] == world.clinic_a.pk and body["receipt"] is None
    message = Message.objects.get(pk=body["id"])
    assert message.author == world.users["gp_a"] and message.text == "Borgeren har fået ny medicin."
    assert as_("homecare_a").get("/api/v1/messages/").json()["count"] == 1


def test_send_with_copies_and_priority(world, as_, admitted, deliver):
    payload = send_payload(
        world,
        cc=[world.department.gln],
        category=Category.REGARDING_REFERRAL,
        priority=Priority.ASAP,
        topic="Henvisning",
    )

    response = deliver(lambda: as_("gp_a").post("/api/v1/messages/", payload, format="json"))

    assert response.status_code == 201, response.json()
    receivers = {(r["organisation"]["id"], r["role"]) for r in response.json()["receivers"]}
    assert receivers == {(world.municipality_a.pk, "primary"), (world.department.pk, "cc")}
    assert response.json()["priority"] == Priority.ASAP
    assert as_("hospital_nurse").get("/api/v1/messages/", {"type": MessageType.CARE_COMMUNICATION}).json()["count"] == 1


def test_send_with_attachments_as_multipart(world, as_, admitted, deliver):
    payload = send_payload(world, cc=[world.department.pk], attachments=[SimpleUploadedFile("epikrise.pdf", PDF)])

    response = deliver(lambda: as_("gp_a").post("/api/v1/messages/", payload, format="multipart"))

    assert response.status_code == 201, response.json()
    receivers = {(r["organisation"]["id"], r["role"]) for r in response.json()["receivers"]}
    assert receivers == {(world.municipality_a.pk, "primary"), (world.department.pk, "cc")}
    [attachment] = response.json()["attachments"]
    assert attachment["filename"] == "epikrise.pdf" and attachment["content_type"] == "application/pdf"
    message = as_("homecare_a").get(f"/api/v1/messages/{response.json()['id']}/").json()
    assert message["attachments"][0]["size"] == len(PDF)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"text": None}, "text"),
        ({"text": "   "}, "text"),
        ({"category": "gossip"}, "category"),
        ({"category": None}, "category"),
        ({"priority": Priority.ASAP}, "priority"),
        ({"priority": "urgent"}, "priority"),
        ({"category": Category.OTHER}, "topic"),
        ({"topic": "x" * 201}, "topic"),
        ("no relationship", "receiver"),
        ({"receiver": 999_999}, "receiver"),
        ({"receiver": "5790000000000"}, "receiver"),
        ({"receiver": True}, "receiver"),
        ({"receiver": None}, "receiver"),
        ("own organisation", "receiver"),
        ({"cc": [999_999]}, "cc"),
        ({"citizen": "not-a-uuid"}, "citizen"),
    ],
)
def test_send_refuses_bad_input_with_field_errors(world, as_, change, field):
    if change == "no relationship":
        change = {"receiver": world.municipality_b.pk}
    elif change == "own organisation":
        change = {"receiver": world.clinic_a.pk}

    response = as_("gp_a").post("/api/v1/messages/", send_payload(world, **change), format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Message.objects.exists()


def test_send_refuses_a_file_that_is_not_a_document(world, as_):
    payload = send_payload(world, attachments=[SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf")])

    response = as_("gp_a").post("/api/v1/messages/", payload, format="multipart")

    assert response.status_code == 400 and "attachments" in response.json()
    assert not Message.objects.exists()


def test_send_refuses_a_body_that_is_not_a_json_object(as_):
    client = as_("gp_a")

    garbage = client.post("/api/v1/messages/", "{not json", content_type="application/json")
    listed = client.post("/api/v1/messages/", ["a", "b"], format="json")

    assert garbage.status_code == 400 and "detail" in garbage.json()
    assert listed.status_code == 400 and "non_field_errors" in listed.json()
    assert not Message.objects.exists()


# --- answering and inbox state ----------------------------------------------------------------------


def test_reply_goes_to_the_sender_in_the_same_thread(world, as_, message, deliver):
    response = deliver(
        lambda: as_("homecare_a").post(f"/api/v1/messages/{message.pk}/reply/", {"text": "Tak"}, format="json")
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["activity"] == "reply-message" and body["parent"] == str(message.pk)
    assert body["thread"] == str(message.thread_id) and body["category"] == Category.NURSING
    assert [r["organisation"]["id"] for r in body["receivers"]] == [world.clinic_a.pk]
    assert as_("gp_a").get("/api/v1/messages/").json()["results"][0]["id"] == body["id"]


def test_reply_refusals(as_, message):
    assert as_("homecare_a").post(f"/api/v1/messages/{message.pk}/reply/", {}, format="json").json() == {
        "text": ["This field is required."]
    }
    blank = as_("homecare_a").post(f"/api/v1/messages/{message.pk}/reply/", {"text": " "}, format="json")
    assert blank.status_code == 400 and "text" in blank.json()
    own = as_("gp_a").post(f"/api/v1/messages/{message.pk}/reply/", {"text": "Hej"}, format="json")
    assert own.status_code == 400 and "non_field_errors" in own.json()
    assert Message.objects.filter(parent=message).count() == 0


def test_forward_to_another_organisation_with_a_relationship(world, as_, message, admitted, deliver):
    body = {"receiver": world.department.sor_code, "text": "Til orientering"}

    response = deliver(lambda: as_("homecare_a").post(f"/api/v1/messages/{message.pk}/forward/", body, format="json"))

    assert response.status_code == 201, response.json()
    forward = response.json()
    assert forward["activity"] == "forward-message" and forward["parent"] == str(message.pk)
    assert forward["text"].startswith("Til orientering") and "Borgeren har fået ny medicin." in forward["text"]
    # the department sees the forward in the thread, not the earlier exchange
    thread = as_("hospital_nurse").get(f"/api/v1/messages/{forward['id']}/thread/").json()
    assert [m["id"] for m in thread["messages"]] == [forward["id"]]


def test_forward_refusals(world, as_, message):
    client = as_("homecare_a")
    url = f"/api/v1/messages/{message.pk}/forward/"

    assert "receiver" in client.post(url, {}, format="json").json()
    unrelated = client.post(url, {"receiver": world.municipality_b.pk}, format="json")
    assert unrelated.status_code == 400 and "receiver" in unrelated.json()
    assert client.post(url, {"receiver": "x"}, format="json").status_code == 400
    assert Message.objects.filter(parent=message).count() == 0


def test_read_and_unread_are_the_users_own(as_, message):
    client = as_("homecare_a")

    read = client.post(f"/api/v1/messages/{message.pk}/read/")
    assert read.status_code == 200 and read.json()["is_read"] is True
    assert client.get("/api/v1/messages/").json()["results"][0]["is_read"] is True
    assert as_("assistant_a").get("/api/v1/messages/").json()["results"][0]["is_read"] is False
    unread = client.post(f"/api/v1/messages/{message.pk}/unread/")
    assert unread.status_code == 200 and unread.json()["is_read"] is False
    assert not ReadMark.objects.exists()


def test_handled_is_the_organisations_state(world, as_, message):
    client = as_("homecare_a")
    url = f"/api/v1/messages/{message.pk}/handled/"

    done = client.post(url, {"handled": True}, format="json")
    assert done.status_code == 200 and done.json()["receipt"]["handled_at"]
    assert as_("assistant_a").get("/api/v1/messages/", {"unhandled": "true"}).json()["count"] == 0
    reopened = client.post(url, {"handled": False}, format="json")
    assert reopened.status_code == 200 and reopened.json()["receipt"]["handled_at"] is None
    assert client.post(url, {}, format="json").json() == {"handled": ["This field is required."]}
    assert client.post(url, {"handled": "maybe"}, format="json").status_code == 400
    # the sender did not receive it
    assert as_("gp_a").post(url, {"handled": True}, format="json").status_code == 403


def test_assign_to_a_colleague(world, as_, message):
    client = as_("homecare_a")
    url = f"/api/v1/messages/{message.pk}/assign/"
    assistant = world.users["assistant_a"]

    assigned = client.post(url, {"user": assistant.pk}, format="json")
    assert assigned.status_code == 200
    assert assigned.json()["receipt"]["assigned_to"] == {"id": assistant.pk, "name": str(assistant)}
    assert Recipient.objects.get(message=message).assigned_to == assistant
    unassigned = client.post(url, {"user": None}, format="json")
    assert unassigned.status_code == 200 and unassigned.json()["receipt"]["assigned_to"] is None
    stranger = client.post(url, {"user": world.users["gp_a"].pk}, format="json")
    assert stranger.status_code == 400 and list(stranger.json()) == ["user"]
    assert "user" in client.post(url, {"user": 999_999}, format="json").json()
    assert "user" in client.post(url, {}, format="json").json()
    assert as_("gp_a").post(url, {"user": None}, format="json").status_code == 403
    assert Recipient.objects.get(message=message).assigned_to is None


# --- hospital events ----------------------------------------------------------------------------


def test_a_department_records_an_admission(world, as_, deliver):
    payload = {"cpr": world.citizen.cpr_formatted, "code": HospitalCode.STIN, "occurred_at": ago()}

    response = deliver(lambda: as_("hospital_nurse").post("/api/v1/hospital-events/", payload, format="json"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"] == "STIN" and body["code_label"] == "STIN" and body["revision"] == Revision.NEW
    assert body["citizen"]["id"] == str(world.citizen.pk) and body["department"]["id"] == world.department.pk
    assert HospitalStay.objects.get(citizen=world.citizen).discharged_at is None
    [notification] = as_("homecare_a").get("/api/v1/messages/").json()["results"]
    assert notification["id"] == body["message"]
    listed = as_("hospital_nurse").get("/api/v1/hospital-events/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


def test_correct_and_cancel_the_latest_event(world, as_, admitted, deliver):
    client = as_("hospital_nurse")

    corrected = deliver(
        lambda: client.post(f"/api/v1/hospital-events/{admitted.pk}/correct/", {"occurred_at": ago(90)}, format="json")
    )
    assert corrected.status_code == 201, corrected.json()
    assert corrected.json()["code_label"] == "RE_STIN" and corrected.json()["revises"] == admitted.pk
    again = client.post(f"/api/v1/hospital-events/{admitted.pk}/correct/", {"occurred_at": ago(80)}, format="json")
    assert again.status_code == 400 and "non_field_errors" in again.json()

    cancelled = deliver(lambda: client.post(f"/api/v1/hospital-events/{corrected.json()['id']}/cancel/"))
    assert cancelled.status_code == 201, cancelled.json()
    assert cancelled.json()["code_label"] == "AN_STIN" and cancelled.json()["superseded"] is True
    assert not HospitalStay.objects.filter(citizen=world.citizen).exists()
    labels = [i["hospital_code_label"] for i in as_("homecare_a").get("/api/v1/messages/").json()["results"]]
    assert labels == ["AN_STIN", "RE_STIN", "STIN"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"cpr": "0101010000"}, "cpr"),
        ({"cpr": None}, "cpr"),
        ({"code": "XXXX"}, "code"),
        ({"code": HospitalCode.SLHJ}, "code"),  # no current stay to end
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "future"}, "occurred_at"),
    ],
)
def test_hospital_event_bad_input_is_400(world, as_, change, field):
    payload = {"cpr": world.citizen.cpr, "code": HospitalCode.STIN, "occurred_at": ago()}
    if change.get("occurred_at") == "future":
        change = {"occurred_at": (timezone.now() + datetime.timedelta(hours=2)).isoformat()}
    payload.update(change)

    response = as_("hospital_nurse").post(
        "/api/v1/hospital-events/", {k: v for k, v in payload.items() if v is not None}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not HospitalEvent.objects.exists()


def test_hospital_event_correction_needs_a_time(as_, admitted):
    response = as_("hospital_nurse").post(f"/api/v1/hospital-events/{admitted.pk}/correct/", {}, format="json")

    assert response.status_code == 400 and "occurred_at" in response.json()


@pytest.mark.parametrize("who", ["gp_a", "homecare_a", "unit_physician"])
def test_only_a_hospital_department_uses_hospital_events(world, as_, admitted, who):
    client = as_(who)
    payload = {"cpr": world.citizen.cpr, "code": HospitalCode.STOR, "occurred_at": ago(5)}

    assert client.get("/api/v1/hospital-events/").status_code == 403
    assert client.post("/api/v1/hospital-events/", payload, format="json").status_code == 403
    unknown = {"cpr": "0101010000", "code": HospitalCode.STIN, "occurred_at": ago()}
    assert client.post("/api/v1/hospital-events/", unknown, format="json").status_code == 403
    assert client.post(f"/api/v1/hospital-events/{admitted.pk}/cancel/").status_code == 403
    correct = client.post(f"/api/v1/hospital-events/{admitted.pk}/correct/", {"occurred_at": ago()}, format="json")
    assert correct.status_code == 403
    assert HospitalEvent.objects.count() == 1


def test_another_department_sees_none_of_the_events(as_, admitted):
    client = as_("other_hospital")

    assert client.get("/api/v1/hospital-events/").json()["count"] == 0
    assert client.post(f"/api/v1/hospital-events/{admitted.pk}/cancel/").status_code == 404
    correct = client.post(f"/api/v1/hospital-events/{admitted.pk}/correct/", {"occurred_at": ago()}, format="json")
    assert correct.status_code == 404
    assert client.post("/api/v1/hospital-events/999999999999999999999/cancel/").status_code == 404
    assert HospitalEvent.objects.count() == 1


# --- deliveries ---------------------------------------------------------------------------------


def test_deliveries_show_their_attempts(world, as_, message):
    body = as_("gp_a").get("/api/v1/deliveries/").json()

    in_app = [d for d in body["results"] if d["message"] == str(message.pk) and d["channel"] == Channel.IN_APP]
    assert len(in_app) == 1
    delivery = in_app[0]
    assert delivery["status"] == DeliveryStatus.DELIVERED and delivery["receiver"]["id"] == world.municipality_a.pk
    assert delivery["attempts"] == 1 and delivery["attempt_log"][0]["outcome"] == AttemptOutcome.OK
    detail = as_("gp_a").get(f"/api/v1/deliveries/{delivery['id']}/").json()
    assert detail == delivery
    # the receiver sees the delivery to it as well
    assert any(d["id"] == delivery["id"] for d in as_("homecare_a").get("/api/v1/deliveries/").json()["results"])


def test_deliveries_filter_by_status(as_, message):
    delivery = Delivery.objects.filter(message=message, channel=Channel.IN_APP).get()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error="HTTP 410")
    DeliveryAttempt.objects.create(delivery=delivery, outcome=AttemptOutcome.PERMANENT, error="HTTP 410")
    client = as_("gp_a")

    failed = client.get("/api/v1/deliveries/", {"status": "failed"}).json()

    assert [d["id"] for d in failed["results"]] == [delivery.pk]
    assert failed["results"][0]["last_error"] == "HTTP 410"
    assert [a["outcome"] for a in failed["results"][0]["attempt_log"]] == [AttemptOutcome.OK, AttemptOutcome.PERMANENT]
    assert client.get("/api/v1/deliveries/", {"status": "lost"}).status_code == 400


def test_deliveries_are_read_only(as_, message):
    client = as_("gp_a")
    delivery = message.deliveries.first()

    assert client.post("/api/v1/deliveries/", {}, format="json").status_code == 405
    assert client.patch(f"/api/v1/deliveries/{delivery.pk}/", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/deliveries/{delivery.pk}/").status_code == 405
    assert client.get("/api/v1/deliveries/999999/").status_code == 404


# --- the schema ------------------------------------------------------------------------------------


def test_the_schema_documents_every_endpoint(client):
    schema = client.get("/api/schema/").content.decode()

    paths = [
        "/api/v1/messages/",
        "/api/v1/messages/{id}/",
        "/api/v1/messages/{id}/thread/",
        "/api/v1/messages/{id}/reply/",
        "/api/v1/messages/{id}/forward/",
        "/api/v1/messages/{id}/read/",
        "/api/v1/messages/{id}/unread/",
        "/api/v1/messages/{id}/handled/",
        "/api/v1/messages/{id}/assign/",
        "/api/v1/hospital-events/",
        "/api/v1/hospital-events/{id}/correct/",
        "/api/v1/hospital-events/{id}/cancel/",
        "/api/v1/deliveries/",
        "/api/v1/deliveries/{id}/",
    ]
    for path in paths:
        assert f"{path}:" in schema, path
    assert "multipart/form-data" in schema


def test_the_schema_generates_without_warnings(tmp_path):
    GENERATOR_STATS.reset()  # only this generation's warnings count
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
