"""The dashboard's cards: the acting user's work overview after sign-in.

The dashboard page belongs to ``sectors``, the lowest app, but most of the work it summarises
(messages, alerts, hand-offs, visits, hospital stays) lives in the apps above it, which
``sectors`` must not import. So each app registers a card provider here from its
``AppConfig.ready()`` (as care teams register an access relationship with ``citizens.access``),
and the dashboard renders whatever the providers return.

A provider takes the request and returns its cards. It reads through its app's gated selectors,
so a count is what the linked list shows, and names the citizens its rows show. Those are
written to the access log once for the whole page, like a list page's rows, by the logger the
citizens app registers (``register_row_logger``): one entry per citizen shown, with the reason
for access. A provider makes a fixed number of queries whatever the amount of data: the
database counts, and only ``TOP_ROWS`` rows are fetched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import reverse

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
class CardKind:
    """What a card is, the same on every page: its place (work to act on first), its title and
    the list it summarises (a URL name; a card may link to the list with a filter)."""

    key: str
    order: int
    title: str
    link_text: str
    url_name: str

    def card(
        self,
        *,
        counts: Iterable[Count],
        rows: Iterable[Row] = (),
        rows_label: str = "",
        citizens: Iterable[Any] = (),
        url: str = "",
    ) -> Card:
        return Card(self, url or reverse(self.url_name), tuple(counts), tuple(rows), rows_label, tuple(citizens))


@dataclass(frozen=True)
class Card:
    """One card of this page: the counts, the first rows of the list (``rows_label`` is their
    heading for screen readers) and the citizens those rows show, to log."""

    kind: CardKind
    url: str  # the whole list
    counts: tuple[Count, ...]
    rows: tuple[Row, ...] = field(default_factory=tuple)
    rows_label: str = ""
    citizens: tuple[Any, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return self.kind.key

    @property
    def title(self) -> str:
        return str(self.kind.title)

    @property
    def link_text(self) -> str:
        return str(self.kind.link_text)


CardProvider = Callable[[HttpRequest], Iterable[Card]]
RowLogger = Callable[[HttpRequest, list[Any]], None]
_PROVIDERS: dict[str, CardProvider] = {}
_ROW_LOGGER: list[RowLogger] = []


def register_cards(name: str) -> Callable[[CardProvider], CardProvider]:
    """Register an app's card provider under a name (registering the name again replaces it, so
    reloading a module in development does not double the cards)."""

    def decorator(func: CardProvider) -> CardProvider:
        _PROVIDERS[name] = func
        return func

    return decorator


def register_row_logger(func: RowLogger) -> RowLogger:
    """Register the function that writes the access-log entries for the citizens shown."""
    _ROW_LOGGER[:] = [func]
    return func


def dashboard_cards(request: HttpRequest) -> list[Card]:
    """Every registered provider's cards for this request, in page order; the citizens their
    rows show are logged before the page is rendered."""
    cards = sorted(
        (card for provider in _PROVIDERS.values() for card in provider(request)),
        key=lambda card: (card.kind.order, card.key),
    )
    shown = [citizen for card in cards for citizen in card.citizens]
    if shown:
        if not _ROW_LOGGER:  # never show a citizen without logging it
            raise ImproperlyConfigured("No access-log writer is registered for the dashboard's rows.")
        _ROW_LOGGER[0](request, shown)
    return cards
