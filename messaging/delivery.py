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

The transports (``messaging.transports``) only send and answer with what happened; this engine
records the attempt and acts on the answer through the services (a webhook's acknowledgement,
the notice of a failed delivery).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

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


def _deliver_in_app(delivery_id: int) -> Outcome | None:
    started = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
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


def _claim(delivery_id: int) -> Delivery | None:
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
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING, next_attempt_at=timezone.now() + wait, claimed_at=None, last_error=error
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
            # operations page; the receiving organisation is told in the portal as well.
            services.notice_send(
                organisation=delivery.recipient.organisation,
                citizen=message.citizen,
                kind=NoticeKind.DELIVERY_FAILED,
                text=_("A message could not be delivered to your organisation's own system: %(error)s")
                % {"error": error[:200]},
                link=reverse("messaging_ops:operations"),
                key=f"delivery-failed:{delivery.pk}",
            )
    return Outcome(DeliveryStatus.FAILED)


def stuck_after() -> datetime.timedelta:
    return datetime.timedelta(minutes=getattr(settings, "MESSAGING_STUCK_MINUTES", 10))


def deliveries_sweep(*, now: datetime.datetime | None = None, limit: int = 2000) -> list[int]:
    """Ids of deliveries the broker may have lost: pending and due for longer than the grace
    time, or "sending" longer than a worker would take (it was killed). The caller enqueues them;
    a delivery enqueued twice is harmless (claimed once)."""
    now = now or timezone.now()
    stale = now - stuck_after()
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stale).update(
        status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now
    )
    grace = now - datetime.timedelta(seconds=getattr(settings, "MESSAGING_SWEEP_GRACE_SECONDS", 60))
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__lte=grace) | Q(next_attempt_at__lte=now, attempts__gt=0))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
