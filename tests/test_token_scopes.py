"""Token scopes across the APIs (issue #15 §2): a token limited to reading, to writing observations or
to ``$process-message`` is refused everything else with 403 (the API's error body; an
OperationOutcome on ``$process-message``), and a token without a scope keeps its full rights."""

from __future__ import annotations

import datetime
import json

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from careplans.choices import ObservationCode
from careplans.models import Observation
from messaging.choices import MessageType
from messaging.models import FhirCall, Message
from messaging.tests.fhir_post import FHIR_JSON, URL, ack_of, care
from sectors.choices import TokenUse
from sectors.services import token_scope_set

pytestmark = pytest.mark.django_db


def scoped(world, token, name: str, uses: list[str], resource_types: list[str] | None = None) -> APIClient:
    """A DRF client with the token of the world user ``name``, limited to ``uses``; English answers."""
    token_scope_set(by=None, user=world.users[name], uses=uses, resource_types=resource_types or [])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token(name)}")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def reading(world) -> dict:
    return {
        "citizen": str(world.citizen.pk),
        "code": ObservationCode.BODY_WEIGHT,
        "value": "72.5",
        "unit": "kg",
        "effective_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
        "source": "device",
    }


def refused(response) -> dict:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "token_scope"
    return body


def test_a_read_token_reads_and_is_refused_every_change(world, token):
    client = scoped(world, token, "gp_a", [TokenUse.READ])
    assert client.get("/api/v1/citizens/").status_code == 200
    assert client.get(f"/api/v1/citizens/{world.citizen.pk}/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200

    body = refused(client.post("/api/v1/observations/", reading(world), format="json"))
    assert body["detail"] == "This token may not write observations. Its scope allows: read."
    refused(client.post("/api/v1/observations/bulk/", {"items": [reading(world)]}, format="json"))
    refused(client.patch(f"/api/v1/citizens/{world.citizen.pk}/", {"phone": "12345678"}, format="json"))
    assert not Observation.objects.exists()


def test_a_write_observations_token_records_observations_and_nothing_else(world, token):
    client = scoped(world, token, "gp_a", [TokenUse.WRITE_OBSERVATIONS])
    created = client.post("/api/v1/observations/", reading(world), format="json")
    assert created.status_code == 201, created.content
    assert client.post("/api/v1/observations/bulk/", {"items": [reading(world)]}, format="json").status_code == 201
    assert Observation.objects.count() == 2

    body = refused(client.get("/api/v1/citizens/"))
    assert body["detail"] == "This token may not read. Its scope allows: write observations."
    refused(client.get(f"/api/v1/observations/{created.json()['id']}/"))
    refused(client.post(f"/api/v1/observations/{created.json()['id']}/correct/", {"entered_in_error": True}))
    refused(client.post("/api/v1/messages/", {"citizen": str(world.citizen.pk)}, format="json"))
    refused(client.post("/api/v1/careplans/", {"title": "X"}, format="json"))


def test_resource_types_limit_the_rest_api_by_its_fhir_types(world, token):
    client = scoped(world, token, "gp_a", [TokenUse.READ], ["Observation"])
    assert client.get("/api/v1/observations/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200  # about the caller, no resource type
    body = refused(client.get("/api/v1/citizens/"))
    assert body["detail"] == "This token may not be used for Patient. Its scope covers: Observation."
    refused(client.get("/api/v1/deliveries/"))  # no FHIR type: closed to a token limited to types


def test_a_process_message_token_sends_messages_and_cannot_read(world, token, post):
    client = scoped(world, token, "gp_a", [TokenUse.PROCESS_MESSAGE])
    assert ack_of(post(care(world)))["code"] == "ok"
    assert Message.objects.filter(type=MessageType.CARE_COMMUNICATION).count() == 1
    refused(client.get("/api/v1/citizens/"))
    refused(client.get("/api/v1/me/"))


def test_a_token_scoped_out_of_process_message_gets_a_403_operation_outcome(world, token, post):
    scoped(world, token, "gp_a", [TokenUse.READ, TokenUse.WRITE_OBSERVATIONS])
    response = post(care(world))

    assert response.status_code == 403
    assert response["Content-Type"].startswith(FHIR_JSON)
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = outcome["issue"]
    assert issue["code"] == "forbidden"
    assert "$process-message" in issue["diagnostics"]
    assert not Message.objects.exists()
    call = FhirCall.objects.get()  # shown on the gateways-and-integrations page
    assert (call.user, call.status) == (world.users["gp_a"], 403)


def test_a_token_scoped_out_of_process_message_is_refused_in_xml_when_xml_is_asked_for(world, token, client):
    scoped(world, token, "gp_a", [TokenUse.READ])
    response = client.post(
        URL + "?_format=xml",
        data=json.dumps(care(world)),
        content_type=FHIR_JSON,
        HTTP_AUTHORIZATION=f"Token {token('gp_a')}",
    )
    assert response.status_code == 403
    assert b"<OperationOutcome" in response.content and b"forbidden" in response.content


def test_the_fhir_bundle_read_needs_read_and_the_bundle_type(world, token, post):
    post(care(world))
    message = Message.objects.get(type=MessageType.CARE_COMMUNICATION)
    url = f"/fhir/Bundle/{message.pk}"
    receiver = "homecare_a"
    assert scoped(world, token, receiver, [TokenUse.READ]).get(url).status_code == 200

    response = scoped(world, token, receiver, [TokenUse.READ], ["Patient"]).get(url)
    assert response.status_code == 403
    [issue] = response.json()["issue"]
    assert issue["code"] == "forbidden"
    assert issue["diagnostics"] == "This token may not be used for Bundle. Its scope covers: Patient."


def test_a_token_without_a_scope_keeps_its_full_rights(world, token, post):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token('gp_a')}")
    assert client.get("/api/v1/citizens/").status_code == 200
    assert client.post("/api/v1/observations/", reading(world), format="json").status_code == 201
    assert ack_of(post(care(world)))["code"] == "ok"


def test_a_scope_that_names_nothing_is_full_rights(world, token):
    client = scoped(world, token, "gp_a", [])
    assert client.get("/api/v1/citizens/").status_code == 200
    assert client.post("/api/v1/observations/", reading(world), format="json").status_code == 201


def test_people_signed_in_are_never_limited_by_their_token_scope(world, token):
    scoped(world, token, "gp_a", [TokenUse.PROCESS_MESSAGE], ["Bundle"])
    client = APIClient()
    client.force_login(world.users["gp_a"])
    assert client.get("/api/v1/citizens/").status_code == 200
    assert client.post("/api/v1/observations/", reading(world), format="json").status_code == 201


def test_a_changed_scope_counts_at_the_next_request(world, token):
    client = scoped(world, token, "gp_a", [TokenUse.READ])
    assert client.get("/api/v1/citizens/").status_code == 200  # identity cached
    token_scope_set(by=None, user=world.users["gp_a"], uses=[TokenUse.WRITE_OBSERVATIONS], resource_types=[])
    refused(client.get("/api/v1/citizens/"))
    token_scope_set(by=None, user=world.users["gp_a"], uses=[], resource_types=[])
    assert client.get("/api/v1/citizens/").status_code == 200
