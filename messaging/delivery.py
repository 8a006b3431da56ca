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
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .choices import AttemptOutcome, Channel, DeliveryStatus, MessageType, NoticeKind
from .models import Delivery, DeliveryAttempt, Message

logger = logging.getLogger(__name__)


class TransientError(Exception):
    """Worth trying again later."""


class PermanentError(Exception):
    """Trying again will not help; a person must look at it."""


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


def absolute_url(path: str) -> str:
    return getattr(settings, "SMARTCARE_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path


# --- transports -------------------------------------------------------------------------------------


def _language(user):
    """E-mails are written in the receiving user's language."""
    return translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE)


def _email(delivery: Delivery) -> str:
    """A notice that something is waiting, with a link; never health data (e-mail is not secure)."""
    user = delivery.user
    organisation = delivery.recipient.organisation
    with _language(user):
        subject = _("SmartCare: new message for %(org)s") % {"org": organisation.name}
        body = _(
            "There is a new message for %(org)s in SmartCare.\n\nOpen it here (sign-in required):\n%(url)s\n\n"
            "You receive this e-mail because of your notification settings in SmartCare."
        ) % {"org": organisation.name, "url": absolute_url(reverse("messaging:inbox"))}
    return _send_email(subject, body, user.email)


def _email_digest(delivery: Delivery) -> str:
    """The day's digest: how many messages are unread (counted when the digest was made), a link,
    and no health data."""
    unread = delivery.digest.messages
    with _language(delivery.user):
        subject = _("SmartCare: %(n)d unread messages") % {"n": unread}
        body = _(
            "You have %(n)d unread messages in SmartCare from the last day.\n\n"
            "Open your inbox here (sign-in required):\n%(url)s"
        ) % {"n": unread, "url": absolute_url(reverse("messaging:inbox"))}
    return _send_email(subject, body, delivery.user.email)


def _email_notice(delivery: Delivery) -> str:
    """Something waits outside the inbox (a raised alert in the alert list): which organisation,
    a link, and no health data (no citizen, no measurement, no severity)."""
    notice = delivery.email_notice
    values = {"org": notice.organisation.name, "url": absolute_url(notice.link or reverse("messaging:inbox"))}
    with _language(delivery.user):
        texts = (
            _("SmartCare: new alert for %(org)s"),
            _(
                "There is a new alert for %(org)s in SmartCare.\n\nOpen the alert list here (sign-in required):\n"
                "%(url)s\n\nYou receive this e-mail because of your notification settings in SmartCare."
            ),
        )
    return _send_email(texts[0] % values, texts[1] % values, delivery.user.email)


def _send_email(subject: str, body: str, to: str) -> str:
    try:
        send_mail(subject, body, None, [to], fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"address refused: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    return AttemptOutcome.OK


def webhook_payload(delivery: Delivery) -> bytes:
    """The message as its MedCom bundle (FHIR JSON), with the history the receiving organisation
    may know: the organisation's own system receives what a MedCom endpoint would."""
    from .fhir.export import bundle_json, message_bundle

    try:
        bundle = message_bundle(delivery.message, for_organisation=delivery.recipient.organisation)
    except ValueError as exc:  # not a MedCom message
        raise PermanentError(str(exc)) from exc
    return bundle_json(bundle)


def _acknowledgement_in(delivery: Delivery, response: requests.Response) -> None:
    """A receiving system may answer with its MedCom Acknowledgement in the body: it settles the
    message for that receiver, as an acknowledgement posted to ``$process-message`` would."""
    from .fhir.incoming import webhook_acknowledgement

    content = getattr(response, "content", b"")
    if not isinstance(content, bytes) or not content.strip():
        return
    headers = getattr(response, "headers", None)
    content_type = headers.get("Content-Type", "") if isinstance(headers, Mapping) else ""
    try:
        webhook_acknowledgement(content, str(content_type), delivery=delivery)
    except Exception:  # noqa: BLE001 - the delivery succeeded; a bad answer is only logged
        logger.exception("delivery %s: the acknowledgement in the answer could not be processed", delivery.pk)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _webhook(delivery: Delivery) -> str:
    endpoint = getattr(delivery.recipient.organisation, "webhook", None)
    if endpoint is None or not endpoint.active:
        raise PermanentError("the organisation has no active webhook")
    if getattr(settings, "MESSAGING_WEBHOOK_REQUIRE_HTTPS", False) and not endpoint.url.startswith("https://"):
        raise PermanentError("webhooks must use HTTPS")
    body = webhook_payload(delivery)
    headers = {
        "Content-Type": "application/fhir+json",
        "X-SmartCare-Signature": sign(endpoint.secret, body),
        "X-SmartCare-Delivery": delivery.key,
        "X-SmartCare-Message": str(delivery.message_id),
    }
    try:
        response = requests.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=getattr(settings, "MESSAGING_WEBHOOK_TIMEOUT_SECONDS", 10),
            allow_redirects=False,
        )
    except requests.RequestException as exc:  # timeouts and refused connections
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    if 200 <= response.status_code < 300:
        _acknowledgement_in(delivery, response)
        return AttemptOutcome.OK
    detail = f"HTTP {response.status_code}: {response.text[:300]}"
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        raise TransientError(detail)
    raise PermanentError(detail)


# --- the engine -------------------------------------------------------------------------------------


def _record(delivery: Delivery, started: datetime.datetime, outcome: str, error: str = "") -> None:
    DeliveryAttempt.objects.create(
        delivery=delivery, started_at=started, finished_at=timezone.now(), outcome=outcome, error=error[:2000]
    )


def _deliver_in_app(delivery_id: int) -> Outcome | None:
    from .services import message_receive

    started = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return None  # delivered already, or another worker has it
        receipt = message_receive(recipient=delivery.recipient)
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
    Channel.EMAIL: _email,
    Channel.WEBHOOK: _webhook,
    Channel.EMAIL_DIGEST: _email_digest,
    Channel.EMAIL_NOTICE: _email_notice,
}


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
        outcome = TRANSPORTS[channel](delivery)
    except PermanentError as exc:
        return _fail(delivery, started, str(exc))
    except Exception as exc:  # noqa: BLE001 - anything unforeseen is retried, never lost
        if not isinstance(exc, TransientError):
            logger.exception("delivery %s: unexpected error", delivery.pk)
        return _retry_or_fail(delivery, started, f"{exc}" or type(exc).__name__)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
        _record(delivery, started, outcome)
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
    from .services import notice_send

    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=error)
        _record(delivery, started, outcome, error)
        message: Message = delivery.message
        if delivery.channel == Channel.WEBHOOK and message.type != MessageType.NOTIFICATION:
            # The receiver's own system did not get it: its administrators see it on the
            # operations page; the receiving organisation is told in the portal as well.
            notice_send(
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
