"""The dashboard's citizen cards (registered with ``smartcare.dashboard`` in ``ready()``):
citizens admitted or discharged in the last 48 hours, a hospital's current admissions, and for
an organisation administrator the access review list; and the access-log writer for every
card's rows.

Each count is the linked list's own selector with the list's filter (``citizen_list`` for "my
citizens", the review selectors for the review page), so the two cannot disagree."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sectors.choices import OrganisationKind
from smartcare.dashboard import TOP_ROWS, Card, CardKind, Count, Row, register_cards, register_row_logger

from .access import Actor, actor_from_request
from .accesslog import citizens_read_log
from .choices import AccessAction
from .selectors import break_glass_for_review, citizen_list, review_items_for

RECENT = {"recent_stay": "true"}
ADMITTED = {"admitted_now": "true"}
HOSPITAL_KINDS = (OrganisationKind.HOSPITAL_DEPARTMENT, OrganisationKind.HOSPITAL_UNIT)
ADMITTED_CARD = CardKind(
    "admitted", 45, gettext_lazy("Current admissions"), gettext_lazy("Show the admitted citizens"), "citizens:list"
)
STAYS_CARD = CardKind(
    "hospital-stays",
    50,
    gettext_lazy("Hospital stays, last 48 hours"),
    gettext_lazy("Show the citizens admitted or discharged"),
    "citizens:list",
)
REVIEW_CARD = CardKind(
    "access-review",
    70,
    gettext_lazy("Access review"),
    gettext_lazy("Go to the access review"),
    "citizens:break_glass_review",
)


def _list_url(filters: dict[str, str]) -> str:
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return f"{reverse('citizens:list')}?{query}"


def _recent_stays_card(actor: Actor) -> Card:
    recent = citizen_list(actor=actor, filters=RECENT)
    count = recent.count()
    shown = list(recent[:TOP_ROWS]) if count else []
    url = _list_url(RECENT)
    rows = [
        # the list's own prefetch tells whether the citizen is in hospital now
        Row(c.full_name, reverse("citizens:detail", args=[c.pk]), _("admitted") if c.current_stays else _("discharged"))
        for c in shown
    ]
    counts = [Count(_("admitted or discharged"), count, url, "stays-recent")]
    label = _("Citizens admitted or discharged")
    return STAYS_CARD.card(counts=counts, rows=rows, rows_label=label, citizens=shown, url=url)


def _admissions_card(actor: Actor) -> Card:
    url = _list_url(ADMITTED)
    count = citizen_list(actor=actor, filters=ADMITTED).count()
    return ADMITTED_CARD.card(counts=[Count(_("admitted now"), count, url, "admitted-now")], url=url)


def _review_card(actor: Actor) -> Card:
    url = reverse(REVIEW_CARD.url_name)
    count = break_glass_for_review(actor=actor).count() + review_items_for(actor=actor).count()
    return REVIEW_CARD.card(counts=[Count(_("not reviewed"), count, url, "review-open", "warning")])


@register_cards("citizens")
def citizen_cards(request: HttpRequest) -> list[Card]:
    actor = actor_from_request(request)
    if not actor.acting:
        return []
    cards = []
    if actor.organisation.kind in HOSPITAL_KINDS:
        cards.append(_admissions_card(actor))
    cards.append(_recent_stays_card(actor))
    if actor.acting.is_organisation_admin:
        cards.append(_review_card(actor))
    return cards


@register_row_logger
def log_dashboard_rows(request: HttpRequest, citizens: list) -> None:
    """The citizens the dashboard's cards show, each once and with the reason for access, as a
    list page logs its rows: one query for the reasons and one INSERT for them all."""
    citizens_read_log(
        actor=actor_from_request(request), citizens=citizens, detail="dashboard", action=AccessAction.LIST
    )
