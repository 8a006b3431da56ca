"""MessageHeader and Bundle ids are FHIR ids, not only UUIDs (issue #14): MedCom asks a globally
unique MessageHeader id, FHIR's rule is ``[A-Za-z0-9\\-\\.]{1,64}``, ids are compared as strings,
and a duplicate is the same MessageHeader id again, whatever its form. The portal gives every id
back exactly as the sender wrote it (acknowledgements, exports, Provenance references)."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from citizens.models import HospitalStay
from messaging.choices import HospitalCode, MessageType, Revision
from messaging.ids import message_key
from messaging.models import FhirReceipt, HospitalEvent, Message, Recipient
from messaging.services import message_reply

from . import fixtures_fhir as fx
from .fhir_post import NEW_CPR, ack_of, care, counts, notification

HEADER_ID = "medcom-msg.2026-12-07.0001"
BUNDLE_ID = "medcom-bundle.2026-12-07.0001"
FORMATS = ["json", "xml"]


def _export(client, world, user: str, message: Message, fmt: str) -> dict:
    """``GET /fhir/Bundle/<id>`` as ``user`` sees it, as FHIR JSON."""
    client.force_login(world.users[user])
    response = client.get(reverse("fhir:bundle", args=[message.pk]), {"_format": fmt})
    client.logout()
    assert response.status_code == 200, response.content
    bundle = (
        Bundle.model_validate_xml(response.content) if fmt == "xml" else Bundle.model_validate_json(response.content)
    )
    return json.loads(bundle.model_dump_json())


def _shown(client, world, user: str, message: Message) -> int:
    """How often the message's conversation is listed in ``user``'s inbox."""
    client.force_login(world.users[user])
    inbox = client.get("/messages/").content.decode()
    client.logout()
    return inbox.count(reverse("messaging:thread", args=[message.thread_id]))


def _entity_ids(bundle: dict, header_id: str) -> list[str]:
    """The MessageHeader references of the Provenance of the message ``header_id``."""
    provenance = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Provenance"
        and e["resource"]["target"][0]["reference"].endswith(f"MessageHeader/{header_id}")
    )
    return [
        entity["what"]["reference"].rsplit("/", 1)[-1]
        for entity in provenance.get("entity", [])
        if "reference" in entity["what"]
    ]


# --- the key derived from the header id ---------------------------------------------------------


def test_message_key_is_the_uuid_itself_or_a_name_based_uuid_of_the_string():
    portal = uuid.uuid4()
    assert message_key(str(portal)) == portal
    assert message_key(HEADER_ID) == message_key(HEADER_ID) != message_key(HEADER_ID.upper())
    # another spelling of a UUID is another id: compared as strings
    assert message_key(str(portal).upper()) != portal
    assert message_key(portal.hex) != portal


# --- CareCommunication --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_care_communication_with_non_uuid_ids_is_accepted_shown_once_and_exported_alike(world, post, client, fmt):
    bundle = care(world, header_id=HEADER_ID, bundle_id=BUNDLE_ID, text="Ny medicin fra i dag.")
    ack = ack_of(post(bundle, fmt=fmt))
    assert ack["code"] == "ok", ack
    assert ack["acknowledged"] == HEADER_ID  # the acknowledgement names the id as it was sent
    message = Message.objects.get(header_id=HEADER_ID)
    assert message.pk == message_key(HEADER_ID) and message.bundle_id == BUNDLE_ID
    assert message.text == "Ny medicin fra i dag."
    assert FhirReceipt.objects.get(bundle_id=BUNDLE_ID).header_id == HEADER_ID
    assert _shown(client, world, "homecare_a", message) == 1
    for user in ("homecare_a", "gp_a"):  # the receiver's and the sender's export
        exported = _export(client, world, user, message, fmt)
        assert fx.header_of(exported)["id"] == HEADER_ID and exported["id"] == BUNDLE_ID
        assert _entity_ids(exported, HEADER_ID) == []


def test_an_upper_case_uuid_is_kept_as_written(world, post, client):
    header_id = str(uuid.uuid4()).upper()
    ack = ack_of(post(care(world, header_id=header_id)))
    assert ack["code"] == "ok" and ack["acknowledged"] == header_id
    message = Message.objects.get(header_id=header_id)
    assert fx.header_of(_export(client, world, "homecare_a", message, "json"))["id"] == header_id


def test_ids_are_compared_as_strings(world, post):
    assert ack_of(post(care(world, header_id=HEADER_ID)))["code"] == "ok"
    assert ack_of(post(care(world, header_id=HEADER_ID.upper())))["code"] == "ok"
    assert Message.objects.filter(header_id__in=[HEADER_ID, HEADER_ID.upper()]).count() == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_resend_with_the_same_header_id_and_a_new_bundle_id_is_a_duplicate(world, post, client, fmt):
    bundle = care(world, header_id=HEADER_ID, bundle_id=BUNDLE_ID)
    first = ack_of(post(bundle, fmt=fmt))
    assert first["code"] == "ok", first
    before = counts()
    bundle["id"] = "medcom-bundle.2026-12-07.0002"
    second = ack_of(post(bundle, fmt=fmt))
    assert second["bundle"] == first["bundle"]
    assert counts() == before
    message = Message.objects.get(header_id=HEADER_ID)
    assert Recipient.objects.get(message=message).duplicates == 1
    assert FhirReceipt.objects.filter(header_id=HEADER_ID).count() == 2
    assert _shown(client, world, "homecare_a", message) == 1


def test_a_non_uuid_bundle_id_reused_for_another_message_is_refused(world, post):
    assert ack_of(post(care(world, header_id=HEADER_ID, bundle_id=BUNDLE_ID)))["code"] == "ok"
    before = counts()
    ack = ack_of(post(care(world, header_id="medcom-msg.2026-12-07.0002", bundle_id=BUNDLE_ID)))
    assert ack["code"] == "fatal-error" and ack["issues"] == ["MSG_DUPLICATE_ID"]
    assert counts() == before


def test_the_same_non_uuid_header_id_from_another_sender_is_refused(world, post):
    assert ack_of(post(care(world, header_id=HEADER_ID)))["code"] == "ok"
    before = counts()
    ack = ack_of(post(care(world, sender=world.clinic_b, header_id=HEADER_ID), as_user="gp_b"))
    assert ack["code"] == "fatal-error" and ack["issues"] == ["MSG_DUPLICATE_ID"]
    assert counts() == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_reply_pointing_at_a_non_uuid_header_id_joins_the_thread(world, post, client, fmt):
    assert ack_of(post(care(world, header_id=HEADER_ID), fmt=fmt))["code"] == "ok"
    original = Message.objects.get(header_id=HEADER_ID)
    reply_id = "kommune.svar.42"
    reply = care(
        world, sender=world.municipality_a, receiver=world.clinic_a, activity="reply-message", earlier=HEADER_ID,
        header_id=reply_id, text="Tak, modtaget.",
    )  # fmt: skip
    assert ack_of(post(reply, as_user="homecare_a", fmt=fmt))["code"] == "ok"
    answer = Message.objects.get(header_id=reply_id)
    assert answer.parent == original and answer.thread_id == original.thread_id
    exported = _export(client, world, "gp_a", answer, fmt)
    assert fx.header_of(exported)["id"] == reply_id
    assert _entity_ids(exported, reply_id) == [HEADER_ID]


def test_a_portal_reply_to_a_non_uuid_message_names_it_as_its_sender_did(
    world, post, client, actor, django_capture_on_commit_callbacks
):
    assert ack_of(post(care(world, header_id=HEADER_ID)))["code"] == "ok"
    original = Message.objects.get(header_id=HEADER_ID)
    home = actor("homecare_a")
    with django_capture_on_commit_callbacks(execute=True):
        answer = message_reply(actor=home, message=original, text="Vi kigger forbi i morgen.")
    assert answer.header_id == str(answer.pk)  # the portal's own MessageHeader id is its UUID
    exported = _export(client, world, "homecare_a", answer, "json")
    assert fx.header_of(exported)["id"] == str(answer.pk)
    assert _entity_ids(exported, str(answer.pk)) == [HEADER_ID]
    assert _entity_ids(exported, HEADER_ID) == []  # the earlier message is in the history, as sent


# --- ids that break FHIR's rule -----------------------------------------------------------------

BAD_IDS = ["m" * 65, "medcom_msg.1", "medcom/msg/1", "besked-æ"]


def _body(bundle: dict, fmt: str, bad: dict[str, str]) -> bytes:
    """The bundle with ``bad`` ids (stand-in -> id as sent); the library writes no broken ids, so
    XML gets them by text replacement."""
    if fmt == "json":
        text = json.dumps(bundle)
        for stand_in, value in bad.items():
            text = text.replace(f'"id": "{stand_in}"', f'"id": "{value}"')
        return text.encode()
    body = fx.as_xml(bundle)
    for stand_in, value in bad.items():
        assert body.count(f'<id value="{stand_in}"/>'.encode()) == 1
        body = body.replace(f'<id value="{stand_in}"/>'.encode(), f'<id value="{value}"/>'.encode())
    return body


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("which", ["MessageHeader", "Bundle"])
@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_an_id_breaking_fhirs_rule_is_refused_and_nothing_is_kept(world, post, fmt, which, bad_id):
    bundle = care(world, header_id="stand-in.header", bundle_id="stand-in.bundle")
    stand_in = "stand-in.header" if which == "MessageHeader" else "stand-in.bundle"
    before = counts()
    ack = ack_of(post(bundle, fmt=fmt, raw=_body(bundle, fmt, {stand_in: bad_id})))
    assert ack["code"] == "fatal-error", ack
    assert ack["issues"] == ["MSG_ID_INVALID"]
    assert which in ack["texts"][0] and "64" in ack["texts"][0]
    assert counts() == before
    assert not FhirReceipt.objects.exists()


def test_a_refused_id_is_refused_again_and_only_the_two_ids_are_set_aside(world, post):
    """A broken MessageHeader id is answered (fatal-error) every time it is sent; a broken id of
    any other resource still makes a body that is no FHIR (400), as before: only the two ids a
    sender is owed an acknowledgement about are set aside while the bundle is read."""
    bundle = care(world, header_id="stand-in.header")
    body = _body(bundle, "json", {"stand-in.header": "medcom_msg.1"})
    assert ack_of(post(bundle, raw=body))["issues"] == ["MSG_ID_INVALID"]
    assert ack_of(post(bundle, raw=body))["issues"] == ["MSG_ID_INVALID"]
    assert not Message.objects.filter(type=MessageType.CARE_COMMUNICATION).exists()
    fx.resource_of(bundle, "Patient")["id"] = "patient_1"
    response = post(bundle, raw=_body(bundle, "json", {"stand-in.header": "medcom_msg.1"}))
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


# --- HospitalNotification -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_hospital_notifications_with_non_uuid_ids_refer_back_through_provenance(world, post, client, fmt):
    admitted = timezone.now() - datetime.timedelta(hours=5)
    first = notification(world, start=admitted, header_id="hosp.stin.1", bundle_id="hosp.bundle.1")
    ack = ack_of(post(first, as_user="hospital_nurse", fmt=fmt))
    assert ack["code"] == "ok" and ack["acknowledged"] == "hosp.stin.1"
    assert HospitalEvent.objects.get(message__header_id="hosp.stin.1").code == HospitalCode.STIN
    corrected_at = admitted + datetime.timedelta(hours=1)
    correction = notification(
        world, start=corrected_at, activity="revise-admit-inpatient", earlier="hosp.stin.1",
        header_id="hosp.re-stin.1", bundle_id="hosp.bundle.2",
    )  # fmt: skip
    assert ack_of(post(correction, as_user="hospital_nurse", fmt=fmt))["code"] == "ok"
    revised = Message.objects.get(header_id="hosp.re-stin.1")
    assert revised.revision == Revision.CORRECTION and revised.revises.header_id == "hosp.stin.1"
    assert HospitalStay.objects.get(citizen__cpr=NEW_CPR).admitted_at == corrected_at.replace(microsecond=0)
    exported = _export(client, world, "homecare_a", revised, fmt)
    assert fx.header_of(exported)["id"] == "hosp.re-stin.1" and exported["id"] == "hosp.bundle.2"
    assert _entity_ids(exported, "hosp.re-stin.1") == ["hosp.stin.1"]
    cancellation = notification(
        world, start=corrected_at, status="entered-in-error", activity="cancel-admit-inpatient",
        earlier="hosp.re-stin.1", header_id="hosp.an-stin.1",
    )  # fmt: skip
    assert ack_of(post(cancellation, as_user="hospital_nurse", fmt=fmt))["code"] == "ok"
    assert Message.objects.get(header_id="hosp.an-stin.1").revision == Revision.CANCELLATION
    assert not HospitalStay.objects.filter(citizen__cpr=NEW_CPR).exists()


def test_a_hospital_notification_resent_with_a_non_uuid_id_is_a_duplicate(world, post):
    bundle = notification(world, header_id="hosp.stin.2")
    first = ack_of(post(bundle, as_user="hospital_nurse"))
    assert first["code"] == "ok"
    before = counts()
    bundle["id"] = "hosp.bundle.resend"
    assert ack_of(post(bundle, as_user="hospital_nurse"))["bundle"] == first["bundle"]
    assert counts() == before
    assert HospitalEvent.objects.filter(message__header_id="hosp.stin.2").count() == 1
