"""Outgoing MedCom message bundles: every message type as the FHIR message MedCom's IGs describe,
valid for ``fhir.resources`` R4B, identical in JSON and XML; ``GET /fhir/Bundle/<id>`` for the
organisations that sent or received the message (the outsider gets 404), logged as an export; the
download links on the thread page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from citizens.choices import AccessAction
from citizens.models import AccessLogEntry
from messaging.choices import Category, HospitalCode, MessageType, NoticeKind, Priority
from messaging.fhir import codes, resources
from messaging.fhir.export import bundle_json, bundle_xml, message_bundle
from messaging.services import (
    hospital_event_cancel,
    hospital_event_correct,
    message_forward,
    message_reply,
    notice_send,
)

from .helpers import PDF, acknowledgements, admit, send, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- reading a bundle ----------------------------------------------------------------------------


def resources_of(bundle: Bundle, resource_type: str) -> list:
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == resource_type]


def by_reference(bundle: Bundle, reference: str):
    for e in bundle.entry:
        if f"{e.resource.get_resource_type()}/{e.resource.id}" == reference:
            return e.resource
    raise AssertionError(f"{reference} is not in the bundle")


def header_of(bundle: Bundle):
    first = bundle.entry[0].resource
    assert first.get_resource_type() == "MessageHeader"
    return first


def destinations(bundle: Bundle) -> list[tuple[str, str]]:
    """(use, SOR code of the receiver) per destination."""
    result = []
    for destination in header_of(bundle).destination:
        (use,) = [x.valueCoding.code for x in destination.extension if x.url == codes.DESTINATION_USE_EXTENSION]
        receiver = by_reference(bundle, destination.receiver.reference)
        result.append((use, resources.identifier_of(receiver, codes.SOR)))
    return result


def provenances(bundle: Bundle) -> dict[str, object]:
    """Provenance by the id of the MessageHeader it is about."""
    return {p.target[0].reference.rsplit("/", 1)[-1]: p for p in resources_of(bundle, "Provenance")}


def activity(provenance) -> str:
    return provenance.activity.coding[0].code


def previous(provenance) -> list[tuple[str, str]]:
    """(role, earlier MessageHeader id) of the entities that point at an earlier message."""
    return [
        (e.role, e.what.reference.rsplit("/", 1)[-1])
        for e in provenance.entity or []
        if e.what.reference and "/MessageHeader/" in e.what.reference
    ]


def assert_medcom_basics(bundle: Bundle, message, event: str) -> None:
    assert bundle.type == "message"
    assert bundle.id == str(message.bundle_id)
    assert bundle.timestamp.tzinfo is not None
    header = header_of(bundle)
    assert header.id == str(message.pk)
    assert (header.eventCoding.system, header.eventCoding.code) == (codes.EVENT_CODES, event)
    assert [use for use, _sor in destinations(bundle)].count("primary") == 1
    sender = by_reference(bundle, header.sender.reference)
    assert resources.identifier_of(sender, codes.SOR) == message.sender.sor_code
    assert resources.identifier_of(sender, codes.GLN) == message.sender.gln
    for organization in resources_of(bundle, "Organization"):
        assert resources.identifier_of(organization, codes.SOR)
        assert resources.identifier_of(organization, codes.GLN)
    (patient,) = resources_of(bundle, "Patient")
    assert resources.identifier_of(patient, codes.CPR) == message.citizen.cpr
    # every entry's fullUrl names its resource, and every reference inside the bundle resolves
    for e in bundle.entry:
        assert e.fullUrl == resources.full_url(e.resource.get_resource_type(), e.resource.id)
    assert header.source.endpoint == resources.base_url()


def assert_same_in_json_and_xml(bundle: Bundle) -> None:
    from_json = Bundle.model_validate_json(bundle_json(bundle))
    from_xml = Bundle.model_validate_xml(bundle_xml(bundle))
    assert from_json.model_dump() == bundle.model_dump()
    assert from_xml.model_dump() == bundle.model_dump()


# --- care communication ------------------------------------------------------------------------------


@pytest.fixture
def conversation(world, actor, deliver):
    """GP clinic A writes to municipality A (with a PDF), the municipality replies and then
    forwards the first message to the hospital department (which has the citizen admitted)."""
    world.users["gp_a"].phone = "38683868"
    world.users["gp_a"].save(update_fields=["phone"])
    deliver(admit, world, actor)
    original = deliver(
        send, world, actor, topic="Ny medicin", text="Borgeren har fået ny medicin.\nSe vedhæftede.",
        attachments=[upload("medicinliste.pdf", PDF)],
    )  # fmt: skip
    reply = deliver(message_reply, actor=actor("homecare_a"), message=original, text="Tak, vi følger op.")
    forward = deliver(
        message_forward, actor=actor("homecare_a"), message=original, receiver=world.department, text="Til orientering."
    )
    return original, reply, forward


def test_a_care_communication_is_a_medcom_care_communication_message(world, conversation):
    original, _reply, _forward = conversation
    bundle = message_bundle(original)

    assert_medcom_basics(bundle, original, codes.EVENT_CARE_COMMUNICATION)
    assert destinations(bundle) == [("primary", world.municipality_a.sor_code)]
    header = header_of(bundle)
    communication = by_reference(bundle, header.focus[0].reference)
    assert communication.get_resource_type() == "Communication"
    assert communication.status == "unknown"
    assert communication.identifier[0].value.startswith("urn:uuid:")
    assert communication.identifier[0].value[9:][14] == "4"  # a UUID version 4
    assert [(c.system, c.code) for c in communication.category[0].coding] == [(codes.CATEGORY_CODES, "nursing")]
    assert communication.topic.text == "Ny medicin"
    assert communication.priority is None
    assert by_reference(bundle, communication.subject.reference).get_resource_type() == "Patient"

    text, attachment = communication.payload
    assert text.contentString == "Borgeren har fået ny medicin.\nSe vedhæftede."
    urls = {x.url: x for x in text.extension}
    assert set(urls) >= {
        codes.PAYLOAD_DATE_EXTENSION,
        codes.PAYLOAD_IDENTIFIER_EXTENSION,
        codes.PAYLOAD_AUTHOR_EXTENSION,
        codes.PAYLOAD_AUTHOR_CONTACT_EXTENSION,
    }
    assert urls[codes.PAYLOAD_DATE_EXTENSION].valueDateTime.tzinfo is not None
    assert urls[codes.PAYLOAD_AUTHOR_CONTACT_EXTENSION].valueContactPoint.system == "phone"
    assert urls[codes.PAYLOAD_AUTHOR_CONTACT_EXTENSION].valueContactPoint.value == original.author_phone
    identifier = urls[codes.PAYLOAD_IDENTIFIER_EXTENSION].valueIdentifier
    assert identifier.value.startswith("urn:uuid:")
    assert by_reference(bundle, identifier.assigner.reference).name == world.clinic_a.name
    role = by_reference(bundle, urls[codes.PAYLOAD_AUTHOR_EXTENSION].valueReference.reference)
    assert role.code[0].text
    practitioner = by_reference(bundle, role.practitioner.reference)
    assert practitioner.name[0].family == world.users["gp_a"].last_name

    assert attachment.contentAttachment.contentType == "application/pdf"
    assert attachment.contentAttachment.title == "medicinliste"
    assert attachment.contentAttachment.creation is not None
    assert attachment.contentAttachment.data == PDF  # fhir.resources decodes the base64

    (provenance,) = provenances(bundle).values()
    assert provenance.target[0].reference == f"MessageHeader/{original.pk}"
    assert activity(provenance) == "new-message"
    assert provenance.occurredDateTime.tzinfo is not None
    assert by_reference(bundle, provenance.agent[0].who.reference).name == world.clinic_a.name
    assert previous(provenance) == []
    payload_ids = {e.what.identifier.value for e in provenance.entity if e.role == "source"}
    assert identifier.value in payload_ids and len(payload_ids) == 2
    assert_same_in_json_and_xml(bundle)


def test_a_reply_carries_the_provenance_of_the_message_it_answers(world, conversation):
    original, reply, _forward = conversation
    bundle = message_bundle(reply)

    assert_medcom_basics(bundle, reply, codes.EVENT_CARE_COMMUNICATION)
    assert destinations(bundle) == [("primary", world.clinic_a.sor_code)]
    chain = provenances(bundle)
    assert list(chain) == [str(original.pk), str(reply.pk)]  # oldest first
    assert chain[str(original.pk)].target[0].reference == resources.full_url("MessageHeader", str(original.pk))
    assert activity(chain[str(original.pk)]) == "new-message"
    assert activity(chain[str(reply.pk)]) == "reply-message"
    assert previous(chain[str(reply.pk)]) == [("revision", str(original.pk))]
    # the earlier sender is in the bundle, as its Provenance's agent
    assert by_reference(bundle, chain[str(original.pk)].agent[0].who.reference).name == world.clinic_a.name
    communication = by_reference(bundle, header_of(bundle).focus[0].reference)
    assert [p.contentString for p in communication.payload] == ["Tak, vi følger op."]
    assert_same_in_json_and_xml(bundle)


def test_a_forward_shows_the_third_party_only_what_it_took_part_in(world, conversation):
    original, reply, forward = conversation

    for_sender = provenances(message_bundle(forward))
    assert list(for_sender) == [str(original.pk), str(reply.pk), str(forward.pk)]
    assert activity(for_sender[str(forward.pk)]) == "forward-message"
    assert previous(for_sender[str(forward.pk)]) == [("revision", str(original.pk))]

    bundle = message_bundle(forward, for_organisation=world.department)
    assert list(provenances(bundle)) == [str(forward.pk)]
    assert destinations(bundle) == [("primary", world.department.sor_code)]
    communication = by_reference(bundle, header_of(bundle).focus[0].reference)
    assert communication.payload[1].contentAttachment.title == "medicinliste"  # the attachment went along
    assert_same_in_json_and_xml(bundle)


def test_copies_are_cc_destinations_and_asap_is_the_priority(world, actor, deliver):
    deliver(admit, world, actor)
    message = deliver(
        send, world, actor, category=Category.REGARDING_REFERRAL, priority=Priority.ASAP, cc=[world.department]
    )
    bundle = message_bundle(message)

    assert destinations(bundle) == [("primary", world.municipality_a.sor_code), ("cc", world.department.sor_code)]
    communication = by_reference(bundle, header_of(bundle).focus[0].reference)
    assert communication.priority == "asap"
    assert communication.topic is None
    assert_same_in_json_and_xml(bundle)


# --- hospital notification --------------------------------------------------------------------------

SEQUENCES = {
    # code: (the events recorded before it and it, Encounter class, status, activity)
    "STAA": (["STAA"], "EMER", "in-progress", "admit-emergency"),
    "STIN": (["STIN"], "IMP", "in-progress", "admit-inpatient"),
    "STOR": (["STIN", "STOR"], "IMP", "onleave", "start-leave-inpatient"),
    "SLOR": (["STIN", "STOR", "SLOR"], "IMP", "in-progress", "end-leave-inpatient"),
    "SLHJ": (["STIN", "SLHJ"], "IMP", "finished", "discharge-inpatient-home"),
    "MORS": (["STIN", "MORS"], "IMP", "finished", "discharge-inpatient-home"),
    "SLHJ acute ambulant": (["STAA", "SLHJ"], "EMER", "finished", "discharge-emergency-home"),
}


def record(world, actor, deliver, steps):
    events = []
    for index, code in enumerate(steps):
        events.append(deliver(admit, world, actor, code=code, hours_ago=10 - index))
    return events


@pytest.mark.parametrize("case", list(SEQUENCES))
def test_a_hospital_notification_is_a_medcom_hospital_notification(world, actor, deliver, case):
    steps, klass, status, expected_activity = SEQUENCES[case]
    events = record(world, actor, deliver, steps)
    message = events[-1].message
    bundle = message_bundle(message)

    assert_medcom_basics(bundle, message, codes.EVENT_HOSPITAL_NOTIFICATION)
    # MedCom: a hospital notification has one primary receiver and no copies (the GP clinic's copy
    # in the portal is not part of the MedCom message).
    assert destinations(bundle) == [("primary", world.municipality_a.sor_code)]
    encounter = by_reference(bundle, header_of(bundle).focus[0].reference)
    assert encounter.get_resource_type() == "Encounter"
    assert (encounter.class_fhir.system, encounter.class_fhir.code) == (codes.ENCOUNTER_CLASS, klass)
    assert encounter.status == status
    assert encounter.episodeOfCare[0].identifier.value.startswith("urn:uuid:")
    first = events[0].message
    assert encounter.period.start == timezone.localtime(first.occurred_at).replace(microsecond=0)
    if status == "finished":
        assert encounter.period.end == timezone.localtime(message.occurred_at).replace(microsecond=0)
    else:
        assert encounter.period.end is None
    assert by_reference(bundle, encounter.serviceProvider.reference).name == world.department.name
    assert by_reference(bundle, encounter.subject.reference).get_resource_type() == "Patient"
    (patient,) = resources_of(bundle, "Patient")
    assert patient.deceasedBoolean is (True if case == "MORS" else None)
    if case in ("STOR", "SLOR"):
        (leave,) = [x for x in encounter.extension if x.url == codes.LEAVE_PERIOD_EXTENSION]
        assert leave.valuePeriod.start is not None
        assert (leave.valuePeriod.end is not None) is (case == "SLOR")

    # one Provenance per notification of the stay, oldest first, each pointing at the one before
    chain = provenances(bundle)
    assert list(chain) == [str(e.message.pk) for e in events]
    assert activity(chain[str(message.pk)]) == expected_activity
    for before, after in zip(events, events[1:], strict=False):
        assert previous(chain[str(after.message.pk)]) == [("revision", str(before.message.pk))]
    assert previous(chain[str(events[0].message.pk)]) == []
    assert_same_in_json_and_xml(bundle)

    # every episode of the same stay has the same episode-of-care identifier
    episodes = {
        by_reference(message_bundle(e.message), f"Encounter/{resources.stable_id(e.message.pk, 'encounter')}")
        .episodeOfCare[0]
        .identifier.value
        for e in events
    }
    assert len(episodes) == 1


def test_a_correction_revises_the_notification_it_corrects(world, actor, deliver):
    event = deliver(admit, world, actor, hours_ago=3)
    corrected_at = timezone.now() - datetime.timedelta(hours=2)
    correction = deliver(hospital_event_correct, actor=actor("hospital_nurse"), event=event, occurred_at=corrected_at)
    message = correction.message
    bundle = message_bundle(message)

    assert message.hospital_code_label == "RE_STIN"
    assert_medcom_basics(bundle, message, codes.EVENT_HOSPITAL_NOTIFICATION)
    encounter = by_reference(bundle, header_of(bundle).focus[0].reference)
    assert (encounter.class_fhir.code, encounter.status) == ("IMP", "in-progress")
    assert encounter.period.start == timezone.localtime(corrected_at).replace(microsecond=0)
    chain = provenances(bundle)
    assert list(chain) == [str(event.message.pk), str(message.pk)]
    assert activity(chain[str(message.pk)]) == "revise-admit-inpatient"
    assert previous(chain[str(message.pk)]) == [("revision", str(event.message.pk))]
    assert activity(chain[str(event.message.pk)]) == "admit-inpatient"
    assert_same_in_json_and_xml(bundle)


def test_a_cancellation_removes_the_notification_it_cancels(world, actor, deliver):
    event = deliver(admit, world, actor, code=HospitalCode.STIN, hours_ago=3)
    cancellation = deliver(hospital_event_cancel, actor=actor("hospital_nurse"), event=event)
    message = cancellation.message
    bundle = message_bundle(message)

    assert message.hospital_code_label == "AN_STIN"
    assert_medcom_basics(bundle, message, codes.EVENT_HOSPITAL_NOTIFICATION)
    encounter = by_reference(bundle, header_of(bundle).focus[0].reference)
    assert (encounter.class_fhir.code, encounter.status) == ("IMP", "entered-in-error")
    chain = provenances(bundle)
    assert list(chain) == [str(event.message.pk), str(message.pk)]
    assert activity(chain[str(message.pk)]) == "cancel-admit-inpatient"
    assert previous(chain[str(message.pk)]) == [("removal", str(event.message.pk))]
    # the admission's stay is gone, but both notifications name the same episode of care
    event.message.refresh_from_db()
    first = by_reference(
        message_bundle(event.message), f"Encounter/{resources.stable_id(event.message.pk, 'encounter')}"
    )
    assert first.episodeOfCare[0].identifier.value == encounter.episodeOfCare[0].identifier.value
    assert_same_in_json_and_xml(bundle)


def test_a_cancelled_death_says_the_patient_is_not_deceased(world, actor, deliver):
    deliver(admit, world, actor, hours_ago=5)
    death = deliver(admit, world, actor, code=HospitalCode.MORS, hours_ago=1)
    cancellation = deliver(hospital_event_cancel, actor=actor("hospital_nurse"), event=death)
    bundle = message_bundle(cancellation.message)

    (patient,) = resources_of(bundle, "Patient")
    assert patient.deceasedBoolean is False
    chain = provenances(bundle)
    assert activity(chain[str(cancellation.message.pk)]) == "cancel-discharge-inpatient-home"
    assert previous(chain[str(cancellation.message.pk)]) == [("removal", str(death.message.pk))]


def test_a_reply_to_a_hospital_notification_carries_its_provenance(world, actor, deliver):
    event = deliver(admit, world, actor)
    reply = deliver(message_reply, actor=actor("homecare_a"), message=event.message, text="Hvornår udskrives borgeren?")
    bundle = message_bundle(reply)

    assert_medcom_basics(bundle, reply, codes.EVENT_CARE_COMMUNICATION)
    chain = provenances(bundle)
    assert activity(chain[str(event.message.pk)]) == "admit-inpatient"
    assert previous(chain[str(reply.pk)]) == [("revision", str(event.message.pk))]
    communication = by_reference(bundle, header_of(bundle).focus[0].reference)
    assert communication.category[0].coding[0].code == "carecoordination"


# --- acknowledgement and portal notifications ---------------------------------------------------------


def test_an_acknowledgement_is_a_medcom_acknowledgement(world, actor, deliver):
    message = deliver(send, world, actor)
    (ack,) = acknowledgements(message)
    bundle = message_bundle(ack)

    header = header_of(bundle)
    assert header.id == str(ack.pk)
    assert bundle.id == str(ack.bundle_id)
    assert header.eventCoding.code == codes.EVENT_ACKNOWLEDGEMENT
    assert header.response.identifier == str(message.pk)
    assert header.response.code == "ok"
    assert destinations(bundle) == [("primary", world.clinic_a.sor_code)]
    assert resources.identifier_of(by_reference(bundle, header.sender.reference), codes.SOR) == (
        world.municipality_a.sor_code
    )
    assert_same_in_json_and_xml(bundle)


def test_a_portal_notification_is_no_medcom_message(world):
    notice = notice_send(
        organisation=world.clinic_a, citizen=world.citizen, kind=NoticeKind.ALERT_RAISED, text="Ny alarm", key="t:1"
    )
    with pytest.raises(ValueError):
        message_bundle(notice)


# --- GET /fhir/Bundle/<id> ---------------------------------------------------------------------------


def url(message, **query) -> str:
    base = reverse("fhir:bundle", args=[message.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def exports(message):
    return AccessLogEntry.objects.filter(citizen=message.citizen, action=AccessAction.EXPORT)


def test_the_sender_gets_the_bundle_in_json_and_xml(client, world, actor, deliver):
    message = deliver(send, world, actor, attachments=[upload("scan.pdf", PDF)])
    client.force_login(world.users["gp_a"])

    response = client.get(url(message))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert "Content-Disposition" not in response
    bundle = Bundle.model_validate_json(response.content)
    assert header_of(bundle).id == str(message.pk)
    assert exports(message).filter(user=world.users["gp_a"], organisation=world.clinic_a).count() == 1

    response = client.get(url(message), HTTP_ACCEPT="application/fhir+xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+xml"
    assert header_of(Bundle.model_validate_xml(response.content)).id == str(message.pk)

    response = client.get(url(message, _format="xml", download=1))
    assert response["Content-Type"] == "application/fhir+xml"
    assert response["Content-Disposition"] == f'attachment; filename="{message.pk}.xml"'
    response = client.get(url(message, _format="json", download=1))
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"] == f'attachment; filename="{message.pk}.json"'
    assert exports(message).count() == 4


def test_the_receiver_gets_the_bundle_with_a_token(world, actor, deliver):
    message = deliver(send, world, actor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.users['homecare_a']).key}")

    response = client.get(url(message))
    assert response.status_code == 200
    assert header_of(Bundle.model_validate_json(response.content)).id == str(message.pk)
    assert exports(message).filter(organisation=world.municipality_a).count() == 1


def test_the_third_party_of_a_forward_gets_only_its_part(client, world, conversation):
    original, _reply, forward = conversation
    client.force_login(world.users["hospital_nurse"])

    bundle = Bundle.model_validate_json(client.get(url(forward)).content)
    assert list(provenances(bundle)) == [str(forward.pk)]
    assert client.get(url(original)).status_code == 404


def test_the_outsider_gets_404_and_nothing_is_logged(client, world, actor, deliver):
    message = deliver(send, world, actor)
    client.force_login(world.users["gp_b"])

    response = client.get(url(message))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/fhir+json"
    assert Bundle is not None and b"OperationOutcome" in response.content
    assert client.get(url(message, _format="xml")).status_code == 404
    assert not exports(message).exists()


def test_an_export_that_fails_is_a_logged_500_not_a_missing_message(client, world, actor, deliver, caplog):
    from unittest import mock

    message = deliver(send, world, actor)
    client.force_login(world.users["gp_a"])
    with mock.patch("messaging.fhir.views_export.message_bundle", side_effect=ValueError(world.citizen.cpr)):
        response = client.get(url(message))
        xml = client.get(url(message, _format="xml"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/fhir+json"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "exception"
    assert xml.status_code == 500 and xml["Content-Type"] == "application/fhir+xml"
    failures = [r for r in caplog.records if r.name == "smartcare.api"]
    assert len(failures) == 2 and all(r.exc_info for r in failures)
    assert f"error_id={failures[0].args[0]}" in outcome["issue"][0]["diagnostics"]
    assert all(world.citizen.cpr not in r.getMessage() for r in failures)
    # outside the user's access it is still a missing message
    client.force_login(world.users["gp_b"])
    with mock.patch("messaging.fhir.views_export.message_bundle", side_effect=ValueError("x")):
        assert client.get(url(message)).status_code == 404


def test_an_unknown_message_is_404(client, world):
    client.force_login(world.users["gp_a"])
    assert client.get(reverse("fhir:bundle", args=["00000000-0000-4000-8000-000000000000"])).status_code == 404


def test_anonymous_is_refused(client, world, actor, deliver):
    message = deliver(send, world, actor)
    response = client.get(url(message))
    assert response.status_code == 403
    assert not exports(message).exists()


def test_a_portal_notification_answers_404(client, world):
    notice = notice_send(
        organisation=world.clinic_a, citizen=world.citizen, kind=NoticeKind.ALERT_RAISED, text="Ny alarm", key="t:2"
    )
    client.force_login(world.users["gp_a"])
    assert client.get(url(notice)).status_code == 404


# --- the thread page ---------------------------------------------------------------------------------


def test_the_thread_page_links_each_message_to_its_bundle(client, world, actor, deliver):
    message = deliver(send, world, actor)
    reply = deliver(message_reply, actor=actor("homecare_a"), message=message, text="Tak.")
    client.force_login(world.users["gp_a"])

    page = client.get(reverse("messaging:thread", args=[message.thread_id])).content.decode()
    for m in (message, reply):
        assert f'href="{url(m)}?_format=json&amp;download=1"' in page
        assert f'href="{url(m)}?_format=xml&amp;download=1"' in page
    assert "FHIR (JSON)" in page and "FHIR (XML)" in page


def test_the_thread_page_has_no_links_for_a_portal_notification(client, world):
    notice = notice_send(
        organisation=world.clinic_a, citizen=world.citizen, kind=NoticeKind.ALERT_RAISED, text="Ny alarm", key="t:3"
    )
    assert notice.type == MessageType.NOTIFICATION
    client.force_login(world.users["gp_a"])
    page = client.get(reverse("messaging:thread", args=[notice.thread_id])).content.decode()
    assert "Ny alarm" in page
    assert "FHIR (JSON)" not in page
