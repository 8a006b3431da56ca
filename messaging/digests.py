"""The daily e-mail digest, through the delivery outbox.

Once a day (beat) every user who chose the digest for some message types gets one e-mail counting
their unread messages of those types from the last day, without health data. The day's
``DigestRun`` (unique per user and day) and, when there is something to tell, its ``Delivery``
(channel ``email-digest``) are written in one transaction; the worker sends it like any other
e-mail delivery: claimed once, every attempt recorded, SMTP errors retried with backoff, a failed
digest listed on the operations page of the user's organisations and sent again from there.
Running the task twice the same day finds the day's run and writes nothing.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from sectors.models import Membership, User

from .choices import Channel, EmailMode, NoticeKind
from .models import Delivery, DigestRun, EmailPreference, Recipient

# Notices kept out of the inbox (and so out of its counts): alerts live in the alert list. Alert
# notices written before alerts stopped coming to the inbox stay in the database, unlisted.
NOT_IN_THE_INBOX = [NoticeKind.ALERT_RAISED]


@transaction.atomic
def digests_send(*, now: datetime.datetime | None = None) -> list[int]:
    """Write the day's digests; the ids of the deliveries to enqueue (the task enqueues them once
    this transaction has committed, as the sweeper's are)."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    since = now - datetime.timedelta(days=1)
    chosen: dict[int, list[str]] = {}
    for user_id, message_type in EmailPreference.objects.filter(mode=EmailMode.DIGEST).values_list(
        "user_id", "message_type"
    ):
        chosen.setdefault(user_id, []).append(message_type)
    done = set(DigestRun.objects.filter(day=day, user_id__in=chosen).values_list("user_id", flat=True))
    created: list[int] = []
    for user in User.objects.filter(pk__in=set(chosen) - done, is_active=True).exclude(email="").order_by("pk"):
        unread = _unread(user, chosen[user.pk], since)
        try:
            with transaction.atomic():
                run = DigestRun.objects.create(user=user, day=day, messages=unread)
                if unread:
                    delivery = Delivery.objects.create(
                        channel=Channel.EMAIL_DIGEST, digest=run, user=user, key=f"digest:{user.pk}:{day.isoformat()}"
                    )
                    created.append(delivery.pk)
        except IntegrityError:
            continue  # another run wrote it
    return created


def _unread(user: User, message_types: list[str], since: datetime.datetime) -> int:
    organisations = Membership.objects.active().filter(user=user).values("organisation_id")
    return (
        Recipient.objects.filter(
            organisation_id__in=organisations, received_at__gte=since, message__type__in=message_types
        )
        .exclude(message__notice_kind__in=NOT_IN_THE_INBOX)
        .exclude(message__read_marks__user=user)
        .count()
    )


def digest_members(organisation_id: int) -> QuerySet:
    """The users whose digests an organisation's administrators follow: its active members."""
    return Membership.objects.active().filter(organisation_id=organisation_id).values("user_id")


def delivery_organisation_ids(delivery: Delivery) -> set[int]:
    """The organisations whose administrators may send a failed delivery again: the receiver and
    the sender of its message, the organisation of an e-mail notice, or for a digest every
    organisation its user is a member of."""
    if delivery.channel == Channel.EMAIL_NOTICE:
        return {delivery.email_notice.organisation_id}
    if delivery.channel == Channel.EMAIL_DIGEST:
        return set(
            Membership.objects.active().filter(user_id=delivery.user_id).values_list("organisation_id", flat=True)
        )
    return {delivery.recipient.organisation_id, delivery.message.sender_id}
