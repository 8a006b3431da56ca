"""When the database gives up or the portal fails, the FHIR API still answers an OperationOutcome:
503 with ``Retry-After`` for a transaction the database kept aborting (nothing is stored, a device
sends again), 500 with an error id the log has too for anything else, never Django's HTML page."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import OperationalError

from careplans.models import Observation
from citizens.tests.fhir_client import FhirClient
from tests.dberrors import database_error

from .test_fhir_monitoring import posted, transaction

pytestmark = pytest.mark.django_db
DEADLOCK = "40P01"


@pytest.fixture
def fhir(client, token):
    client.raise_request_exception = False
    return lambda name="gp_a": FhirClient(client, token(name))


@pytest.fixture
def deadlock(monkeypatch):
    def give_up(**kwargs):
        raise database_error(DEADLOCK)

    monkeypatch.setattr("careplans.monitoring.observation_record", give_up)
    monkeypatch.setattr("careplans.monitoring.observation_bulk_record", give_up)


def test_a_write_the_database_kept_aborting_is_a_503_with_retry_after(world, fhir, deadlock, caplog):
    with caplog.at_level(logging.WARNING, logger="citizens.fhir.views"):
        response = fhir().client.post(
            "/fhir/Observation",
            json.dumps(posted(world.citizen)),
            content_type="application/fhir+json",
            **fhir().headers,
        )
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "transient"
    assert "send the request again" in body["issue"][0]["diagnostics"]
    assert not Observation.objects.exists()
    assert "fhir_busy" in caplog.text and world.citizen.cpr not in caplog.text


def test_a_transaction_the_database_kept_aborting_is_a_503(world, fhir, deadlock):
    answer = fhir().post("", transaction(posted(world.citizen)), status=503)
    assert answer["issue"][0]["code"] == "transient"
    assert not Observation.objects.exists()


def test_another_database_error_on_a_read_is_a_500_operation_outcome_with_an_id(world, fhir, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("citizens.fhir.search.read", broken)
    with caplog.at_level(logging.ERROR, logger="citizens.fhir.views"):
        answer = fhir().get(f"Patient/{world.citizen.pk}", status=500)
    assert answer["issue"][0]["code"] == "exception"
    error_id = answer["issue"][0]["diagnostics"].rsplit("=", 1)[1]
    assert len(error_id) == 12 and error_id in caplog.text


def test_an_unexpected_error_on_a_search_is_a_500_operation_outcome(world, fhir, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr("citizens.fhir.search.search", broken)
    answer = fhir().get("Patient", {"_format": "json"}, status=500)
    assert answer["resourceType"] == "OperationOutcome" and answer["issue"][0]["code"] == "exception"
