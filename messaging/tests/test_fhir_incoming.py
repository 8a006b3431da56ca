"""``POST /fhir/$process-message``: MedCom bundles from an organisation's own system."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from citizens.access import access_reason
from citizens.choices import AccessReason, ReviewKind
from citizens.models import AccessReviewItem, Citizen, HospitalStay
from messaging.choices import AckCode, Category, HospitalCode, MessageType, Priority, Revision
from messaging.fhir import codes
from messaging.fhir.acknowledgement import acknowledgement_bundle
from messaging.models import FhirReceipt, HospitalEvent, Message, Recipient
from sectors.choices import OrganisationSource
from sectors.models import Organisation
from sectors.tests.factories import ExternalOrganisationFactory

from . import fixtures_fhir as fx
from .fhir_post import FHIR_JSON, FHIR_XML, NEW_CPR, URL, ack_of, care, counts, notification
from .helpers import PDF, admit, send

# --- CareCommunication --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_care_communication_lands_once_in_the_receivers_inbox(world, post, fmt):
    bundle = care(world, category="other", topic="Hjælpemidler", text="Rollator leveres i morgen.")
    response = post(bundle, fmt=fmt)
    ack = ack_of(response)
    assert response["Content-Type"].startswith(FHIR_XML if fmt == "xml" else FHIR_JSON)
    assert ack["code"] == "ok" and ack["issues"] == []
    header_id = fx.header_of(bundle)["id"]
    assert ack["acknowledged"] == header_id
    message = Message.objects.get(pk=header_id)
    assert message.type == MessageType.CARE_COMMUNICATION
    assert (message.citizen, message.sender) == (world.citizen, world.clinic_a)
    assert (message.category, message.topic, message.text) == (
        Category.OTHER,
        "Hjælpemidler",
        "Rollator leveres i morgen.",
    )
    assert message.author_name == "Mette Hansen" and message.author_phone == "12345678"
    assert str(message.bundle_id) == bundle["id"]  # the transmission it arrived in
    receiver = Recipient.objects.get(message=message)
    assert receiver.organisation == world.municipality_a and receiver.received_at is not None
    # the acknowledgement answered is the one the portal keeps, and it settled the receiver's row
    stored = Message.objects.get(type=MessageType.ACKNOWLEDGEMENT, acknowledges=message)
    assert fx.header_of(ack["bundle"])["id"] == str(stored.pk)
    assert receiver.acknowledged_at is not None and receiver.ack_code == AckCode.OK
    # the answer is a valid MedCom acknowledgement: sender is the receiving organisation
    ack_sender = next(e["resource"] for e in ack["bundle"]["entry"] if e["resource"]["resourceType"] == "Organization")
    assert {"system": codes.SOR, "value": world.municipality_a.sor_code} in ack_sender["identifier"]


def test_the_receiver_sees_it_in_the_inbox_and_an_outsider_does_not(world, post, client):
    bundle = care(world)
    ack_of(post(bundle))
    message = Message.objects.get(pk=fx.header_of(bundle)["id"])
    client.force_login(world.users["homecare_a"])
    assert client.get(reverse("messaging:thread", args=[message.thread_id])).status_code == 200
    client.force_login(world.users["homecare_b"])
    assert client.get(reverse("messaging:thread", args=[message.thread_id])).status_code == 404


def test_a_care_communication_with_a_copy_and_an_attachment(world, post):
    bundle = care(world, cc=[], attachments=[("Epikrise", "application/pdf", PDF)])
    ack = ack_of(post(bundle))
    assert ack["code"] == "ok"
    message = Message.objects.get(pk=fx.header_of(bundle)["id"])
    attachment = message.attachments.get()
    assert attachment.content_type == "application/pdf" and attachment.filename.startswith("Epikrise")


def test_a_reply_joins_the_thread_of_the_message_it_answers(world, actor, post, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        original = send(world, actor, sender="homecare_a", receiver=world.clinic_a)
    bundle = care(world, activity="reply-message", earlier=str(original.pk), text="Tak, modtaget.")
    assert ack_of(post(bundle))["code"] == "ok"
    reply = Message.objects.get(pk=fx.header_of(bundle)["id"])
    assert reply.parent == original and reply.thread_id == original.thread_id


def test_asap_regarding_a_referral_is_accepted(world, post):
    bundle = care(world, category="regarding-referral", priority="asap")
    assert ack_of(post(bundle))["code"] == "ok"
    assert Message.objects.get(pk=fx.header_of(bundle)["id"]).priority == Priority.ASAP


# --- negative cases: each its own acknowledgement, nothing created -------------------------------


def _rejected(post, bundle, msg_code, **kwargs):
    before = counts()
    ack = ack_of(post(bundle, **kwargs))
    assert ack["code"] == "fatal-error", ack
    assert msg_code in ack["issues"], ack["issues"]
    assert all(ack["texts"])
    assert counts() == before
    assert not Message.objects.filter(pk=fx.header_of(bundle)["id"]).exists()
    return ack


def test_unknown_receiver(world, post):
    stranger = fx.organization(sor="999999999999999", gln="5790000000005", name="Ukendt")
    ack = _rejected(post, care(world, receiver=stranger), "MSG_Receiver_Identifier_UNKNOWN")
    assert "999999999999999" in ack["texts"][0]


def test_receiver_without_gln(world, post):
    receiver = fx.organization(world.municipality_a, gln="")
    _rejected(post, care(world, receiver=receiver), "MSG_Receiver_Identifier_MISSING")


def test_bad_cpr(world, post):
    ack = _rejected(post, care(world, cpr="3213991234"), "MSG_BAD_FORMAT")
    assert "CPR" in ack["texts"][0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_citizen_is_registered_from_the_patient(world, post, actor, fmt):
    """The receiver cares for a person the portal does not know yet: the person is registered as
    the Patient names them, marked as registered from a message, in the receiver's municipality."""
    assert ack_of(post(care(world, cpr=NEW_CPR), fmt=fmt))["code"] == "ok"
    citizen = Citizen.objects.get(cpr=NEW_CPR)
    assert citizen.registered_from_message and citizen.municipality == world.municipality_a
    assert (citizen.first_name, citizen.last_name) == ("Karen", "Jensen")
    assert citizen.messages.filter(type=MessageType.CARE_COMMUNICATION).count() == 1
    assert access_reason(actor("homecare_a"), citizen) is not None


def test_missing_provenance(world, post):
    _rejected(post, fx.without(care(world), "Provenance"), "MSG_RESOURCE_REQUIRED")


def test_unknown_activity(world, post):
    _rejected(post, care(world, activity="dance-message"), "MSG_CodeSystem_VALUE_UNKNOWN")


def test_other_without_topic(world, post):
    ack = _rejected(post, care(world, category="other"), "MSG_RESOURCE_REQUIRED")
    assert "topic" in ack["texts"][0]


def test_asap_without_regarding_referral(world, post):
    ack = _rejected(post, care(world, category="nursing", priority="asap"), "MSG_PARAM_INVALID")
    assert "asap" in ack["texts"][0]


def test_unknown_category(world, post):
    _rejected(post, care(world, category="gossip"), "MSG_VALUESET_VALUE_UNKNOWN")


def test_two_primary_destinations(world, post):
    bundle = care(world)
    header = fx.header_of(bundle)
    header["destination"].append(dict(header["destination"][0]))
    _rejected(post, bundle, "MSG_Receiver_Identifier_MISSING")


def test_message_header_not_first(world, post):
    bundle = care(world)
    bundle["entry"].append(bundle["entry"].pop(0))
    _rejected(post, bundle, "MSG_RESOURCE_TYPE_MISMATCH")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_receiving_is_the_receivers_business(world, post, actor, fmt):
    """A message from a sender with no relationship with the citizen (clinic B, not the citizen's
    own), to a portal organisation with none either (municipality B), is accepted: the receiver
    gains a relationship with the citizen by it, shown as the reason for its access."""
    assert access_reason(actor("homecare_b"), world.citizen) is None
    bundle = care(world, sender=world.clinic_b, receiver=world.municipality_b)
    assert ack_of(post(bundle, as_user="gp_b", fmt=fmt))["code"] == "ok"
    message = Message.objects.get(pk=fx.header_of(bundle)["id"])
    assert list(message.recipients.values_list("organisation", flat=True)) == [world.municipality_b.pk]
    assert access_reason(actor("homecare_b"), world.citizen)[0] == AccessReason.RECEIVED_MESSAGE
    # the sender learns nothing about the citizen by writing
    assert access_reason(actor("gp_b"), world.citizen) is None
    # the new relationship is on the access review list of the receiver's administrators
    item = AccessReviewItem.objects.get()
    assert (item.kind, item.organisation, item.citizen) == (
        ReviewKind.RECEIVED_MESSAGE,
        world.municipality_b,
        world.citizen,
    )
    assert world.clinic_b.name in item.reason


def test_a_receiver_that_already_cares_for_the_citizen_is_not_reviewed(world, post):
    assert ack_of(post(care(world)))["code"] == "ok"
    assert not AccessReviewItem.objects.exists()


def test_an_external_directory_entry_receives_nothing(world, post):
    external = ExternalOrganisationFactory()
    _rejected(post, care(world, receiver=external), "MSG_Receiver_Identifier_UNKNOWN")


def test_sender_not_the_tokens_organisation(world, post):
    """gp_b's token cannot send as clinic A; nothing is kept for the id (nobody can block it)."""
    bundle = care(world)
    _rejected(post, bundle, "MSG_RESOURCE_NOT_ALLOWED", as_user="gp_b")
    assert not FhirReceipt.objects.exists()
    assert ack_of(post(bundle))["code"] == "ok"  # the real sender, afterwards


def test_bundle_id_reused_with_a_new_message_header_id(world, post):
    first = care(world)
    assert ack_of(post(first))["code"] == "ok"
    second = care(world, bundle_id=first["id"])
    _rejected(post, second, "MSG_DUPLICATE_ID")


def test_rejections_are_answered_the_same_when_sent_again(world, post):
    bundle = care(world, category="gossip")
    first = _rejected(post, bundle, "MSG_VALUESET_VALUE_UNKNOWN")
    bundle["id"] = str(uuid.uuid4())
    assert ack_of(post(bundle))["bundle"] == first["bundle"]


# --- bodies that are no message bundle: OperationOutcome -----------------------------------------


def _outcome(response, status=400):
    assert response.status_code == status, response.content
    data = response.json()
    assert data["resourceType"] == "OperationOutcome"
    return data["issue"][0]


def test_broken_json(world, post):
    before = counts()
    issue = _outcome(post(None, raw=b'{"resourceType": "Bundle", '))
    assert issue["details"]["coding"][0]["code"] == "MSG_BAD_SYNTAX"
    assert counts() == before


def test_broken_xml(world, post):
    response = post(None, raw=b'<Bundle xmlns="http://hl7.org/fhir"><type value="message"', fmt="xml")
    assert response.status_code == 400
    assert response["Content-Type"].startswith(FHIR_XML)
    assert b"MSG_BAD_SYNTAX" in response.content


def test_xml_entities_are_not_expanded(world, post):
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<Bundle xmlns="http://hl7.org/fhir"><id value="&e;"/><type value="message"/></Bundle>'
    )
    response = post(None, raw=body, fmt="xml")
    assert response.status_code == 400
    assert b"root:" not in response.content


def test_not_a_message_bundle(world, post):
    bundle = care(world)
    bundle["type"] = "collection"
    issue = _outcome(post(bundle))
    assert "message" in issue["details"]["text"]


def test_another_resource(world, post):
    issue = _outcome(post({"resourceType": "Patient", "id": "x"}))
    assert issue["details"]["coding"][0]["code"] == "MSG_BAD_SYNTAX"


def test_no_message_header(world, post):
    bundle = fx.without(care(world), "MessageHeader")
    issue = _outcome(post(bundle))
    assert issue["details"]["coding"][0]["code"] == "MSG_RESOURCE_REQUIRED"


def test_no_token_is_401(world, post, client):
    response = post(care(world), auth=False)
    assert _outcome(response, 401)["code"] == "login"
    assert not Message.objects.filter(type=MessageType.CARE_COMMUNICATION).exists()


def test_a_browser_session_is_not_enough(world, client):
    client.force_login(world.users["gp_a"])
    response = client.post(URL, data=json.dumps(care(world)), content_type=FHIR_JSON)
    assert response.status_code == 401
    assert not Message.objects.filter(type=MessageType.CARE_COMMUNICATION).exists()


def test_a_wrong_token_is_401(world, client):
    response = client.post(URL, data=json.dumps(care(world)), content_type=FHIR_JSON, HTTP_AUTHORIZATION="Token no")
    assert response.status_code == 401


def test_another_content_type_is_415(world, client, token):
    response = client.post(URL, data="x", content_type="text/plain", HTTP_AUTHORIZATION=f"Token {token('gp_a')}")
    assert response.status_code == 415


def test_get_is_not_allowed(world, client):
    assert client.get(URL).status_code == 405


# --- duplicates ---------------------------------------------------------------------------------


def test_a_resend_with_a_new_bundle_id_gets_the_same_acknowledgement(world, post, client):
    bundle = care(world)
    first = ack_of(post(bundle))
    before = counts()
    bundle["id"] = str(uuid.uuid4())
    second = ack_of(post(bundle))
    assert second["bundle"] == first["bundle"]
    assert counts() == before
    recipient = Recipient.objects.get(message_id=fx.header_of(bundle)["id"])
    assert recipient.duplicates == 1
    # the very same bundle again: the same answer too
    assert ack_of(post(bundle))["bundle"] == first["bundle"]
    client.force_login(world.users["homecare_a"])
    inbox = client.get("/messages/").content.decode()
    assert (
        inbox.count(reverse("messaging:thread", args=[Message.objects.get(pk=fx.header_of(bundle)["id"]).thread_id]))
        == 1
    )


def test_the_id_of_a_message_created_in_the_portal_is_a_duplicate(
    world, actor, post, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, actor)
    before = counts()
    ack = ack_of(post(care(world, header_id=str(message.pk))))
    assert ack["code"] == "ok" and ack["acknowledged"] == str(message.pk)
    portal_ack = Message.objects.get(type=MessageType.ACKNOWLEDGEMENT, acknowledges=message)
    assert fx.header_of(ack["bundle"])["id"] == str(portal_ack.pk)
    assert counts() == before
    assert Recipient.objects.get(message=message).duplicates == 1


def test_the_same_message_header_id_from_another_sender_is_refused(world, post, token):
    bundle = care(world)
    assert ack_of(post(bundle))["code"] == "ok"
    other = care(world, sender=world.clinic_b, header_id=fx.header_of(bundle)["id"])
    _rejected_count = Message.objects.count()
    ack = ack_of(post(other, as_user="gp_b"))
    assert ack["code"] == "fatal-error" and ack["issues"] == ["MSG_DUPLICATE_ID"]
    assert Message.objects.count() == _rejected_count


# --- HospitalNotification -----------------------------------------------------------------------


def test_stin_for_an_unregistered_citizen_registers_them_and_starts_the_stay(world, post, client):
    bundle = notification(world, first_name="Ole Bent", last_name="Madsen")
    ack = ack_of(post(bundle, as_user="hospital_nurse"))
    assert ack["code"] == "ok", ack
    citizen = Citizen.objects.get(cpr=NEW_CPR)
    assert (citizen.first_name, citizen.last_name, citizen.municipality) == ("Ole Bent", "Madsen", world.municipality_a)
    assert (citizen.street, citizen.postal_code, citizen.city) == ("Testvej 1", "8000", "Aarhus C")
    stay = HospitalStay.objects.get(citizen=citizen)
    assert stay.department == world.department and stay.discharged_at is None
    message = Message.objects.get(pk=fx.header_of(bundle)["id"])
    assert (message.hospital_code, message.revision) == (HospitalCode.STIN, Revision.NEW)
    event = HospitalEvent.objects.get(message=message)
    assert event.code == HospitalCode.STIN
    recipient = Recipient.objects.get(message=message)
    assert recipient.organisation == world.municipality_a and recipient.received_at is not None
    client.force_login(world.users["homecare_a"])
    assert client.get(reverse("messaging:thread", args=[message.thread_id])).status_code == 200


def test_a_notification_never_moves_a_known_citizen_to_another_municipality(world, post, client):
    before = (world.citizen.first_name, world.citizen.last_name, world.citizen.street, world.citizen.municipality)
    bundle = notification(world, cpr=world.citizen.cpr, receiver=world.municipality_b, last_name="Nyt-Navn")
    ack = ack_of(post(bundle, as_user="hospital_nurse"))
    assert ack["code"] == "fatal-error" and ack["issues"] == ["MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"]
    world.citizen.refresh_from_db()
    after = (world.citizen.first_name, world.citizen.last_name, world.citizen.street, world.citizen.municipality)
    assert after == before and not HospitalStay.objects.exists()
    client.force_login(world.users["homecare_a"])  # the real municipality keeps the citizen
    assert client.get(reverse("citizens:detail", args=[world.citizen.pk])).status_code == 200
    client.force_login(world.users["homecare_b"])
    assert client.get(reverse("citizens:detail", args=[world.citizen.pk])).status_code == 404


def test_a_differing_name_and_address_are_kept_as_given_by_the_sender(world, post, client):
    before = (world.citizen.first_name, world.citizen.last_name, world.citizen.street, world.citizen.city)
    bundle = notification(world, cpr=world.citizen.cpr, first_name="Falsk", last_name="Navn")
    assert ack_of(post(bundle, as_user="hospital_nurse"))["code"] == "ok"
    world.citizen.refresh_from_db()
    assert (world.citizen.first_name, world.citizen.last_name, world.citizen.street, world.citizen.city) == before
    message = Message.objects.get(pk=fx.header_of(bundle)["id"])
    assert message.given_name == "Falsk Navn" and message.given_address == "Testvej 1, 8000 Aarhus C"
    client.force_login(world.users["homecare_a"])
    page = client.get(reverse("messaging:thread", args=[message.thread_id])).content.decode()
    assert "Name as given by the sender" in page and "Falsk Navn" in page and "Testvej 1, 8000 Aarhus C" in page
    client.force_login(world.users["hospital_nurse"])
    events = client.get(reverse("messaging_ops:hospital_events")).content.decode()
    assert "Name as given by the sender: Falsk Navn" in events
    api = client.get("/api/v1/hospital-events/").json()["results"][0]
    assert (api["given_name"], api["given_address"]) == ("Falsk Navn", "Testvej 1, 8000 Aarhus C")
    client.force_login(world.users["homecare_a"])
    api_message = client.get(f"/api/v1/messages/{message.pk}/").json()
    assert api_message["given_name"] == "Falsk Navn"


def test_the_same_name_and_address_are_not_repeated_as_given(world, post):
    citizen = world.citizen
    bundle = notification(world, cpr=citizen.cpr, first_name=citizen.first_name.upper(), last_name=citizen.last_name)
    for resource in (e["resource"] for e in bundle["entry"]):
        if resource["resourceType"] == "Patient":
            resource.pop("address", None)
    assert ack_of(post(bundle, as_user="hospital_nurse"))["code"] == "ok"
    message = Message.objects.get(pk=fx.header_of(bundle)["id"])
    assert (message.given_name, message.given_address) == ("", "")


@pytest.mark.parametrize("role", ["care_coordinator", "organisation_admin"])
def test_only_clinicians_or_the_integration_send_hospital_notifications(world, post, role):
    from messaging.tests.helpers import member

    world.users["clerk"] = member(world.department, role)
    before = counts()
    ack = ack_of(post(notification(world), as_user="clerk"))
    assert ack["code"] == "fatal-error" and ack["issues"] == ["MSG_RESOURCE_NOT_ALLOWED"]
    assert counts() == before


def test_the_departments_integration_sends_hospital_notifications(world, post):
    from messaging.tests.helpers import member

    world.users["system"] = member(world.department, "integration")
    assert ack_of(post(notification(world), as_user="system"))["code"] == "ok"
    assert HospitalStay.objects.filter(citizen__cpr=NEW_CPR, department=world.department).exists()


def test_correction_and_cancellation_refer_back_through_provenance(world, post):
    admitted = timezone.now() - datetime.timedelta(hours=5)
    first = notification(world, start=admitted)
    assert ack_of(post(first, as_user="hospital_nurse"))["code"] == "ok"
    first_id = fx.header_of(first)["id"]
    corrected_at = admitted + datetime.timedelta(hours=1)
    correction = notification(world, start=corrected_at, activity="revise-admit-inpatient", earlier=first_id)
    assert ack_of(post(correction, as_user="hospital_nurse"))["code"] == "ok"
    stay = HospitalStay.objects.get(citizen__cpr=NEW_CPR)
    assert stay.admitted_at == corrected_at.replace(microsecond=0)
    revised = Message.objects.get(pk=fx.header_of(correction)["id"])
    assert revised.revision == Revision.CORRECTION and str(revised.revises_id) == first_id
    cancellation = notification(
        world, start=corrected_at, status="entered-in-error", activity="cancel-admit-inpatient",
        earlier=str(revised.pk),
    )  # fmt: skip
    assert ack_of(post(cancellation, as_user="hospital_nurse"))["code"] == "ok"
    assert not HospitalStay.objects.filter(citizen__cpr=NEW_CPR).exists()
    assert Message.objects.get(pk=fx.header_of(cancellation)["id"]).revision == Revision.CANCELLATION


def test_leave_and_discharge(world, post, actor):
    admit(world, actor, hours_ago=10)
    left = timezone.now() - datetime.timedelta(hours=6)
    leave = notification(
        world, cpr=world.citizen.cpr, status="onleave", activity="start-leave-inpatient",
        start=timezone.now() - datetime.timedelta(hours=10), leave={"start": left.isoformat(timespec="seconds")},
    )  # fmt: skip
    assert ack_of(post(leave, as_user="hospital_nurse"))["code"] == "ok"
    assert HospitalStay.objects.get(citizen=world.citizen, discharged_at__isnull=True).on_leave
    home = notification(
        world, cpr=world.citizen.cpr, status="finished", activity="discharge-inpatient-home",
        start=timezone.now() - datetime.timedelta(hours=10), end=timezone.now() - datetime.timedelta(hours=1),
    )  # fmt: skip
    ack = ack_of(post(home, as_user="hospital_nurse"))
    assert ack["code"] == "ok", ack
    assert Message.objects.get(pk=fx.header_of(home)["id"]).hospital_code == HospitalCode.SLHJ
    assert not HospitalStay.objects.filter(citizen=world.citizen, discharged_at__isnull=True).exists()


def test_an_inconsistent_hospital_notification_is_refused(world, post):
    bundle = notification(world, klass="EMER", activity="admit-inpatient")
    _rejected(post, bundle, "MSG_PARAM_INVALID", as_user="hospital_nurse")


def test_a_hospital_notification_to_a_gp_clinic_is_refused(world, post):
    bundle = notification(world, receiver=world.clinic_a, cpr=world.citizen.cpr)
    _rejected(post, bundle, "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE", as_user="hospital_nurse")


def test_a_correction_of_an_unknown_notification_is_refused(world, post):
    bundle = notification(world, activity="revise-admit-inpatient", earlier=str(uuid.uuid4()))
    _rejected(post, bundle, "MSG_NO_EXIST", as_user="hospital_nurse")


def test_a_gp_clinic_cannot_send_hospital_notifications(world, post):
    bundle = notification(world, sender=world.clinic_a)
    _rejected(post, bundle, "MSG_RESOURCE_NOT_ALLOWED")


# --- Acknowledgement ----------------------------------------------------------------------------


def test_an_acknowledgement_settles_the_outgoing_message(world, actor, post, django_capture_on_commit_callbacks):
    """The municipality's own system acknowledges a message the GP clinic sent in the portal:
    (no in-app acknowledgement here: the municipality's deliveries are not run)."""
    message = send(world, actor)
    recipient = Recipient.objects.get(message=message)
    assert recipient.acknowledged_at is None
    bundle = fx.acknowledgement(
        sender=world.municipality_a, receiver=world.clinic_a, acknowledged=str(message.pk), code="fatal-error",
        text="Modtager kender ikke borgeren",
    )  # fmt: skip
    response = post(bundle, as_user="homecare_a")
    assert response.status_code == 200
    assert response.json()["resourceType"] == "OperationOutcome"
    recipient.refresh_from_db()
    assert recipient.acknowledged_at is not None
    assert (recipient.ack_code, recipient.ack_reason) == (AckCode.FATAL_ERROR, "Modtager kender ikke borgeren")


def test_an_acknowledgement_of_an_unknown_message_is_422(world, post):
    bundle = fx.acknowledgement(sender=world.municipality_a, receiver=world.clinic_a, acknowledged=str(uuid.uuid4()))
    response = post(bundle, as_user="homecare_a")
    assert response.status_code == 422
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "MSG_NO_EXIST"


def test_an_outsider_cannot_acknowledge_a_message_it_did_not_receive(world, actor, post):
    message = send(world, actor)
    bundle = fx.acknowledgement(sender=world.municipality_b, receiver=world.clinic_a, acknowledged=str(message.pk))
    assert post(bundle, as_user="homecare_b").status_code == 422
    assert Recipient.objects.get(message=message).acknowledged_at is None


# --- the acknowledgement builder ----------------------------------------------------------------


def test_acknowledgement_bundle_is_medcom_shaped(world):
    bundle = acknowledgement_bundle(
        acknowledged_header_id=str(uuid.uuid4()),
        sender=world.municipality_a,
        receiver=world.clinic_a,
        code="fatal-error",
        issues=[("MSG_Receiver_Identifier_UNKNOWN", "Ukendt modtager", "not-found")],
    )
    data = json.loads(bundle.model_dump_json())
    header = data["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    assert len(header["destination"]) == 1
    assert header["destination"][0]["extension"][0]["valueCoding"]["code"] == "primary"
    outcome = fx.resource_of(data, "OperationOutcome")
    assert header["response"]["details"]["reference"] == f"OperationOutcome/{outcome['id']}"
    assert outcome["issue"][0]["details"]["coding"][0]["system"] == codes.ACK_ERROR_CODES
    provenance = fx.resource_of(data, "Provenance")
    assert provenance["activity"]["coding"][0]["code"] == "acknowledgement"
    ok = acknowledgement_bundle(
        acknowledged_header_id="x", sender=world.municipality_a, receiver=world.clinic_a, code="ok"
    )
    assert not any(e.resource.get_resource_type() == "OperationOutcome" for e in ok.entry)
    assert Bundle.model_validate_xml(ok.model_dump_xml()).id == ok.id


# --- webhook deliveries -------------------------------------------------------------------------


def _answer(content: bytes, content_type: str = FHIR_JSON):
    from unittest import mock

    return mock.Mock(status_code=200, text="", content=content, headers={"Content-Type": content_type})


@pytest.mark.parametrize("answer_fmt", ["json", "xml"])
def test_webhook_sends_the_bundle_and_its_acknowledgement_answer_settles_the_message(world, actor, answer_fmt):
    from unittest import mock

    from messaging.delivery import delivery_run
    from messaging.models import Delivery

    from .helpers import webhook

    endpoint = webhook(world.municipality_a)
    message = send(world, actor)  # deliveries not run: only the webhook below
    hook = Delivery.objects.get(message=message, channel="webhook")
    answer = acknowledgement_bundle(
        acknowledged_header_id=str(message.pk), sender=world.municipality_a, receiver=world.clinic_a, code="ok"
    )
    content = answer.model_dump_xml() if answer_fmt == "xml" else answer.model_dump_json().encode()
    with mock.patch("messaging.transports.webhook.requests.post") as post:
        post.return_value = _answer(content, FHIR_XML if answer_fmt == "xml" else FHIR_JSON)
        assert delivery_run(hook.pk).status == "delivered"
    kwargs = post.call_args.kwargs
    assert kwargs["headers"]["Content-Type"] == "application/fhir+json"
    assert endpoint.url == post.call_args.args[0]
    sent = Bundle.model_validate_json(kwargs["data"])  # a valid FHIR bundle
    data = json.loads(sent.model_dump_json())
    assert fx.header_of(data)["id"] == str(message.pk)
    assert fx.resource_of(data, "Patient")["identifier"][0]["value"] == world.citizen.cpr
    recipient = Recipient.objects.get(message=message)
    assert recipient.acknowledged_at is not None and recipient.ack_code == AckCode.OK


def test_a_webhook_answer_that_is_no_acknowledgement_of_this_message_changes_nothing(world, actor):
    from unittest import mock

    from messaging.delivery import delivery_run
    from messaging.models import Delivery

    from .helpers import webhook

    webhook(world.municipality_a)
    message = send(world, actor)
    other = send(world, actor)
    hook = Delivery.objects.get(message=message, channel="webhook")
    answer = acknowledgement_bundle(
        acknowledged_header_id=str(other.pk), sender=world.municipality_a, receiver=world.clinic_a, code="ok"
    )
    for content in (answer.model_dump_json().encode(), b"ok", b"{broken"):
        Delivery.objects.filter(pk=hook.pk).update(status="pending", next_attempt_at=timezone.now())
        with mock.patch("messaging.transports.webhook.requests.post") as post:
            post.return_value = _answer(content)
            assert delivery_run(hook.pk).status == "delivered"
    assert Recipient.objects.get(message=message).acknowledged_at is None
    assert Recipient.objects.get(message=other).acknowledged_at is None


# --- round trip with the exporter ---------------------------------------------------------------


def test_an_exported_message_posted_again_is_a_duplicate_and_with_new_ids_arrives_once(
    world, actor, post, django_capture_on_commit_callbacks
):
    from messaging.fhir.export import message_bundle

    with django_capture_on_commit_callbacks(execute=True):
        original = send(world, actor, category=Category.OTHER, topic="Sår", text="Skift forbinding dagligt.")
    exported = json.loads(message_bundle(original).model_dump_json())
    before = counts()
    assert ack_of(post(exported))["code"] == "ok"
    assert counts() == before  # the same MessageHeader id: a duplicate
    # the same content as a new message (new MessageHeader and Bundle ids)
    text = json.dumps(exported).replace(str(original.pk), str(uuid.uuid4()))
    fresh = json.loads(text)
    fresh["id"] = str(uuid.uuid4())
    ack = ack_of(post(fresh, fmt="xml"))
    assert ack["code"] == "ok", ack
    copy = Message.objects.get(pk=fx.header_of(fresh)["id"])
    assert (copy.category, copy.topic, copy.text, copy.citizen) == (
        original.category,
        original.topic,
        original.text,
        original.citizen,
    )
    assert Recipient.objects.filter(message=copy, received_at__isnull=False).count() == 1


def test_a_database_failure_is_a_transient_error_and_the_resend_is_processed(world, post):
    from unittest import mock

    from django.db import OperationalError

    bundle = care(world)
    before = counts()
    with mock.patch("messaging.services.message_import", side_effect=OperationalError("connection lost")):
        ack = ack_of(post(bundle))
    assert ack["code"] == "transient-error" and ack["issues"] == ["MSG_Mailbox_Out_Of_Operation"]
    assert counts() == before and not FhirReceipt.objects.exists()
    bundle["id"] = str(uuid.uuid4())  # MedCom: a resend has a new Bundle id
    assert ack_of(post(bundle))["code"] == "ok"


def test_registering_from_a_notification_is_in_the_access_log(world, post):
    from citizens.models import AccessLogEntry

    assert ack_of(post(notification(world), as_user="hospital_nurse"))["code"] == "ok"
    citizen = Citizen.objects.get(cpr=NEW_CPR)
    entries = AccessLogEntry.objects.filter(citizen=citizen)
    assert entries.filter(action="create", user=world.users["hospital_nurse"], organisation=world.department).exists()


def test_the_thread_shows_the_senders_unit_phone_and_codes_and_marks_external_senders(world, post, client):
    """The receiver sees who wrote: the unit, where it belongs, its phone, SOR and EAN, and
    whether it is an external organisation the portal knows only from messages."""
    bundle = care(world)
    assert ack_of(post(bundle))["code"] == "ok"
    sender = world.clinic_a
    Organisation.objects.filter(pk=sender.pk).update(phone="66 12 34 56")
    message = Message.objects.get(pk=fx.header_of(bundle)["id"])
    client.force_login(world.users["homecare_a"])
    url = reverse("messaging:thread", args=[message.thread_id])
    html = client.get(url).content.decode()
    unit = html[html.index('data-testid="message-sender-unit"') :][:600]
    assert "66 12 34 56" in unit and sender.sor_code in unit and sender.gln in unit
    assert 'data-testid="badge-external"' not in unit
    Organisation.objects.filter(pk=sender.pk).update(is_external=True, source=OrganisationSource.MESSAGE)
    html = client.get(url).content.decode()
    unit = html[html.index('data-testid="message-sender-unit"') :][:900]
    assert 'data-testid="badge-external"' in unit and 'data-testid="badge-unverified"' in unit
