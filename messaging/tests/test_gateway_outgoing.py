"""Messages to organisations outside the portal leave through the gateway's webhook as MedCom
bundles, with the same outbox, retries and acknowledgements as any delivery."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from messaging.choices import AckCode, Category, Channel, DeliveryStatus
from messaging.fhir import codes
from messaging.models import Delivery, Recipient
from messaging.services import message_send
from messaging.transports.webhook import sign
from sectors.services import gateway_create
from sectors.tests.factories import ExternalOrganisationFactory

from . import fixtures_fhir as fx
from .fhir_post import FHIR_JSON, URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(db):
    return ExternalOrganisationFactory(name="Aarhus Universitetshospital, Geriatrisk afdeling")


@pytest.fixture
def gateway(db, settings):
    settings.MESSAGING_WEBHOOK_REQUIRE_HTTPS = False
    return gateway_create(
        by=None, name="MedCom EHMI", webhook_url="https://gateway.example.org/out", webhook_secret="s3cret"
    )


@pytest.fixture
def webhook_post():
    with mock.patch("messaging.transports.webhook.requests.post") as post:
        post.return_value = mock.Mock(status_code=200, text="ok", content=b"", headers={})
        yield post


def test_without_a_gateway_an_external_organisation_cannot_be_written_to(world, actor, elsewhere):
    with pytest.raises(ValidationError, match="no gateway"):
        message_send(
            actor=actor("gp_a"), citizen=world.citizen, receiver=elsewhere, category=Category.NURSING, text="x"
        )


def test_a_message_to_an_external_organisation_leaves_through_the_gateway(
    world, actor, elsewhere, gateway, webhook_post, deliver
):
    message = deliver(
        message_send,
        actor=actor("gp_a"),
        citizen=world.citizen,
        receiver=elsewhere,
        category=Category.NURSING,
        text="Til orientering.",
    )
    delivery = Delivery.objects.get(message=message)  # no inbox outside the portal: only the gateway
    assert (delivery.channel, delivery.status) == (Channel.WEBHOOK, DeliveryStatus.DELIVERED)
    (url,), call = webhook_post.call_args
    assert url == "https://gateway.example.org/out"
    body = call["data"]
    assert call["headers"]["X-SmartCare-Signature"] == sign("s3cret", body)
    bundle = json.loads(body)
    receiver = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Organization"
        and {"system": codes.SOR, "value": elsewhere.sor_code} in e["resource"]["identifier"]
    )
    assert receiver["name"] == elsewhere.name


def test_the_external_receivers_acknowledgement_comes_back_through_the_gateway(
    world, actor, elsewhere, gateway, webhook_post, deliver, client
):
    message = deliver(
        message_send,
        actor=actor("gp_a"),
        citizen=world.citizen,
        receiver=elsewhere,
        category=Category.NURSING,
        text="x",
    )
    ack = fx.acknowledgement(sender=elsewhere, receiver=world.clinic_a, acknowledged=message.header_id)
    response = client.post(URL, data=json.dumps(ack), content_type=FHIR_JSON, HTTP_AUTHORIZATION=f"Token {gateway[1]}")
    assert response.status_code == 200, response.content[:300]
    recipient = Recipient.objects.get(message=message, organisation=elsewhere)
    assert recipient.acknowledged_at is not None and recipient.ack_code == AckCode.OK


def test_a_refused_delivery_is_shown_to_the_sender(world, actor, elsewhere, gateway, webhook_post, deliver):
    webhook_post.return_value = mock.Mock(status_code=400, text="unknown receiver", content=b"", headers={})
    message = deliver(
        message_send,
        actor=actor("gp_a"),
        citizen=world.citizen,
        receiver=elsewhere,
        category=Category.NURSING,
        text="x",
    )
    assert Delivery.objects.get(message=message).status == DeliveryStatus.FAILED
    notice = Recipient.objects.filter(organisation=world.clinic_a, message__text__contains=elsewhere.name)
    assert notice.exists()
