"""Receiving and acknowledgements (MedCom reliable messaging): a message's arrival in the inbox, the
acknowledgement back, resends when none comes, and the escalation of unhandled messages."""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.relationships import relationships_sync
from sectors.choices import MembershipRole
from sectors.models import Organisation

from ..choices import AckCode, MessageType, NoticeKind, Priority, RecipientRole
from ..ids import new_bundle_id
from ..models import Message, Recipient
from ..notices import members as _members
from ..relationships import thread_recipient_ids
from .notices import notice_send
from .routing import _add_recipient, _deliveries_for, _enqueue, _setting

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    code: str
    reason: str
    duplicate: bool


@transaction.atomic
def message_receive(*, recipient: Recipient) -> Receipt:
    """Put the message in the receiver's inbox and acknowledge it.

    A second arrival of the same message (a resend, a redelivery after a worker died) is a
    duplicate: it is counted and logged, answered with the acknowledgement already given, and
    never shown twice (the inbox lists receivers, one row per message and organisation).

    Only the receiver's row is locked (``of``: not the message or the organisation it is read
    with, whose rows every concurrent send to that organisation references), and without the key
    (``no_key``), so inserting a delivery for it elsewhere does not wait."""
    recipient = (
        Recipient.objects.select_for_update(of=("self",), no_key=True)
        .select_related("message", "organisation")
        .get(pk=recipient.pk)
    )
    message = recipient.message
    if recipient.received_at is not None:
        Recipient.objects.filter(pk=recipient.pk).update(duplicates=F("duplicates") + 1)
        logger.info("duplicate message %s for organisation %s", message.pk, recipient.organisation_id)
        return Receipt(recipient.ack_code or AckCode.OK, recipient.ack_reason, True)
    now = timezone.now()
    code, reason = AckCode.OK, ""
    if not recipient.organisation.is_active:
        code, reason = AckCode.FATAL_ERROR, _("The receiving organisation is no longer active.")
    recipient.received_at = now if code == AckCode.OK else None
    recipient.save(update_fields=["received_at"])
    relationships_sync("recipient", thread_recipient_ids(recipient), via="message")
    if message.type == MessageType.ACKNOWLEDGEMENT:
        _settle(message)
        return Receipt(AckCode.OK, "", False)
    if message.is_cross_organisation:
        acknowledgement_send(message=message, organisation=recipient.organisation, code=code, reason=reason)
    return Receipt(code, reason, False)


def acknowledgement_send(*, message: Message, organisation: Organisation, code: str, reason: str = "") -> Message:
    """The receiver's acknowledgement, as a message back to the sender (at most one per receiver:
    a duplicate gets the one already sent)."""
    existing = Message.objects.filter(acknowledges=message, sender=organisation).first()
    if existing is not None:
        return existing
    ack_id = uuid.uuid4()
    ack = Message(
        id=ack_id,
        header_id=str(ack_id),
        type=MessageType.ACKNOWLEDGEMENT,
        thread_id=message.thread_id,  # by id: the worker need not read the thread and the citizen
        citizen_id=message.citizen_id,
        sender=organisation,
        acknowledges=message,
        ack_code=code,
        ack_reason=reason,
    )
    ack.save(force_insert=True)
    _enqueue(_add_recipient(ack, message.sender_id, RecipientRole.PRIMARY))
    return ack


def _settle(ack: Message) -> None:
    """An acknowledgement arrived at the sender: the receiver's row stops waiting (no more resends)."""
    if ack.acknowledges_id is None:
        return
    Recipient.objects.filter(
        message_id=ack.acknowledges_id, organisation_id=ack.sender_id, acknowledged_at__isnull=True
    ).update(ack_code=ack.ack_code, ack_reason=ack.ack_reason, acknowledged_at=timezone.now())


def acknowledgement_record(*, message: Message, organisation: Organisation, code: str, reason: str = "") -> int:
    """An acknowledgement received from outside the portal (an organisation's own system)."""
    if code not in AckCode.values:
        raise ValidationError({"code": [_("Unknown acknowledgement code.")]})
    return Recipient.objects.filter(message=message, organisation=organisation, acknowledged_at__isnull=True).update(
        ack_code=code, ack_reason=reason, acknowledged_at=timezone.now()
    )


def ack_timeout() -> datetime.timedelta:
    return datetime.timedelta(minutes=_setting("MESSAGING_ACK_TIMEOUT_MINUTES", 30))


def max_resends() -> int:
    return _setting("MESSAGING_MAX_RESENDS", 2)


@transaction.atomic
def unacknowledged_resend(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """MedCom reliable messaging: no acknowledgement after the timeout, send again with the same
    message id (a new Bundle id), at most twice; after that, alert the sender's organisation."""
    now = now or timezone.now()
    cutoff = now - ack_timeout()
    waiting = (
        Recipient.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .select_related("message", "organisation")
        .filter(
            acknowledged_at__isnull=True,
            last_sent_at__lte=cutoff,
            unacknowledged_alerted_at__isnull=True,
            message__type__in=[MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION],
        )
        .order_by("last_sent_at")[:500]
    )
    counts = {"resent": 0, "alerted": 0}
    for recipient in waiting:
        message = recipient.message
        if recipient.resends < max_resends():
            recipient.resends += 1
            recipient.last_sent_at = now
            recipient.save(update_fields=["resends", "last_sent_at"])
            Message.objects.filter(pk=message.pk).update(bundle_id=new_bundle_id())
            _enqueue(_deliveries_for(recipient, round_=recipient.resends))
            counts["resent"] += 1
        else:
            recipient.unacknowledged_alerted_at = now
            recipient.save(update_fields=["unacknowledged_alerted_at"])
            notice_send(
                organisation=message.sender,
                citizen=message.citizen,
                kind=NoticeKind.NOT_ACKNOWLEDGED,
                text=_("%(receiver)s has not acknowledged the message “%(message)s” after %(n)d attempts.")
                % {"receiver": recipient.organisation, "message": message, "n": recipient.resends + 1},
                link=reverse("messaging:thread", args=[message.thread_id]),
                key=f"not-acknowledged:{recipient.pk}",
            )
            counts["alerted"] += 1
    return counts


# --- escalation -----------------------------------------------------------------------------------


def escalate_after() -> datetime.timedelta:
    return datetime.timedelta(hours=_setting("MESSAGING_ESCALATE_AFTER_HOURS", 4))


@transaction.atomic
def unhandled_escalate(*, now: datetime.datetime | None = None) -> int:
    """Hospital notifications and 'asap' messages still unhandled after the configured time
    remind the receiving organisation's care coordinators, once."""
    now = now or timezone.now()
    due = (
        Recipient.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .select_related("message", "organisation")
        .filter(handled_at__isnull=True, escalated_at__isnull=True, received_at__lte=now - escalate_after())
        .filter(Q(message__type=MessageType.HOSPITAL_NOTIFICATION) | Q(message__priority=Priority.ASAP))
        .order_by("received_at")[:500]
    )
    reminded = 0
    for recipient in due:
        recipient.escalated_at = now
        recipient.save(update_fields=["escalated_at"])
        message = recipient.message
        coordinators = list(
            _members(recipient.organisation, MembershipRole.CARE_COORDINATOR).exclude(email="").order_by("pk")
        )
        notice = notice_send(
            organisation=recipient.organisation,
            citizen=message.citizen,
            kind=NoticeKind.UNHANDLED_REMINDER,
            text=_("“%(message)s” from %(sender)s has not been handled.")
            % {"message": message, "sender": message.sender},
            link=reverse("messaging:thread", args=[message.thread_id]),
            key=f"unhandled:{recipient.pk}",
            assign_to=coordinators[0] if len(coordinators) == 1 else None,
            email_users=coordinators,
        )
        reminded += notice is not None
    return reminded
