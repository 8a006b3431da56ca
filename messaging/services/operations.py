"""Operations: retrying a failed delivery, and a user's e-mail preferences."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from sectors.models import User
from smartcare.transactions import retry_on_deadlock

from ..choices import DeliveryStatus, EmailMode, MessageType
from ..digests import delivery_organisation_ids
from ..models import Delivery, EmailPreference
from .routing import _enqueue


@retry_on_deadlock
@transaction.atomic
def delivery_retry(*, actor: Actor, delivery: Delivery) -> Delivery:
    """An organisation administrator (or a superuser) sends a failed delivery again: only a
    delivery of a message the organisation sent or received (the operations page lists no other)."""
    if not actor.user.is_superuser:
        if not (actor.acting and actor.acting.is_organisation_admin):
            raise PermissionDenied
        org_id = actor.acting_organisation.pk
        if org_id not in delivery_organisation_ids(delivery):
            raise PermissionDenied
    now = timezone.now()
    fields = {"status": DeliveryStatus.PENDING, "next_attempt_at": now, "enqueued_at": now, "claimed_at": None}
    if not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(**fields):
        raise ValidationError(_("Only failed deliveries can be retried."))  # a colleague was first, or it never failed
    for name, value in fields.items():
        setattr(delivery, name, value)
    _enqueue([delivery])
    return delivery


def email_preference_set(*, user: User, message_type: str, mode: str) -> EmailPreference:
    if message_type not in MessageType.values or message_type == MessageType.ACKNOWLEDGEMENT:
        raise ValidationError({"message_type": [_("Choose a message type.")]})
    if mode not in EmailMode.values:
        raise ValidationError({"mode": [_("Choose immediately, daily digest or off.")]})
    preference, _created = EmailPreference.objects.update_or_create(
        user=user, message_type=message_type, defaults={"mode": mode}
    )
    return preference
