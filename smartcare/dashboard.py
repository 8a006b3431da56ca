"""The dashboard's cards: the acting user's work overview after sign-in.

The dashboard page belongs to ``sectors``, the lowest app, but most of the work it summarises
(messages, alerts, hand-offs, visits, hospital stays) lives in the apps above it, which
``sectors`` must not import. So each app registers a card provider here from its
``AppConfig.ready()`` (as care teams register an access relationship with ``citizens.access``),
and the dashboard renders whatever the providers return.

A provider takes the request and returns its cards. It reads through its app's gated selectors,
so a count is what the linked list shows, and it writes the access-log entries for the citizens
its rows name, like any list page. It makes a fixed number of queries whatever the amount of
data: the counts are counted by the database, and only ``TOP_ROWS`` rows are fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.http import HttpRequest

# Rows shown on a card; the linked list has the rest.
TOP_ROWS = 3


@dataclass(frozen=True)
class Count:
    """One number on a card, with the list it counts. ``cap``: counted no further than this
    (shown as "99+"), for counts the database would otherwise count in full on every sign-in."""

    label: str
    value: int
    url: str
    key: str
    tone: str = "primary"  # the badge colour (Bootstrap) when the count is not zero
    cap: int | None = None

    @property
    def shown(self) -> str:
        return f"{self.cap}+" if self.cap is not None and self.value > self.cap else str(self.value)


@dataclass(frozen=True)
class Row:
    """One of the first items of the list: its text, where it opens, and a short note."""

    text: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class Card:
    key: str
    order: int  # place on the page: work to act on first
    title: str
    url: str  # the whole list
    link_text: str
    counts: tuple[Count, ...]
    rows: tuple[Row, ...] = field(default_factory=tuple)
    rows_label: str = ""  # a heading for the rows, read by screen readers


CardProvider = Callable[[HttpRequest], Iterable[Card]]
_PROVIDERS: dict[str, CardProvider] = {}


def register_cards(name: str) -> Callable[[CardProvider], CardProvider]:
    """Register an app's card provider under a name (registering the name again replaces it, so
    reloading a module in development does not double the cards)."""

    def decorator(func: CardProvider) -> CardProvider:
        _PROVIDERS[name] = func
        return func

    return decorator


def dashboard_cards(request: HttpRequest) -> list[Card]:
    """Every registered provider's cards for this request, in page order."""
    cards = [card for provider in _PROVIDERS.values() for card in provider(request)]
    return sorted(cards, key=lambda card: (card.order, card.key))
