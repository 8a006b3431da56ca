"""``$process-message`` answers every body in FHIR and never with a 500: XML that is legal but not
FHIR, id-less Organizations, leap seconds, unexpected errors, content negotiation, ambiguous
bundles, values longer than the portal keeps; transient-error only when a resend can succeed."""

from __future__ import annotations

import datetime
import json
import uuid
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, OperationalError
from fhir.resources.R4B.bundle import Bundle
from lxml import etree

from citizens.models import Citizen
from messaging.fhir import codes
from messaging.fhir.errors import Reject
from messaging.fhir.parsing import answer_format, fhir_datetime
from messaging.models import FhirReceipt, HospitalEvent, Message

from . import fixtures_fhir as fx
from .fhir_post import FHIR_JSON, FHIR_XML, NEW_CPR, URL, ack_of, care, counts, notification

FHIR_NS = "http://hl7.org/fhir"


def outcome_of(response, status: int) -> dict:
    """The OperationOutcome of an answer that is no acknowledgement (JSON or XML)."""
    assert response.status_code == status, response.content
    if response["Content-Type"].startswith(FHIR_XML):
        from fhir.resources.R4B.operationoutcome import OperationOutcome

        return json.loads(OperationOutcome.model_validate_xml(response.content).model_dump_json())
    assert response["Content-Type"].startswith(FHIR_JSON)
    data = response.json()
    assert data["resourceType"] == "OperationOutcome"
    return data


def msg_codes(outcome: dict) -> list[str]:
    return [c["code"] for issue in outcome["issue"] for c in (issue.get("details") or {}).get("coding", [])]


# --- 1. XML that is legal XML but no FHIR bundle --------------------------------------------------

NOT_FHIR_XML = {
    "unknown element": b'<Bundle xmlns="http://hl7.org/fhir"><id value="x"/><type value="message"/>'
    b'<bogus value="1"/></Bundle>',
    "foreign namespace": b'<Bundle xmlns="http://hl7.org/fhir"><id value="x"/><type value="message"/>'
    b'<x:y xmlns:x="urn:other" value="1"/></Bundle>',
    "no namespace": b'<Bundle><id value="x"/><type value="message"/></Bundle>',
    "no namespace inside": b'<Bundle xmlns="http://hl7.org/fhir"><id xmlns="" value="x"/></Bundle>',
    "prefixed, no MessageHeader": b'<f:Bundle xmlns:f="http://hl7.org/fhir"><f:id value="x"/>'
    b'<f:type value="message"/></f:Bundle>',
    "processing instruction": b'<Bundle xmlns="http://hl7.org/fhir"><?app do-this?><id value="x"/>'
    b'<type value="message"/></Bundle>',
    "processing instruction on top": b'<?xml-stylesheet href="x.xsl"?><Bundle xmlns="http://hl7.org/fhir">'
    b'<id value="x"/></Bundle>',
    "text content": b'<Bundle xmlns="http://hl7.org/fhir"><id value="x">text</id></Bundle>',
    "another root": b'<Patient xmlns="http://hl7.org/fhir"><id value="x"/></Patient>',
    "unknown attribute": b'<Bundle xmlns="http://hl7.org/fhir"><id value="x" bogus="1"/>'
    b'<type value="message"/></Bundle>',
}


@pytest.mark.parametrize("body", NOT_FHIR_XML.values(), ids=NOT_FHIR_XML.keys())
def test_xml_that_is_no_fhir_bundle_is_400(world, post, body):
    before = counts()
    outcome = outcome_of(post(None, raw=body, fmt="xml"), 400)
    assert outcome["issue"][0]["details"]["text"]
    assert counts() == before


def _with_comments(xml: bytes) -> bytes:
    """A comment before the root, right after ``<Bundle>``, in every entry and at the end."""
    root = etree.fromstring(xml)
    root.insert(0, etree.Comment(" sent by the test "))
    for element in list(root.iter(f"{{{FHIR_NS}}}resource")):
        element.insert(0, etree.Comment(" a resource "))
        element[1].append(etree.Comment(" inside "))
    root.addprevious(etree.Comment(" before "))
    root.addnext(etree.Comment(" after "))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="utf-8")


def _prefixed(xml: bytes) -> bytes:
    """The same document with the FHIR namespace bound to the prefix ``f``."""
    source = etree.fromstring(xml)

    def copy(element, parent):
        made = (
            etree.Element(element.tag, nsmap={"f": FHIR_NS})
            if parent is None
            else etree.SubElement(parent, element.tag)
        )
        for name, value in element.attrib.items():
            made.set(name, value)
        for child in element:
            copy(child, made)
        return made

    return etree.tostring(copy(source, None))


def test_comments_anywhere_in_xml_are_accepted(world, post):
    bundle = care(world)
    xml = _with_comments(fx.as_xml(bundle))
    assert b'<Bundle xmlns="http://hl7.org/fhir"><!-- sent by the test -->' in xml
    ack = ack_of(post(None, raw=xml, fmt="xml"))
    assert ack["code"] == "ok", ack
    assert Message.objects.filter(pk=fx.header_of(bundle)["id"]).exists()


def test_the_fhir_namespace_bound_to_a_prefix_is_read_as_fhir(world, post):
    bundle = care(world)
    xml = _prefixed(fx.as_xml(bundle))
    assert xml.startswith(b'<f:Bundle xmlns:f="http://hl7.org/fhir">')
    assert ack_of(post(None, raw=xml, fmt="xml"))["code"] == "ok"
    assert Message.objects.filter(pk=fx.header_of(bundle)["id"]).exists()


# --- 2. Organizations without an id ---------------------------------------------------------------


def _without_organization_ids(bundle: dict) -> dict:
    """The Organizations named by ``urn:uuid:`` fullUrls and no id (FHIR allows it)."""
    renamed = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Organization":
            urn = f"urn:uuid:{uuid.uuid4()}"
            renamed[f"Organization/{resource.pop('id')}"] = urn
            entry["fullUrl"] = urn
    text = json.dumps(bundle)
    for old, new in renamed.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    return json.loads(text)


def test_id_less_organizations_are_acknowledged(world, post):
    bundle = _without_organization_ids(care(world))
    assert ack_of(post(bundle))["code"] == "ok"


def test_a_refusal_echoing_id_less_organizations_is_a_fatal_error(world, post):
    """gp_b's token may not send for clinic A: the answer echoes the bundle's own Organizations."""
    bundle = _without_organization_ids(care(world))
    ack = ack_of(post(bundle, as_user="gp_b"))
    assert ack["code"] == "fatal-error" and ack["issues"] == ["MSG_RESOURCE_NOT_ALLOWED"]
    ids = [e["resource"]["id"] for e in ack["bundle"]["entry"] if e["resource"]["resourceType"] == "Organization"]
    assert len(ids) == 2 and all(ids)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unexpected_error_is_a_fatal_error_not_a_resend(world, post, caplog, fmt):
    bundle = _without_organization_ids(care(world, receiver=fx.organization(sor="999999999999999", gln="1")))
    with mock.patch("messaging.fhir.incoming.check_bundle_id", side_effect=RuntimeError("bug")):
        ack = ack_of(post(bundle, fmt=fmt))
    assert ack["code"] == "fatal-error"
    assert "$process-message: unexpected error" in caplog.text
    assert not FhirReceipt.objects.exists()  # not kept: once fixed, the message can be processed


def test_a_bug_in_a_service_is_a_fatal_error_and_nothing_is_kept(world, post):
    bundle = care(world)
    before = counts()
    with mock.patch("messaging.services.message_import", side_effect=KeyError("id")):
        ack = ack_of(post(bundle))
    assert ack["code"] == "fatal-error", ack
    assert counts() == before and not FhirReceipt.objects.exists()


# --- 3. dates ---------------------------------------------------------------------------------------


def test_a_leap_second_is_read_as_the_last_millisecond_of_the_minute():
    assert fhir_datetime("2016-12-31T23:59:60+00:00", "x") == datetime.datetime(
        2016, 12, 31, 23, 59, 59, 999000, tzinfo=datetime.UTC
    )
    assert fhir_datetime("2016-12-31T23:59:60.5Z", "x").second == 59


@pytest.mark.parametrize("value", ["2023-02-30T10:00:00+01:00", "2023-01-01T10:00:00", "2023-01-01", "noon"])
def test_a_date_that_cannot_be_read_is_the_senders_error(value):
    with pytest.raises(Reject) as refused:
        fhir_datetime(value, "Encounter.period.start")
    assert refused.value.issue[0] == "MSG_DATE_FORMAT"


def test_a_notification_at_a_leap_second_is_processed(world, post):
    bundle = notification(world, start=datetime.datetime(2016, 12, 31, 12, tzinfo=datetime.UTC))
    fx.resource_of(bundle, "Encounter")["period"]["start"] = "2016-12-31T23:59:60+00:00"
    ack = ack_of(post(bundle, as_user="hospital_nurse"))
    assert ack["code"] == "ok", ack
    event = HospitalEvent.objects.get(message_id=fx.header_of(bundle)["id"])
    assert event.occurred_at == datetime.datetime(2016, 12, 31, 23, 59, 59, 999000, tzinfo=datetime.UTC)


# --- 4. every failure in FHIR -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_405_with_an_operation_outcome(world, client, method):
    response = getattr(client, method)(URL)
    outcome_of(response, 405)
    assert response["Allow"] == "POST"


def test_a_json_body_with_a_byte_order_mark_is_read(world, post):
    bundle = care(world)
    ack = ack_of(post(None, raw=b"\xef\xbb\xbf" + json.dumps(bundle).encode()))
    assert ack["code"] == "ok", ack


def test_an_unexpected_error_in_the_view_is_a_500_operation_outcome(world, post, caplog):
    with mock.patch("messaging.fhir.views.process_message", side_effect=RuntimeError("bug")):
        outcome = outcome_of(post(care(world)), 500)
    assert outcome["issue"][0]["code"] == "exception"
    assert "$process-message: unexpected error" in caplog.text


# --- 5. the answer's format -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_param", "accept", "body", "expected"),
    [
        (None, None, "json", "json"),
        (None, None, "xml", "xml"),
        (None, "*/*", "xml", "xml"),
        (None, "application/fhir+xml", "json", "xml"),
        (None, "application/json", "xml", "json"),
        (None, "text/html, application/xml;q=0.9, application/fhir+json;q=0.5", "json", "xml"),
        (None, "application/fhir+xml;q=0, application/fhir+json", "xml", "json"),
        ("json", "application/fhir+xml", "xml", "json"),
        ("xml", "application/fhir+json", "json", "xml"),
        ("application/fhir+xml", None, "json", "xml"),
        ("application/fhir xml", None, "json", "xml"),  # an unescaped "+" in the query string
        ("text/xml", None, "json", "xml"),
        ("application/json", None, "xml", "json"),
        ("turtle", "application/fhir+xml", "json", "xml"),
    ],
)
def test_answer_format_follows_format_then_accept_then_the_body(format_param, accept, body, expected):
    assert answer_format(format_param=format_param, accept=accept, body_format=body) == expected


def test_the_answer_follows_accept_and_format(world, client, token):
    headers = {"HTTP_AUTHORIZATION": f"Token {token('gp_a')}"}
    body = json.dumps(care(world))
    response = client.post(URL, data=body, content_type=FHIR_JSON, HTTP_ACCEPT="application/fhir+xml", **headers)
    assert response["Content-Type"].startswith(FHIR_XML)
    assert Bundle.model_validate_xml(response.content).type == "message"
    xml = fx.as_xml(care(world))
    response = client.post(f"{URL}?_format=json", data=xml, content_type=FHIR_XML, HTTP_ACCEPT=FHIR_XML, **headers)
    assert response["Content-Type"].startswith(FHIR_JSON)
    assert ack_of(response)["code"] == "ok"
    response = client.post(f"{URL}?_format=xml", data=b"{", content_type=FHIR_JSON, **headers)
    assert msg_codes(outcome_of(response, 400)) == ["MSG_BAD_SYNTAX"]
    assert response["Content-Type"].startswith(FHIR_XML)
    response = client.post(URL, data=body, content_type=FHIR_JSON, HTTP_ACCEPT=FHIR_XML)  # no token
    outcome_of(response, 401)
    assert response["Content-Type"].startswith(FHIR_XML)


# --- 6. ambiguous bundles and values too long -------------------------------------------------------


def _refused(post, bundle, msg_code, **kwargs):
    before = counts()
    ack = ack_of(post(bundle, **kwargs))
    assert ack["code"] == "fatal-error", ack
    assert ack["issues"] == [msg_code], ack["issues"]
    assert counts() == before
    return ack


def test_two_entries_with_the_same_full_url_are_refused(world, post):
    bundle = care(world)
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    other = {"fullUrl": patient["fullUrl"], "resource": dict(patient["resource"], id=str(uuid.uuid4()))}
    bundle["entry"].append(other)
    _refused(post, bundle, "MSG_DUPLICATE_ID")


def test_two_entries_with_the_same_type_and_id_are_refused(world, post):
    bundle = care(world)
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    bundle["entry"].append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": dict(patient["resource"])})
    _refused(post, bundle, "MSG_DUPLICATE_ID")
    assert not FhirReceipt.objects.exists()


@pytest.mark.parametrize("mismatch", ["gln", "sor"])
def test_the_sender_must_match_its_sor_code_and_its_gln(world, post, mismatch):
    bundle = care(world)
    sender = fx.resource_of(bundle, "Organization")
    other = world.clinic_b
    for identifier in sender["identifier"]:
        if mismatch == "gln" and identifier["system"] == codes.GLN:
            identifier["value"] = other.gln
        if mismatch == "sor" and identifier["system"] == codes.SOR:
            identifier["value"] = other.sor_code
    ack = _refused(post, bundle, "MSG_PARAM_INVALID")
    assert "SOR" in ack["texts"][0] and "GLN" in ack["texts"][0]
    assert not FhirReceipt.objects.exists()
    # the same message with the right identifiers, afterwards
    bundle = care(world)
    assert ack_of(post(bundle))["code"] == "ok"


def test_a_receiver_whose_sor_code_and_gln_name_two_organisations_is_unknown(world, post):
    receiver = fx.organization(sor=world.municipality_a.sor_code, gln=world.municipality_b.gln)
    _refused(post, care(world, receiver=receiver), "MSG_Receiver_Identifier_UNKNOWN")


def test_a_topic_longer_than_the_portal_keeps_is_refused(world, post):
    ack = _refused(post, care(world, category="other", topic="x" * 201), "MSG_Element_To_Long")
    assert "200" in ack["texts"][0]


def test_an_author_name_longer_than_the_portal_keeps_is_refused(world, post):
    bundle = care(world)
    fx.resource_of(bundle, "Practitioner")["name"] = [{"family": "H" * 150, "given": ["M" * 60]}]
    _refused(post, bundle, "MSG_Element_To_Long")


def test_an_attachment_title_longer_than_the_portal_keeps_is_refused(world, post, settings, tmp_path):
    from .helpers import PDF

    settings.MEDIA_ROOT = tmp_path
    _refused(post, care(world, attachments=[("T" * 260, "application/pdf", PDF)]), "MSG_Element_To_Long")


def test_a_patient_name_longer_than_the_portal_keeps_is_refused(world, post):
    bundle = notification(world, last_name="L" * 101)
    _refused(post, bundle, "MSG_Element_To_Long", as_user="hospital_nurse")
    assert not Citizen.objects.filter(cpr=NEW_CPR).exists()


def test_a_service_validation_error_is_a_fatal_error(world, post):
    bundle = notification(world)
    error = ValidationError({"occurred_at": ["The time is before the citizen was born."]})
    with mock.patch("messaging.services.hospital_event_record", side_effect=error):
        ack = _refused(post, bundle, "MSG_PARAM_INVALID", as_user="hospital_nurse")
    assert ack["texts"] == ["The time is before the citizen was born."]


def test_a_service_max_length_error_is_element_too_long(world, post):
    error = ValidationError({"topic": [ValidationError("Too long.", code="max_length")]})
    with mock.patch("messaging.services.message_import", side_effect=error):
        _refused(post, care(world), "MSG_Element_To_Long")


# --- transient only when a resend can succeed -------------------------------------------------------


def test_data_the_database_refuses_is_a_fatal_error(world, post):
    with mock.patch("messaging.services.message_import", side_effect=DataError("value too long")):
        ack = ack_of(post(care(world)))
    assert ack["code"] == "fatal-error"


def test_a_deadlock_is_a_transient_error(world, post):
    with mock.patch("messaging.services.message_import", side_effect=OperationalError("deadlock detected")):
        ack = ack_of(post(care(world)))
    assert ack["code"] == "transient-error" and ack["issues"] == ["MSG_Mailbox_Out_Of_Operation"]


def test_an_integrity_error_is_tried_again_once_then_a_fatal_error(world, post):
    bundle = care(world)
    with mock.patch("messaging.services.message_import", side_effect=IntegrityError("unique")) as service:
        ack = ack_of(post(bundle))
    assert ack["code"] == "fatal-error" and service.call_count == 2
    assert ack_of(post(bundle))["code"] == "ok"  # nothing kept: the resend is processed


def test_an_acknowledgement_is_never_acknowledged_even_when_the_portal_fails(world, actor, post):
    from .helpers import send

    message = send(world, actor)
    bundle = fx.acknowledgement(sender=world.municipality_a, receiver=world.clinic_a, acknowledged=str(message.pk))
    with mock.patch("messaging.services.acknowledgement_record", side_effect=RuntimeError("bug")):
        outcome = outcome_of(post(bundle, as_user="homecare_a"), 422)
    assert outcome["resourceType"] == "OperationOutcome"
    with mock.patch("messaging.services.acknowledgement_record", side_effect=OperationalError("gone")):
        outcome_of(post(bundle, as_user="homecare_a"), 503)
