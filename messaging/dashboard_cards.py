"""The messages card on the dashboard (registered with ``smartcare.dashboard`` in ``ready()``):
the user's unread messages and the organisation's messages nobody has handled, each linking to
the inbox with that filter, and the newest unhandled ones."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citizens.access import actor_from_request
from smartcare.dashboard import TOP_ROWS, Card, CardKind, Count, Row, register_cards

from . import selectors

MESSAGES = CardKind("messages", 10, gettext_lazy("Messages"), gettext_lazy("Go to the inbox"), "messaging:inbox")
UNREAD = {"unread": "on"}
UNHANDLED = {"unhandled": "on"}


def _inbox_url(filters: dict[str, str]) -> str:
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return f"{reverse('messaging:inbox')}?{query}"


@register_cards("messaging")
def message_cards(request: HttpRequest) -> list[Card]:
    actor = actor_from_request(request)
    if not actor.acting:
        return []
    cap = selectors.UNREAD_CAP
    unread = selectors.inbox_count(actor=actor, filters=UNREAD, cap=cap)
    unhandled = selectors.inbox_count(actor=actor, filters=UNHANDLED, cap=cap)
    newest = list(selectors.inbox(actor=actor, filters=UNHANDLED)[:TOP_ROWS]) if unhandled else []
    rows = tuple(
        Row(
            text=f"{row.message.citizen.full_name}: {row.message}",
            url=f"{reverse('messaging:thread', args=[row.message.thread_id])}#message-{row.message.pk}",
            note=formats.date_format(timezone.localtime(row.received_at), "SHORT_DATETIME_FORMAT"),
        )
        for row in newest
    )
    counts = [
        Count(_("unread"), unread, _inbox_url(UNREAD), "messages-unread", cap=cap),
        Count(_("not handled"), unhandled, _inbox_url(UNHANDLED), "messages-unhandled", "warning", cap=cap),
    ]
    citizens = [row.message.citizen for row in newest]  # logged by the dashboard
    return [MESSAGES.card(counts=counts, rows=rows, rows_label=_("Newest messages not handled"), citizens=citizens)]
