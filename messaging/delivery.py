"""The worker side of the outbox: claim a delivery, try its channel, record the attempt.

- In-app: claim, put in the inbox, acknowledge and mark delivered in one transaction, so a worker
  killed half-way leaves the row pending and the redelivered task (``acks_late``) starts over;
  the receiver never sees the message twice (``services.message_receive`` is idempotent).
- E-mail and webhook leave the portal, so the claim is committed before the call: a second worker
  never sends the same delivery at the same time. A worker killed during the call leaves the row
  "sending"; the sweeper puts it back after ``MESSAGING_STUCK_MINUTES`` and the receiver
  recognises the repeat by the idempotency key.

Transient failures (timeouts, connection errors, 5xx, 429) are retried with exponential backoff up
to ``MESSAGING_MAX_ATTEMPTS``; permanent ones (other 4xx, a refused address, a plain-HTTP URL in
production) fail at once and are listed for a person to look at.

The deliveries a transaction wrote reach the worker as one task (``deliveries_split``): the in-app
ones are put in the inboxes there and then, the others become a task each. What the broker lost
is found by the sweeper (``deliveries_sweep``).

The transports (``messaging.transports``) only send and answer with what happened; this engine
records the attempt and acts on the answer through the services (a webhook's acknowledgement,
the notice of a failed delivery).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcare.taskretry import connection_lost
from smartcare.transactions import retry_on_deadlock

from . import services
from .choices import AttemptOutcome, Channel, DeliveryStatus, MessageType, NoticeKind
from .fhir.incoming import webhook_acknowledgement
from .models import Delivery, DeliveryAttempt, Message
from .transports import PermanentError, Sent, TransientError
from .transports.mail import email, email_digest, email_notice
from .transports.webhook import webhook

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str  # DeliveryStatus after the attempt
    retry_in: float | None = None  # seconds, when a retry is scheduled


def max_attempts() -> int:
    return getattr(settings, "MESSAGING_MAX_ATTEMPTS", 8)


def backoff(attempt: int) -> datetime.timedelta:
    base = getattr(settings, "MESSAGING_BACKOFF_SECONDS", 30)
    cap = getattr(settings, "MESSAGING_BACKOFF_CAP_SECONDS", 3600)
    return datetime.timedelta(seconds=min(cap, base * 2 ** max(0, attempt - 1)))


# --- the engine -------------------------------------------------------------------------------------


def _record(delivery: Delivery, started: datetime.datetime, outcome: str, error: str = "") -> None:
    DeliveryAttempt.objects.create(
        delivery=delivery, started_at=started, finished_at=timezone.now(), outcome=outcome, error=error[:2000]
    )


@retry_on_deadlock
def _deliver_in_app(delivery_id: int) -> Outcome | None:
    """Locks the delivery's row only (``of``; the receiver is read with it and locked by
    ``message_receive``), skipping it when another worker holds it; one transaction, run again
    when it loses a deadlock."""
    started = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
            .select_related("recipient")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return None  # delivered already, or another worker has it
        receipt = services.message_receive(recipient=delivery.recipient)
        outcome = AttemptOutcome.DUPLICATE if receipt.duplicate else AttemptOutcome.OK
        delivery.attempts += 1
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
        delivery.save(update_fields=["attempts", "status", "delivered_at", "last_error"])
        _record(delivery, started, outcome, receipt.reason)
    return Outcome(DeliveryStatus.DELIVERED)


def deliveries_split(delivery_ids: list[int]) -> tuple[list[int], list[int]]:
    """The in-app deliveries among these (in their order), and the others, stamped as enqueued
    now: the caller hands each of those to the broker as a task of its own (they leave the
    portal, are claimed and retried one by one), at the back of the queue."""
    channels = dict(Delivery.objects.filter(pk__in=delivery_ids).values_list("pk", "channel"))
    in_app = [pk for pk in delivery_ids if channels.get(pk) == Channel.IN_APP]
    others = [pk for pk in delivery_ids if pk in channels and channels[pk] != Channel.IN_APP]
    if others:
        Delivery.objects.filter(pk__in=others, status=DeliveryStatus.PENDING).update(enqueued_at=timezone.now())
    return in_app, others


def deliveries_in_app_run(delivery_ids: list[int]) -> int:
    """Put these in-app deliveries in the inboxes, one transaction each; how many were delivered.
    One that fails is logged and left pending for the sweeper, and the rest still go; a time
    limit stops the lot (the sweeper finds what is left), and so does the database gone (the
    task is run again: the rest would fail the same)."""
    delivered = 0
    for pk in delivery_ids:
        try:
            delivered += _deliver_in_app(pk) is not None
        except Exception as exc:
            if isinstance(exc, SoftTimeLimitExceeded) or connection_lost(exc):
                raise
            logger.exception("delivery %s: in-app delivery failed; left for the sweeper", pk)
    return delivered


@transaction.atomic
def _claim(delivery_id: int) -> Delivery | None:
    """The claim and the read of what to send in one transaction: a connection lost between the
    two leaves the row pending for the task's retry, not "sending" until the sweeper's turn."""
    now = timezone.now()
    due = now + datetime.timedelta(seconds=1)
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=due).update(
        status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Delivery.objects.select_related(
        "message__sender",
        "message__citizen",
        "recipient__organisation__webhook",
        "user",
        "digest",
        "email_notice__organisation",
    ).get(pk=delivery_id)


TRANSPORTS = {
    Channel.EMAIL: email,
    Channel.WEBHOOK: webhook,
    Channel.EMAIL_DIGEST: email_digest,
    Channel.EMAIL_NOTICE: email_notice,
}


def _acknowledgement_in(delivery: Delivery, sent: Sent) -> None:
    """A receiving system may answer a webhook with its MedCom Acknowledgement in the body: it
    settles the message for that receiver, as an acknowledgement posted to ``$process-message``
    would."""
    if not sent.answer:
        return
    try:
        webhook_acknowledgement(sent.answer, sent.answer_type, delivery=delivery)
    except Exception:  # noqa: BLE001 - the delivery succeeded; a bad answer is only logged
        logger.exception("delivery %s: the acknowledgement in the answer could not be processed", delivery.pk)


def delivery_run(delivery_id: int) -> Outcome | None:
    """One attempt at one delivery; None when there was nothing to do (safe to call twice)."""
    channel = Delivery.objects.filter(pk=delivery_id).values_list("channel", flat=True).first()
    if channel is None:
        return None
    if channel == Channel.IN_APP:
        return _deliver_in_app(delivery_id)
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    started = timezone.now()
    try:
        sent = TRANSPORTS[channel](delivery)
    except PermanentError as exc:
        return _fail(delivery, started, str(exc))
    except Exception as exc:  # noqa: BLE001 - anything unforeseen is retried, never lost
        if not isinstance(exc, TransientError):
            logger.exception("delivery %s: unexpected error", delivery.pk)
        return _retry_or_fail(delivery, started, f"{exc}" or type(exc).__name__)
    _acknowledgement_in(delivery, sent)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
        _record(delivery, started, sent.outcome)
    return Outcome(DeliveryStatus.DELIVERED)


def _retry_or_fail(delivery: Delivery, started: datetime.datetime, error: str) -> Outcome:
    if delivery.attempts >= max_attempts():
        return _fail(delivery, started, error, outcome=AttemptOutcome.TRANSIENT)
    wait = backoff(delivery.attempts)
    with transaction.atomic():
        now = timezone.now()
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now + wait,
            enqueued_at=now,
            claimed_at=None,
            last_error=error,
        )
        _record(delivery, started, AttemptOutcome.TRANSIENT, error)
    return Outcome(DeliveryStatus.PENDING, retry_in=wait.total_seconds())


def _fail(
    delivery: Delivery, started: datetime.datetime, error: str, outcome: str = AttemptOutcome.PERMANENT
) -> Outcome:
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=error)
        _record(delivery, started, outcome, error)
        message: Message = delivery.message
        if delivery.channel == Channel.WEBHOOK and message.type != MessageType.NOTIFICATION:
            # The receiver's own system did not get it: its administrators see it on the
            # operations page; the receiving organisation is told in the portal as well. An
            # organisation outside the portal has nobody here: its sender is told instead.
            receiver = delivery.recipient.organisation
            services.notice_send(
                organisation=message.sender if receiver.is_external else receiver,
                citizen=message.citizen,
                kind=NoticeKind.DELIVERY_FAILED,
                text=(
                    _("A message to %(org)s could not be delivered through the gateway: %(error)s")
                    % {"org": receiver.name, "error": error[:200]}
                    if receiver.is_external
                    else _("A message could not be delivered to your organisation's own system: %(error)s")
                    % {"error": error[:200]}
                ),
                link=reverse("messaging_ops:operations"),
                key=f"delivery-failed:{delivery.pk}",
            )
    return Outcome(DeliveryStatus.FAILED)


def stuck_after() -> datetime.timedelta:
    return datetime.timedelta(minutes=getattr(settings, "MESSAGING_STUCK_MINUTES", 10))


def sweep_grace() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "MESSAGING_SWEEP_GRACE_SECONDS", 60))


def queue_watermark(now: datetime.datetime) -> datetime.datetime | None:
    """How far the workers have come through the queue: the latest time a task that a worker has
    already taken was enqueued (the latest ``enqueued_at`` of a delivered row)."""
    return Delivery.objects.filter(status=DeliveryStatus.DELIVERED, enqueued_at__lte=now).aggregate(
        latest=Max("enqueued_at")
    )["latest"]


@transaction.atomic
def deliveries_sweep(
    *, now: datetime.datetime | None = None, limit: int = 2000, queue_empty: bool | None = None
) -> list[int]:
    """Ids of the deliveries whose task is gone, stamped as enqueued now; the caller enqueues them
    once this transaction has committed. A delivery enqueued twice is harmless (claimed once), but
    a backlog enqueued again doubles the work of workers that are already behind, so a delivery
    waiting in a queue that is moving is never returned, however long it has waited.

    - "Sending" for longer than a worker would take (``MESSAGING_STUCK_MINUTES``): its worker was
      killed during the call. It is put back to pending and returned.
    - Pending and due, but lost: the broker hands out tasks in the order they were enqueued, so
      once a worker has taken a task enqueued *after* this delivery's (``queue_watermark``, with
      ``MESSAGING_SWEEP_GRACE_SECONDS`` of slack for transactions committing out of order and
      tasks a worker holds in reserve), this one's task is no longer in the queue: the broker was
      flushed, or a killed worker took it along. A long queue only moves the watermark slowly, so
      what waits in it is left alone; nothing is taken from a queue that no worker reads.
    - The same, when the caller found the broker's queue empty (``queue_empty``): every pending
      delivery enqueued longer ago than the slack has no task left (the watermark does not move
      when nothing is delivered, e.g. after a flush with idle workers). None: not known.

    A returned delivery is stamped as enqueued now, so the next sweep returns it again only once
    the queue has moved past its new task as well (running the sweeper twice is safe). Rows a
    worker is delivering right now are locked and skipped; a second sweeper skips this one's."""
    now = now or timezone.now()
    stuck = list(
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - stuck_after())
        .order_by("claimed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if stuck:
        Delivery.objects.filter(pk__in=stuck).update(
            status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now, enqueued_at=now
        )
    cutoff = now - sweep_grace()
    lost = Delivery.objects.select_for_update(skip_locked=True).filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=cutoff, enqueued_at__lte=cutoff
    )
    if not queue_empty:
        watermark = queue_watermark(now)
        if watermark is None:
            return stuck  # nothing taken from the queue yet: nothing is known to be lost
        lost = lost.filter(enqueued_at__lt=watermark - sweep_grace())
    ids = list(lost.order_by("enqueued_at", "pk").values_list("pk", flat=True)[: limit - len(stuck)])
    if ids:
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
    return stuck + ids
