"""``$process-message`` knows its sender the way the rest of the API does: the token and its user
come from the identity cache (``sectors.identity``), so a system that sends message after message
costs no token query after the first; a revoked token or a deactivated user is refused at once,
with the same OperationOutcome as a missing token."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from messaging.choices import MessageType
from messaging.models import Message

from .fhir_post import FHIR_JSON, URL, ack_of, care

pytestmark = pytest.mark.django_db

TOKEN_TABLE = Token._meta.db_table


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    def _send(world, key: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                URL, data=json.dumps(care(world)), content_type=FHIR_JSON, HTTP_AUTHORIZATION=f"Token {key}"
            )

    return _send


def token_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if f'"{TOKEN_TABLE}"' in q["sql"]]


def refused(response) -> dict:
    """The answer to a request without a usable token: 401, ``WWW-Authenticate: Token``, one issue."""
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Token"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = outcome["issue"]
    return issue


def test_a_second_message_with_the_same_token_reads_no_token(world, token, send):
    key = token("gp_a")
    with CaptureQueriesContext(connection) as first:
        assert ack_of(send(world, key))["code"] == "ok"
    with CaptureQueriesContext(connection) as second:
        assert ack_of(send(world, key))["code"] == "ok"

    assert token_queries(first)  # the identity cache starts empty: the first request reads the token
    assert token_queries(second) == []
    assert len(second) < len(first)
    assert Message.objects.filter(type=MessageType.CARE_COMMUNICATION).count() == 2


def test_a_revoked_token_is_refused_like_a_missing_one(world, token, send, client):
    key = token("gp_a")
    ack_of(send(world, key))  # cached
    Token.objects.filter(key=key).delete()

    missing = refused(client.post(URL, data=json.dumps(care(world)), content_type=FHIR_JSON))
    assert refused(send(world, key)) == missing
    assert missing["code"] == "login"
    assert Message.objects.filter(type=MessageType.CARE_COMMUNICATION).count() == 1


def test_a_deactivated_users_token_is_refused(world, token, send, client):
    key = token("gp_a")
    ack_of(send(world, key))  # cached
    user = world.users["gp_a"]
    user.is_active = False
    user.save(update_fields=["is_active"])

    missing = refused(client.post(URL, data=json.dumps(care(world)), content_type=FHIR_JSON))
    assert refused(send(world, key)) == missing
    assert Message.objects.filter(type=MessageType.CARE_COMMUNICATION).count() == 1
