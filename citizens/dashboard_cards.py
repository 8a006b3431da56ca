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

from sectors.choices import OrganisationKind
from smartcare.dashboard import TOP_ROWS, Card, Count, Row, register_cards, register_row_logger

from .access import Actor, actor_from_request
from .accesslog import citizens_read_log
from .choices import AccessAction
from .selectors import break_glass_for_review, citizen_list, review_items_for

RECENT = {"recent_stay": "true"}
ADMITTED = {"admitted_now": "true"}
HOSPITAL_KINDS = (OrganisationKind.HOSPITAL_DEPARTMENT, OrganisationKind.HOSPITAL_UNIT)


def _list_url(filters: dict[str, str]) -> str:
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return f"{reverse('citizens:list')}?{query}"


def _recent_stays_card(actor: Actor) -> Card:
    recent = citizen_list(actor=actor, filters=RECENT)
    count = recent.count()
    rows = list(recent[:TOP_ROWS]) if count else []
    url = _list_url(RECENT)
    return Card(
        key="hospital-stays",
        order=50,
        title=_("Hospital stays, last 48 hours"),
        url=url,
        link_text=_("Show the citizens admitted or discharged"),
        counts=(Count(_("admitted or discharged"), count, url, "stays-recent"),),
        rows=tuple(
            Row(
                text=citizen.full_name,
                url=reverse("citizens:detail", args=[citizen.pk]),
                # The list's own prefetch: the open stay, if any.
                note=_("admitted") if citizen.current_stays else _("discharged"),
            )
            for citizen in rows
        ),
        rows_label=_("Citizens admitted or discharged"),
        citizens=tuple(rows),
    )


def _admissions_card(actor: Actor) -> Card:
    url = _list_url(ADMITTED)
    return Card(
        key="admitted",
        order=45,
        title=_("Current admissions"),
        url=url,
        link_text=_("Show the admitted citizens"),
        counts=(Count(_("admitted now"), citizen_list(actor=actor, filters=ADMITTED).count(), url, "admitted-now"),),
    )


def _review_card(actor: Actor) -> Card:
    url = reverse("citizens:break_glass_review")
    count = break_glass_for_review(actor=actor).count() + review_items_for(actor=actor).count()
    return Card(
        key="access-review",
        order=70,
        title=_("Access review"),
        url=url,
        link_text=_("Go to the access review"),
        counts=(Count(_("not reviewed"), count, url, "review-open", "warning"),),
    )


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
    list page logs its rows: one query for the reasons and one append per reason."""
    citizens_read_log(
        actor=actor_from_request(request), citizens=citizens, detail="dashboard", action=AccessAction.LIST
    )
