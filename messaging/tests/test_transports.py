"""The transports only send and answer with what happened; the engine (``messaging.delivery``)
acts on the answer through the services, and the services hand deliveries to the worker through
``messaging.enqueue``."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging import enqueue
from messaging.choices import AckCode, AttemptOutcome
from messaging.delivery import _claim, delivery_run
from messaging.fhir.acknowledgement import acknowledgement_bundle
from messaging.models import Delivery, Recipient
from messaging.transports import Sent
from messaging.transports.webhook import webhook as webhook_transport

from .fhir_post import FHIR_JSON
from .helpers import send, webhook


def _ok(content: bytes) -> mock.Mock:
    return mock.Mock(status_code=200, text="", content=content, headers={"Content-Type": FHIR_JSON})


def test_the_webhook_transport_returns_the_acknowledgement_and_the_engine_records_it(world, actor):
    webhook(world.municipality_a)
    message = send(world, actor)
    hook = Delivery.objects.get(message=message, channel="webhook")
    answer = acknowledgement_bundle(
        acknowledged_header_id=str(message.pk), sender=world.municipality_a, receiver=world.clinic_a, code="ok"
    ).model_dump_json()
    with mock.patch("messaging.transports.webhook.requests.post", return_value=_ok(answer.encode())):
        sent = webhook_transport(_claim(hook.pk))
    assert sent == Sent(AttemptOutcome.OK, answer.encode(), FHIR_JSON)
    assert Recipient.objects.get(message=message).acknowledged_at is None  # the transport records nothing

    Delivery.objects.filter(pk=hook.pk).update(status="pending")
    with mock.patch("messaging.transports.webhook.requests.post", return_value=_ok(answer.encode())):
        assert delivery_run(hook.pk).status == "delivered"
    assert Recipient.objects.get(message=message).ack_code == AckCode.OK


def test_services_enqueue_their_deliveries_once_the_transaction_commits(
    world, actor, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued: list[int] = []
    monkeypatch.setattr(enqueue, "_ENQUEUER", [enqueued.extend])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = send(world, actor)
    assert enqueued == []
    for callback in callbacks:
        callback()
    assert sorted(enqueued) == sorted(Delivery.objects.filter(message=message).values_list("pk", flat=True))


def test_a_delivery_is_never_written_without_a_worker_to_tell(monkeypatch):
    monkeypatch.setattr(enqueue, "_ENQUEUER", [])
    enqueue.deliver_on_commit([])  # nothing to enqueue, nothing to complain about
    with pytest.raises(ImproperlyConfigured):
        enqueue.deliver_on_commit([1])


def test_the_delivery_task_is_registered_from_ready():
    from messaging.tasks import _deliver_later

    registered = enqueue._ENQUEUER
    assert registered == [_deliver_later]
