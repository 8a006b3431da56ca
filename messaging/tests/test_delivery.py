"""The delivery engine: claiming, the in-app, e-mail and webhook transports, attempts, backoff,
permanent failures, the sweeper and a person's retry."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import smtplib
from unittest import mock

import pytest
import requests
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from messaging.choices import AttemptOutcome, Category, Channel, DeliveryStatus, NoticeKind
from messaging.delivery import _claim, backoff, deliveries_sweep, delivery_run
from messaging.models import Delivery, DeliveryAttempt
from messaging.services import delivery_retry
from sectors.choices import MembershipRole
from smartcare.links import absolute_url
from tests.cast import actor_for

from .helpers import acknowledgements, deliveries, in_app, member, notices, send, webhook

pytestmark = pytest.mark.django_db

SECRET_TEXT = "Borgeren har fået ny medicin mod hjertesvigt."


@pytest.fixture(autouse=True)
def backoff_settings(settings):
    settings.MESSAGING_BACKOFF_SECONDS = 30
    settings.MESSAGING_BACKOFF_CAP_SECONDS = 3600
    settings.MESSAGING_MAX_ATTEMPTS = 8
    settings.MESSAGING_WEBHOOK_REQUIRE_HTTPS = False


@pytest.fixture
def webhook_post():
    with mock.patch("messaging.transports.webhook.requests.post") as webhook_post:
        webhook_post.return_value = mock.Mock(status_code=200, text="ok")
        yield webhook_post


@pytest.fixture
def endpoint(world):
    return webhook(world.municipality_a)


@pytest.fixture
def message(world, actor, endpoint):
    """Sent, but the worker has not been told yet (the on-commit enqueue is not run)."""
    return send(world, actor, category=Category.MEDICINE, text=SECRET_TEXT)


@pytest.fixture
def hook(message, world) -> Delivery:
    return deliveries(message, world.municipality_a, Channel.WEBHOOK).get()


def reload(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


# --- in-app ----------------------------------------------------------------------------------------


def test_in_app_delivery_is_idempotent(world, message):
    delivery = in_app(message, world.municipality_a)

    first = delivery_run(delivery.pk)
    second = delivery_run(delivery.pk)

    assert first.status == DeliveryStatus.DELIVERED
    assert second is None
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert delivery.delivered_at is not None
    assert [a.outcome for a in delivery.attempt_log.all()] == [AttemptOutcome.OK]
    assert acknowledgements(message).count() == 1
    assert message.recipients.get().duplicates == 0


def test_an_unknown_delivery_is_nothing_to_do(db):
    assert delivery_run(999999) is None


# --- e-mail ----------------------------------------------------------------------------------------


def test_email_is_a_notice_without_health_data(world, message, mailoutbox):
    delivery = deliveries(message, world.municipality_a, Channel.EMAIL).get(user=world.users["homecare_a"])

    assert delivery_run(delivery.pk).status == DeliveryStatus.DELIVERED

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [world.users["homecare_a"].email]
    content = f"{mail.subject}\n{mail.body}"
    assert world.municipality_a.name in content
    assert absolute_url(reverse("messaging:inbox")) in mail.body  # a link to the inbox
    citizen = world.citizen
    for secret in (citizen.cpr, citizen.cpr[:6], citizen.first_name, citizen.last_name, SECRET_TEXT, "medicin"):
        assert secret not in content
    delivery = reload(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a.outcome for a in delivery.attempt_log.all()] == [AttemptOutcome.OK]


def test_email_transient_and_permanent_failures(world, message):
    deliveries_ = deliveries(message, world.municipality_a, Channel.EMAIL)
    first, second = deliveries_.get(user=world.users["homecare_a"]), deliveries_.get(user=world.users["assistant_a"])
    with mock.patch("messaging.transports.mail.send_mail", side_effect=smtplib.SMTPServerDisconnected("gone")):
        assert delivery_run(first.pk).status == DeliveryStatus.PENDING
    refused = smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")})
    with mock.patch("messaging.transports.mail.send_mail", side_effect=refused):
        assert delivery_run(second.pk).status == DeliveryStatus.FAILED
    assert reload(first).status == DeliveryStatus.PENDING
    assert reload(second).attempt_log.get().outcome == AttemptOutcome.PERMANENT
    # a failed e-mail is not a portal notification
    assert not notices(world.municipality_a, NoticeKind.DELIVERY_FAILED).exists()


# --- webhook ---------------------------------------------------------------------------------------


def test_webhook_body_is_signed_and_2xx_delivers(world, message, hook, endpoint, webhook_post):
    outcome = delivery_run(hook.pk)

    assert outcome.status == DeliveryStatus.DELIVERED
    webhook_post.assert_called_once()
    args, kwargs = webhook_post.call_args
    assert args[0] == endpoint.url
    body, headers = kwargs["data"], kwargs["headers"]
    expected = "sha256=" + hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-SmartCare-Signature"], expected)
    assert headers["X-SmartCare-Delivery"] == hook.key
    assert kwargs["allow_redirects"] is False
    assert headers["Content-Type"] == "application/fhir+json"
    payload = json.loads(body)  # the message's MedCom bundle
    assert (payload["resourceType"], payload["type"]) == ("Bundle", "message")
    assert payload["id"] == str(message.bundle_id)
    assert payload["entry"][0]["resource"]["id"] == str(message.pk)
    organisations = [e["resource"]["name"] for e in payload["entry"] if e["resource"]["resourceType"] == "Organization"]
    assert world.municipality_a.name in organisations
    hook = reload(hook)
    assert (hook.status, hook.attempts, hook.last_error) == (DeliveryStatus.DELIVERED, 1, "")
    assert [a.outcome for a in hook.attempt_log.all()] == [AttemptOutcome.OK]
    # done: a second run sends nothing
    assert delivery_run(hook.pk) is None
    assert webhook_post.call_count == 1


def test_webhook_5xx_is_retried_with_exponential_backoff_capped_then_fails(world, settings, hook, webhook_post):
    settings.MESSAGING_BACKOFF_CAP_SECONDS = 90
    settings.MESSAGING_MAX_ATTEMPTS = 4
    webhook_post.return_value = mock.Mock(status_code=500, text="Internal Server Error")
    with freeze_time(timezone.now()) as frozen:
        waits = []
        for _attempt in range(3):
            now = timezone.now()
            outcome = delivery_run(hook.pk)
            assert outcome.status == DeliveryStatus.PENDING
            row = reload(hook)
            assert row.status == DeliveryStatus.PENDING
            assert row.claimed_at is None
            assert "HTTP 500" in row.last_error
            waits.append((row.next_attempt_at - now).total_seconds())
            assert outcome.retry_in == waits[-1]
            assert delivery_run(hook.pk) is None  # not due yet
            frozen.move_to(row.next_attempt_at)
        assert waits == [30, 60, 90]

        assert delivery_run(hook.pk).status == DeliveryStatus.FAILED
    row = reload(hook)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 4)
    assert [a.outcome for a in row.attempt_log.all()] == [AttemptOutcome.TRANSIENT] * 4
    assert webhook_post.call_count == 4
    assert notices(world.municipality_a, NoticeKind.DELIVERY_FAILED).count() == 1


def test_backoff_doubles_up_to_the_cap(settings):
    settings.MESSAGING_BACKOFF_SECONDS = 30
    settings.MESSAGING_BACKOFF_CAP_SECONDS = 3600
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 7, 8, 20)] == [30, 60, 120, 240, 1920, 3600, 3600]


def test_webhook_timeout_is_transient(hook, webhook_post):
    webhook_post.side_effect = requests.Timeout("read timed out")
    with freeze_time(timezone.now()):
        outcome = delivery_run(hook.pk)
        row = reload(hook)
        assert row.next_attempt_at == timezone.now() + datetime.timedelta(seconds=30)
    assert outcome.status == DeliveryStatus.PENDING
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    attempt = row.attempt_log.get()
    assert attempt.outcome == AttemptOutcome.TRANSIENT
    assert "Timeout" in attempt.error


def test_webhook_4xx_fails_at_once_and_tells_the_receiver(world, hook, webhook_post):
    webhook_post.return_value = mock.Mock(status_code=400, text="bad request")

    assert delivery_run(hook.pk).status == DeliveryStatus.FAILED

    row = reload(hook)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert [a.outcome for a in row.attempt_log.all()] == [AttemptOutcome.PERMANENT]
    assert "HTTP 400" in row.last_error
    notice = notices(world.municipality_a, NoticeKind.DELIVERY_FAILED).get()
    assert notice.source_key == f"delivery-failed:{hook.pk}"
    assert delivery_run(hook.pk) is None
    assert webhook_post.call_count == 1


def test_plain_http_webhook_is_refused_when_https_is_required(settings, world, endpoint, hook, webhook_post):
    settings.MESSAGING_WEBHOOK_REQUIRE_HTTPS = True
    endpoint.url = "http://hooks.example.org/smartcare"
    endpoint.save()

    assert delivery_run(hook.pk).status == DeliveryStatus.FAILED

    webhook_post.assert_not_called()
    row = reload(hook)
    assert "HTTPS" in row.last_error
    assert row.attempt_log.get().outcome == AttemptOutcome.PERMANENT


def test_plain_http_webhook_is_allowed_in_development(settings, endpoint, hook, webhook_post):
    endpoint.url = "http://hooks.example.org/smartcare"
    endpoint.save()
    assert delivery_run(hook.pk).status == DeliveryStatus.DELIVERED


def test_a_deactivated_webhook_fails_permanently(endpoint, hook, webhook_post):
    endpoint.active = False
    endpoint.save()
    assert delivery_run(hook.pk).status == DeliveryStatus.FAILED
    webhook_post.assert_not_called()


# --- claiming and the sweeper ----------------------------------------------------------------------


def test_claim_takes_only_a_due_pending_delivery(hook):
    Delivery.objects.filter(pk=hook.pk).update(status=DeliveryStatus.SENDING, claimed_at=timezone.now())
    assert _claim(hook.pk) is None  # another worker has it

    Delivery.objects.filter(pk=hook.pk).update(
        status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    assert _claim(hook.pk) is None  # not due yet

    Delivery.objects.filter(pk=hook.pk).update(next_attempt_at=timezone.now())
    claimed = _claim(hook.pk)
    assert claimed is not None
    assert (claimed.status, claimed.attempts) == (DeliveryStatus.SENDING, 1)
    assert claimed.claimed_at is not None
    assert _claim(hook.pk) is None  # claimed once


def test_a_delivery_claimed_by_another_worker_is_not_sent(hook, webhook_post):
    Delivery.objects.filter(pk=hook.pk).update(status=DeliveryStatus.SENDING, claimed_at=timezone.now())
    assert delivery_run(hook.pk) is None
    webhook_post.assert_not_called()


@pytest.fixture
def sweep_settings(settings):
    settings.MESSAGING_STUCK_MINUTES = 10
    settings.MESSAGING_SWEEP_GRACE_SECONDS = 60


def _row(message, key: str, *, ago: float, **fields) -> Delivery:
    """A delivery of ``message`` whose task went to the broker ``ago`` minutes ago."""
    enqueued = timezone.now() - datetime.timedelta(minutes=ago)
    fields.setdefault("next_attempt_at", enqueued)
    return Delivery.objects.create(
        message=message,
        recipient=message.recipients.get(),
        channel=Channel.WEBHOOK,
        key=key,
        enqueued_at=enqueued,
        **fields,
    )


@pytest.fixture
def queued(message, sweep_settings) -> list[Delivery]:
    """A backlog: three deliveries waiting five minutes (and none of the message's own)."""
    Delivery.objects.filter(message=message).delete()
    return [_row(message, f"queued-{n}", ago=5) for n in range(3)]


def test_sweeper_leaves_a_backlog_in_a_moving_queue_alone(message, queued):
    _row(message, "taken", ago=6, status=DeliveryStatus.DELIVERED)  # the workers are six minutes behind

    assert deliveries_sweep(queue_empty=False) == []
    assert deliveries_sweep() == []  # the queue's length unknown: the same
    # Nothing delivered yet at all: nothing is known to be lost either.
    Delivery.objects.filter(key="taken").delete()
    assert deliveries_sweep(queue_empty=False) == []


def test_sweeper_enqueues_what_the_queue_has_passed_once(message, queued):
    # A worker took a task enqueued two minutes after the backlog's: their tasks are gone.
    _row(message, "taken", ago=3, status=DeliveryStatus.DELIVERED)

    first = deliveries_sweep(queue_empty=False)
    second = deliveries_sweep(queue_empty=False)

    assert first == [d.pk for d in queued]
    assert second == []  # stamped as enqueued now: the queue has not passed the new tasks
    assert all(reload(d).enqueued_at > queued[0].enqueued_at for d in queued)
    with freeze_time(timezone.now() + datetime.timedelta(minutes=10)):
        assert deliveries_sweep(queue_empty=False) == []  # however long, until the queue passes them
        assert deliveries_sweep(queue_empty=True) == [d.pk for d in queued]


def test_sweeper_enqueues_what_a_flushed_broker_lost_once(message, queued):
    fresh = _row(message, "fresh", ago=0.5)  # within the slack: its task may be on its way

    first = deliveries_sweep(queue_empty=True)
    second = deliveries_sweep(queue_empty=True)

    assert first == [d.pk for d in queued]
    assert fresh.pk not in first
    assert second == []


def test_sweeper_waits_for_a_retry_held_until_it_is_due(message, sweep_settings):
    _row(message, "taken", ago=1, status=DeliveryStatus.DELIVERED)
    waiting = _row(message, "retry", ago=5, attempts=2, next_attempt_at=timezone.now() + datetime.timedelta(minutes=5))
    due = _row(message, "retry-due", ago=5, attempts=2, next_attempt_at=timezone.now() - datetime.timedelta(minutes=2))

    assert deliveries_sweep(queue_empty=True) == [due.pk]
    assert reload(waiting).enqueued_at < reload(due).enqueued_at


def test_sweeper_puts_back_a_delivery_whose_worker_died_while_sending(message, sweep_settings):
    now = timezone.now()
    stuck = _row(
        message, "stuck", ago=12, status=DeliveryStatus.SENDING, claimed_at=now - datetime.timedelta(minutes=11)
    )
    working = _row(
        message, "working", ago=3, status=DeliveryStatus.SENDING, claimed_at=now - datetime.timedelta(minutes=2)
    )

    assert deliveries_sweep() == [stuck.pk]
    stuck = reload(stuck)
    assert (stuck.status, stuck.claimed_at) == (DeliveryStatus.PENDING, None)
    assert stuck.enqueued_at >= now
    assert reload(working).status == DeliveryStatus.SENDING
    assert deliveries_sweep(queue_empty=True) == []  # put back once


def test_sweeper_returns_at_most_its_limit(message, queued):
    assert deliveries_sweep(queue_empty=True, limit=2) == [d.pk for d in queued[:2]]
    assert deliveries_sweep(queue_empty=True, limit=2) == [queued[2].pk]


# --- a person's retry ------------------------------------------------------------------------------


@pytest.fixture
def failed(hook, webhook_post):
    webhook_post.return_value = mock.Mock(status_code=404, text="not found")
    delivery_run(hook.pk)
    webhook_post.return_value = mock.Mock(status_code=200, text="ok")
    return reload(hook)


def test_an_organisation_admin_retries_a_failed_delivery(
    world, failed, webhook_post, django_capture_on_commit_callbacks
):
    assert failed.status == DeliveryStatus.FAILED
    admin = actor_for(member(world.municipality_a, MembershipRole.ORGANISATION_ADMIN))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery_retry(actor=admin, delivery=failed)

    assert len(callbacks) == 1
    row = reload(failed)
    assert row.status == DeliveryStatus.DELIVERED
    assert [a.outcome for a in row.attempt_log.all()] == [AttemptOutcome.PERMANENT, AttemptOutcome.OK]
    assert webhook_post.call_count == 2


def test_retry_resets_the_row(world, failed):
    admin = actor_for(member(world.municipality_a, MembershipRole.ORGANISATION_ADMIN))
    with freeze_time(timezone.now()):
        delivery_retry(actor=admin, delivery=failed)
        row = reload(failed)
        assert (row.status, row.next_attempt_at, row.claimed_at) == (DeliveryStatus.PENDING, timezone.now(), None)


def test_retry_needs_an_administrator_of_an_organisation_involved(world, actor, failed):
    with pytest.raises(PermissionDenied):
        delivery_retry(actor=actor("homecare_a"), delivery=failed)
    with pytest.raises(PermissionDenied):
        delivery_retry(actor=actor("admin_b"), delivery=failed)  # another organisation's administrator
    assert reload(failed).status == DeliveryStatus.FAILED
    assert DeliveryAttempt.objects.filter(delivery=failed).count() == 1


def test_only_failed_deliveries_are_retried(world, hook):
    admin = actor_for(member(world.municipality_a, MembershipRole.ORGANISATION_ADMIN))
    with pytest.raises(ValidationError):
        delivery_retry(actor=admin, delivery=hook)
