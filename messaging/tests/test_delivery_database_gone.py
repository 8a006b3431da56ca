"""The database gone for a moment (PostgreSQL restarting, a connection cut) while a delivery task
runs: the task is run again shortly with backoff, a bounded number of times, and each delivery
still happens once. Other database errors are not retried. The sweeper loses nothing either."""

from __future__ import annotations

import datetime
import functools
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.db import DEFAULT_DB_ALIAS, DataError, InterfaceError, OperationalError, connections

from messaging.choices import Category, Channel, DeliveryStatus
from messaging.delivery import deliveries_sweep
from messaging.models import Delivery
from messaging.tasks import deliver_task, deliveries_sweep_task, deliveries_task
from smartcare.taskretry import (
    MAX_RETRIES,
    RETRY_BACKOFF_MAX_SECONDS,
    DatabaseUnavailable,
    connection_lost,
    connections_reset,
)
from tests.dberrors import database_error

from .helpers import acknowledgements, deliveries, in_app, send, webhook

pytestmark = pytest.mark.django_db

GONE = "server closed the connection unexpectedly"


def lost() -> OperationalError:
    """What psycopg says when PostgreSQL went away mid-query: no SQLSTATE, the server did not answer."""
    error = database_error(None)
    error.args = (GONE,)
    return error


@contextmanager
def failing(target: str, *errors: Exception) -> Iterator[mock.MagicMock]:
    """``target`` raises ``errors`` on its first calls, one each, then does its work."""
    real = pkgutil.resolve_name(target)
    pending = list(errors)

    def effect(*args, **kwargs):
        if pending:
            raise pending.pop(0)
        return real(*args, **kwargs)

    with mock.patch(target, side_effect=effect) as patched:
        yield patched


@pytest.fixture
def message(world, actor):
    """Sent to a municipality with a webhook: an in-app and a webhook delivery (not run yet)."""
    webhook(world.municipality_a)
    return send(world, actor, category=Category.MEDICINE, text="Ny medicin")


@pytest.fixture
def webhook_post():
    with mock.patch("messaging.transports.webhook.requests.post") as webhook_post:
        webhook_post.return_value = mock.Mock(status_code=200, text="ok")
        yield webhook_post


def retry_of(run, *args) -> Retry:
    """Run the task eagerly and answer the retry it asked for (run ``.sig.apply()`` to do it)."""
    with pytest.raises(Retry) as retried:
        run(*args)
    return retried.value


def retries(task) -> mock._patch:
    return mock.patch.object(task, "retry", wraps=task.retry)


# --- which errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "gone"),
    [
        (database_error(None), True),  # the driver: no answer from the server
        (database_error("08006"), True),  # connection failure
        (database_error("57P01"), True),  # the server is shutting down (a restart)
        (database_error("57P03"), True),  # ... and not accepting connections yet
        (InterfaceError("connection already closed"), True),
        (database_error("40P01"), False),  # a deadlock: the transaction's own retry handles it
        (database_error("57014"), False),  # a query cancelled by a timeout: the same again
        (DataError("invalid input syntax"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_a_lost_connection_counts_as_the_database_gone(error, gone):
    assert connection_lost(error) is gone


def test_the_broken_connection_is_closed_so_the_next_query_connects_again():
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.ensure_connection()
    with mock.patch.object(wrapper, "close") as close:
        connections_reset()  # within the test's transaction: its owner rolls back, nothing is closed
        close.assert_not_called()
        with mock.patch.object(wrapper, "in_atomic_block", False):
            connections_reset()
        close.assert_called_once()


# --- a delivery task ---------------------------------------------------------------------------------


def test_an_in_app_delivery_that_lost_the_database_is_retried_and_delivered_once(world, message):
    delivery = in_app(message, world.municipality_a)

    with failing("messaging.delivery.services.message_receive", lost()) as receive:
        retried = retry_of(deliver_task.delay, delivery.pk)
        assert isinstance(retried.exc, DatabaseUnavailable)
        assert 0 <= retried.when <= 1  # the first retry within a second (with jitter)
        assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING
        assert retried.sig.apply().get() == DeliveryStatus.DELIVERED  # what the worker runs next

    assert receive.call_count == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert acknowledgements(message).count() == 1


def test_a_claim_cut_off_by_the_lost_database_is_not_left_sending(world, message, webhook_post):
    """The claim's update and the read after it are one transaction: the retry claims the row
    again instead of finding it "sending" and leaving it to the sweeper ten minutes later."""
    delivery = deliveries(message, world.municipality_a, Channel.WEBHOOK).get()

    with failing("messaging.delivery.Delivery.objects.select_related", lost()):
        retried = retry_of(deliver_task.delay, delivery.pk)
        assert retried.sig.apply().get() == DeliveryStatus.DELIVERED

    webhook_post.assert_called_once()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_a_batch_that_lost_the_database_is_retried_and_each_delivery_made_once(world, actor, message):
    second = send(world, actor, category=Category.MEDICINE, text="Og en til")
    rows = [in_app(message, world.municipality_a), in_app(second, world.municipality_a)]

    # The first delivery went through; the database went away during the second.
    with failing("messaging.delivery.services.message_receive") as receive:
        receive.side_effect = _nth_fails(2, receive.side_effect)
        retried = retry_of(deliveries_task.delay, [d.pk for d in rows])
        assert retried.sig.apply().get() == 1  # the first is skipped: delivered already

    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert acknowledgements(message).count() == 1 and acknowledgements(second).count() == 1
    assert receive.call_count == 3


def _nth_fails(n: int, effect):
    calls = {"n": 0}

    def nth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise lost()
        return effect(*args, **kwargs)

    return nth


@pytest.mark.parametrize("error", [database_error("57014"), DataError("invalid input syntax")])
def test_another_database_error_is_not_retried(world, message, error):
    delivery = in_app(message, world.municipality_a)

    with (
        failing("messaging.delivery.services.message_receive", error) as receive,
        retries(deliver_task) as retry,
        pytest.raises(type(error)),
    ):
        deliver_task.delay(delivery.pk)

    assert receive.call_count == 1
    retry.assert_not_called()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING  # for the sweeper, like any failed task


def test_the_retries_are_capped_and_back_off_to_the_cap(world, message):
    delivery = in_app(message, world.municipality_a)
    errors = [lost() for _ in range(MAX_RETRIES + 5)]

    countdowns = []
    with failing("messaging.delivery.services.message_receive", *errors) as receive:
        run = functools.partial(deliver_task.delay, delivery.pk)
        for _ in range(MAX_RETRIES):
            retried = retry_of(run)
            countdowns.append(retried.when)
            run = retried.sig.apply
        with pytest.raises(DatabaseUnavailable):
            run()  # retries exhausted: the task fails, the row stays pending for the sweeper

    assert receive.call_count == MAX_RETRIES + 1
    assert all(0 <= c <= RETRY_BACKOFF_MAX_SECONDS for c in countdowns)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)  # the sweeper's


# --- the sweeper -------------------------------------------------------------------------------------


def test_a_sweep_that_lost_the_database_changes_and_enqueues_nothing(world, message, settings):
    """Periodic: the next beat runs it again; the failed one must leave no half-done sweep."""
    settings.MESSAGING_STUCK_MINUTES = 10
    delivery = in_app(message, world.municipality_a)
    stuck_since = delivery.created_at - datetime.timedelta(minutes=30)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=stuck_since)

    with (
        failing("messaging.delivery.queue_watermark", lost()),
        mock.patch("messaging.tasks._queue_length", return_value=3),
        mock.patch("messaging.tasks.deliveries_task.delay") as enqueue,
        pytest.raises(OperationalError),
    ):
        deliveries_sweep_task.delay()

    enqueue.assert_not_called()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_at) == (DeliveryStatus.SENDING, stuck_since)  # rolled back
    assert deliveries_sweep(queue_empty=False) == [delivery.pk]  # the next beat finds it
