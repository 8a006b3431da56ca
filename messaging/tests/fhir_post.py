"""Bundles for ``$process-message`` in the tests, and reading the acknowledgement that comes back
(the ``token`` and ``post`` fixtures are in the root conftest)."""

from __future__ import annotations

import datetime
import json

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from citizens.models import Citizen, HospitalStay
from messaging.fhir import codes
from messaging.models import Message, Recipient

from . import fixtures_fhir as fx

URL = "/fhir/$process-message"
FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
NEW_CPR = "1503751118"


def ack_of(response) -> dict:
    """The acknowledgement in the answer: (response code, MSG_ codes, the bundle as JSON)."""
    assert response.status_code == 200, response.content
    if response["Content-Type"].startswith(FHIR_XML):
        data = json.loads(Bundle.model_validate_xml(response.content).model_dump_json())
    else:
        data = response.json()
    header = fx.header_of(data)
    assert header["eventCoding"]["code"] == codes.EVENT_ACKNOWLEDGEMENT
    issues = [
        coding["code"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
        for issue in e["resource"]["issue"]
        for coding in issue["details"].get("coding", [])
    ]
    texts = [
        issue["details"]["text"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
        for issue in e["resource"]["issue"]
    ]
    return {
        "code": header["response"]["code"],
        "acknowledged": header["response"]["identifier"],
        "issues": issues,
        "texts": texts,
        "bundle": data,
    }


def care(world, **kwargs):
    kwargs.setdefault("sender", world.clinic_a)
    kwargs.setdefault("receiver", world.municipality_a)
    kwargs.setdefault("cpr", world.citizen.cpr)
    return fx.care_communication(**kwargs)


def counts():
    return (Message.objects.count(), Recipient.objects.count(), Citizen.objects.count(), HospitalStay.objects.count())


def notification(world, **kwargs):
    kwargs.setdefault("sender", world.department)
    kwargs.setdefault("receiver", world.municipality_a)
    kwargs.setdefault("cpr", NEW_CPR)
    kwargs.setdefault("start", timezone.now() - datetime.timedelta(hours=3))
    return fx.hospital_notification(**kwargs)
