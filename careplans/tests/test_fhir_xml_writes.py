"""The FHIR API's writes in FHIR XML: a home-monitoring device that speaks XML posts Observations
and transaction Bundles as a JSON device does, with the same checks, thresholds and alerts, and is
answered in XML; what is no FHIR XML is a 400 OperationOutcome, never a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation as FhirObservation
from lxml import etree

from careplans.choices import AlertSeverity, ObservationCode, ThresholdCode
from careplans.models import Alert, Observation
from careplans.monitoring import threshold_set
from citizens.fhir.http import FHIR_XML
from citizens.tests.fhir_client import FhirClient

from .test_fhir_monitoring import posted

pytestmark = pytest.mark.django_db
FHIR_NS = "{http://hl7.org/fhir}"


@pytest.fixture
def fhir(client, token):
    return lambda name="gp_a": FhirClient(client, token(name))


@pytest.fixture
def weight_limits(world, actor):
    threshold_set(
        actor=actor("gp_a"),
        citizen=world.citizen,
        code=ThresholdCode.BODY_WEIGHT,
        reason="HF",
        yellow_high=80,
        red_high=85,
    )


def as_xml(resource: dict) -> bytes:
    return FhirObservation.model_validate(resource).model_dump_xml()


def transaction_xml(*resources: dict) -> bytes:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in resources],
    }
    return Bundle.model_validate(bundle).model_dump_xml()


def xml_of(answer: dict) -> etree._Element:
    return etree.fromstring(answer["xml"])


def test_an_observation_posted_in_xml_is_stored_with_its_alert_and_answered_in_xml(world, fhir, weight_limits):
    answer = fhir().post("Observation", as_xml(posted(world.citizen, "86.35")), content_type=FHIR_XML)
    root = xml_of(answer)
    assert root.tag == f"{FHIR_NS}Observation"
    stored = Observation.objects.get()
    assert root.find(f"{FHIR_NS}id").get("value") == str(stored.pk)
    assert stored.value == Decimal("86.35") and stored.citizen == world.citizen
    assert stored.code == ObservationCode.BODY_WEIGHT
    assert Alert.objects.get().severity == AlertSeverity.RED
    # The same reading again is a resend (200), and Accept asks for the answer in JSON.
    again = fhir().post(
        "Observation",
        as_xml(posted(world.citizen, "86.35")),
        content_type="application/xml",
        status=200,
        HTTP_ACCEPT="application/fhir+json",
    )
    assert again["id"] == str(stored.pk) and Observation.objects.count() == 1


def test_a_transaction_in_xml_stores_every_entry(world, fhir):
    body = transaction_xml(
        posted(world.citizen, "72.5", identifier=[{"value": "x-1"}]),
        posted(world.citizen, "73.0", identifier=[{"value": "x-2"}]),
    )
    root = xml_of(fhir().post("", body, content_type=FHIR_XML, status=200))
    assert root.find(f"{FHIR_NS}type").get("value") == "transaction-response"
    statuses = [e.find(f"{FHIR_NS}status").get("value") for e in root.iter(f"{FHIR_NS}response")]
    assert statuses == ["201 Created", "201 Created"]
    assert sorted(Observation.objects.values_list("value", flat=True)) == [Decimal("72.5"), Decimal("73.0")]


def test_a_transaction_in_xml_with_a_wrong_entry_stores_nothing(world, fhir):
    body = transaction_xml(
        posted(world.citizen, "72.5", identifier=[{"value": "x-1"}]),
        posted(world.citizen, "900", identifier=[{"value": "x-2"}]),
    )
    answer = fhir().post("", body, content_type=FHIR_XML, status=400, HTTP_ACCEPT="application/fhir+json")
    expressions = [e for i in answer["issue"] for e in i.get("expression", [])]
    assert "Bundle.entry[1].resource.valueQuantity.value" in expressions
    assert not Observation.objects.exists()


def test_the_outsider_cannot_post_xml_for_a_patient_it_cannot_see(world, fhir):
    answer = fhir("gp_b").post(
        "Observation",
        as_xml(posted(world.citizen)),
        content_type=FHIR_XML,
        status=400,
        HTTP_ACCEPT="application/fhir+json",
    )
    assert answer["issue"][0]["expression"] == ["Observation.subject"]
    assert not Observation.objects.exists()


def _with_value(world, value: str) -> bytes:
    return as_xml(posted(world.citizen)).replace(b'<value value="72.5"/>', f'<value value="{value}"/>'.encode())


@pytest.mark.parametrize(
    ("make", "expression"),
    [
        (lambda world: b"<Observation", None),
        (lambda world: b"<Observation xmlns='urn:other'/>", None),
        (lambda world: b"<Nothing xmlns='http://hl7.org/fhir'/>", None),
        (lambda world: b"<Observation xmlns='http://hl7.org/fhir'>text</Observation>", None),
        (
            lambda world: (
                b"<Observation xmlns='http://hl7.org/fhir'><status value='final'/><x:y xmlns:x='urn:x'/></Observation>"
            ),
            None,
        ),
        (
            lambda world: (
                b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'e'>]><Observation xmlns='http://hl7.org/fhir'/>"
            ),
            None,
        ),
        (lambda world: b"<Observation xmlns='http://hl7.org/fhir'><colour value='blue'/></Observation>", None),
        (lambda world: b"<Patient xmlns='http://hl7.org/fhir'/>", "Observation.resourceType"),
        (lambda world: _with_value(world, "heavy"), "Observation.value"),
        (lambda world: _with_value(world, "900"), "Observation.valueQuantity.value"),
    ],
)
def test_xml_that_is_no_valid_observation_is_a_400_operation_outcome(world, fhir, make, expression):
    answer = fhir().post(
        "Observation", make(world), content_type=FHIR_XML, status=400, HTTP_ACCEPT="application/fhir+json"
    )
    assert answer["resourceType"] == "OperationOutcome"
    if expression:
        assert any(expression in e for i in answer["issue"] for e in i.get("expression", [])), answer
    assert not Observation.objects.exists()


def test_an_error_for_an_xml_body_is_answered_in_xml(world, fhir):
    answer = fhir().post("Observation", b"<Observation", content_type=FHIR_XML, status=400)
    assert xml_of(answer).tag == f"{FHIR_NS}OperationOutcome"
