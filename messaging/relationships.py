"""A received message as a care relationship (``citizens.relationships``): the receiving
organisation keeps one from the moment the message reached its inbox until
``MESSAGE_RELATIONSHIP_DAYS`` after the last message of the thread reached its receivers, so a
conversation that goes on keeps every organisation in it (an objection removes it).
Acknowledgements are receipts, not messages about the citizen."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery

from citizens.choices import RelationshipKind
from citizens.relationships import CHUNK, Expected, FactSource, register_fact_source

from .choices import MessageType
from .models import Recipient


def message_window() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "MESSAGE_RELATIONSHIP_DAYS", 90))


def _received() -> QuerySet[Recipient]:
    return Recipient.objects.filter(received_at__isnull=False).exclude(message__type=MessageType.ACKNOWLEDGEMENT)


def thread_recipient_ids(recipient: Recipient) -> list[int]:
    """The received rows of the recipient's thread: a new message moves the end of all of them."""
    return list(_received().filter(message__thread_id=recipient.message.thread_id).values_list("pk", flat=True))


def _recipient_rows(ids: list[str]) -> Iterator[Expected]:
    window = message_window()
    last = (
        _received()
        .filter(message__thread_id=OuterRef("message__thread_id"))
        .order_by("-received_at")
        .values("received_at")[:1]
    )
    for pk, citizen_id, organisation_id, received_at, thread_last in (
        _received()
        .filter(pk__in=ids)
        .annotate(thread_last=Subquery(last))
        .values_list("pk", "message__citizen_id", "organisation_id", "received_at", "thread_last")
    ):
        yield Expected(
            citizen_id,
            organisation_id,
            RelationshipKind.RECEIVED_MESSAGE,
            str(pk),
            valid_from=received_at,
            valid_to=_latest(received_at, thread_last) + window,
        )


def _latest(received_at: datetime.datetime | None, thread_last: datetime.datetime | None) -> datetime.datetime:
    """The later of the two (the rows read are received, so one of them is always there)."""
    moments = [m for m in (received_at, thread_last) if m is not None]
    return max(moments)


def _recipient_ids() -> Iterator[int]:
    return _received().order_by().values_list("pk", flat=True).iterator(chunk_size=CHUNK)


register_fact_source(FactSource("recipient", _recipient_rows, _recipient_ids, "message"))
