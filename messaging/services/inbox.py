"""Inbox state: read marks (the user's), handled and assigned (the organisation's)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from sectors.models import User
from smartcare.transactions import retry_on_deadlock

from ..models import Message, ReadMark, Recipient
from ..notices import members as _members


def _own_recipient(actor: Actor, message: Message) -> Recipient:
    recipient = message.recipients.filter(organisation=actor.acting_organisation, received_at__isnull=False).first()
    if recipient is None:
        raise PermissionDenied
    return recipient


def message_mark_read(*, actor: Actor, message: Message, read: bool = True) -> None:
    """Read state is the user's own: a colleague's inbox still shows the message as new."""
    if read:
        ReadMark.objects.get_or_create(message=message, user=actor.user)
    else:
        ReadMark.objects.filter(message=message, user=actor.user).delete()


def messages_mark_read(*, actor: Actor, messages: Iterable[Message]) -> int:
    """Opening a thread reads every message in it that the organisation received, in one write
    (a long thread must not cost a query per message)."""
    if not actor.acting:
        return 0
    org_id = actor.acting_organisation.pk
    received = [m for m in messages if any(r.organisation_id == org_id and r.received_at for r in m.recipients.all())]
    ReadMark.objects.bulk_create([ReadMark(message=m, user=actor.user) for m in received], ignore_conflicts=True)
    return len(received)


@retry_on_deadlock
@transaction.atomic
def message_mark_handled(*, actor: Actor, message: Message, handled: bool = True) -> Recipient:
    """Handled is the organisation's state: once a colleague handled it, it is handled for all."""
    recipient = _own_recipient(actor, message)
    recipient.handled_at = timezone.now() if handled else None
    recipient.handled_by = actor.user if handled else None
    recipient.save(update_fields=["handled_at", "handled_by"])
    return recipient


@retry_on_deadlock
@transaction.atomic
def message_assign(*, actor: Actor, message: Message, user: User | None) -> Recipient:
    recipient = _own_recipient(actor, message)
    if user is not None and not _members(actor.acting_organisation).filter(pk=user.pk).exists():
        raise ValidationError({"assigned_to": [_("Choose a colleague in your own organisation.")]})
    recipient.assigned_to = user
    recipient.save(update_fields=["assigned_to"])
    return recipient
