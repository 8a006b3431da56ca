"""A received message as a care relationship (``citizens.relationships``): the receiving
organisation keeps one for ``CITIZEN_ACCESS_MESSAGE_DAYS`` after the message reached its inbox
(an objection removes it). Acknowledgements are receipts, not messages about the citizen."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.conf import settings

from citizens.choices import RelationshipKind
from citizens.relationships import CHUNK, Expected, FactSource, register_fact_source

from .choices import MessageType
from .models import Recipient


def message_window() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "CITIZEN_ACCESS_MESSAGE_DAYS", 30))


def _received() -> object:
    return Recipient.objects.filter(received_at__isnull=False).exclude(message__type=MessageType.ACKNOWLEDGEMENT)


def _recipient_rows(ids: list[str]) -> Iterator[Expected]:
    window = message_window()
    for pk, citizen_id, organisation_id, received_at in (
        _received()
        .filter(pk__in=ids)  # type: ignore[attr-defined]
        .values_list("pk", "message__citizen_id", "organisation_id", "received_at")
    ):
        yield Expected(
            citizen_id,
            organisation_id,
            RelationshipKind.RECEIVED_MESSAGE,
            str(pk),
            valid_from=received_at,
            valid_to=received_at + window,
        )


def _recipient_ids() -> Iterator[int]:
    return _received().order_by().values_list("pk", flat=True).iterator(chunk_size=CHUNK)  # type: ignore[attr-defined]


register_fact_source(FactSource("recipient", _recipient_rows, _recipient_ids, "message"))
