"""A delivery cut short by the task's soft time limit is not lost: the row waits for the next
attempt or the sweeper, and nothing is marked delivered that was not."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone
from freezegun import freeze_time

from messaging.choices import AttemptOutcome, Category, Channel, DeliveryStatus
from messaging.delivery import deliveries_sweep, delivery_run
from messaging.models import Delivery

from .helpers import deliveries, in_app, send, webhook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.MESSAGING_WEBHOOK_REQUIRE_HTTPS = False
    settings.MESSAGING_BACKOFF_SECONDS = 30
    settings.MESSAGING_SWEEP_GRACE_SECONDS = 60


def test_a_webhook_attempt_cut_short_is_retried(world, actor):
    webhook(world.municipality_a)
    message = send(world, actor, category=Category.MEDICINE, text="Ny medicin.")
    hook = deliveries(message, world.municipality_a, Channel.WEBHOOK).get()

    with mock.patch("messaging.transports.webhook.requests.post", side_effect=SoftTimeLimitExceeded(240)):
        outcome = delivery_run(hook.pk)

    assert outcome.status == DeliveryStatus.PENDING
    assert outcome.retry_in == 30
    row = Delivery.objects.get(pk=hook.pk)
    assert (row.status, row.attempts, row.claimed_at) == (DeliveryStatus.PENDING, 1, None)
    assert row.attempt_log.get().outcome == AttemptOutcome.TRANSIENT


def test_an_in_app_delivery_cut_short_is_left_for_the_sweeper(world, actor):
    message = send(world, actor, category=Category.MEDICINE, text="Ny medicin.")
    delivery = in_app(message, world.municipality_a)

    with (
        mock.patch("messaging.services.message_receive", side_effect=SoftTimeLimitExceeded(240)),
        pytest.raises(SoftTimeLimitExceeded),
    ):
        delivery_run(delivery.pk)

    row = Delivery.objects.get(pk=delivery.pk)
    assert (row.status, row.attempts, row.delivered_at) == (DeliveryStatus.PENDING, 0, None)
    assert not row.attempt_log.exists()
    with freeze_time(timezone.now() + datetime.timedelta(minutes=5)):
        assert delivery.pk in deliveries_sweep(queue_empty=True)  # the task is gone: it ended
    assert delivery_run(delivery.pk).status == DeliveryStatus.DELIVERED
