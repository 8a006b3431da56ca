"""The dashboard's care-plan cards (registered with ``smartcare.dashboard`` in ``ready()``): open
alerts (red and yellow), hand-off requests awaiting an answer (and the overdue ones) and, for home
care, the visits on "Today" that are overdue.

The counts come from the same gated querysets as the work lists and their navigation badges
(``selectors``), so a count is what the linked list shows. The citizens of the rows shown are
logged by the dashboard, once for the page (``smartcare.dashboard``)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citizens.access import Actor, actor_from_request
from sectors.choices import OrganisationKind
from smartcare.dashboard import TOP_ROWS, Card, CardKind, Row, register_cards
from smartcare.dashboard import Count as CardCount

from .choices import AlertSeverity, ObservationCode
from .models import Activity, Alert, Handoff
from .selectors import _incoming_handoffs, _organisation_alerts, today_list
from .services import handoff_overdue_after
from .today import group_visits

CODE_LABELS = dict(ObservationCode.choices)
ALERTS = CardKind("alerts", 20, gettext_lazy("Alerts"), gettext_lazy("Go to the alerts"), "careplans:alerts")
HANDOFFS = CardKind(
    "handoffs", 30, gettext_lazy("Hand-off requests"), gettext_lazy("Go to the hand-off requests"), "careplans:handoffs"
)
VISITS = CardKind("today", 40, gettext_lazy("Visits today"), gettext_lazy("Go to Today"), "careplans:today")


@dataclass
class WorkOverview:
    handoffs: int = 0
    overdue_handoffs: int = 0
    oldest_handoffs: list[Handoff] = field(default_factory=list)
    red_alerts: int = 0
    yellow_alerts: int = 0
    first_alerts: list[Alert] = field(default_factory=list)
    today: bool = False  # whether the organisation has a "Today" list (home care)
    overdue_visits: list[Activity] = field(default_factory=list)
    due_today: int = 0


def work_overview(*, actor: Actor, day: datetime.date | None = None, top: int = TOP_ROWS) -> WorkOverview:
    """The acting organisation's care-plan work in numbers, with the first ``top`` rows of each
    list. Not logged: the caller logs the citizens of the rows it shows."""
    if not actor.acting:
        return WorkOverview()
    day = day or timezone.localdate()
    handoffs = _incoming_handoffs(actor)
    cutoff = timezone.now() - handoff_overdue_after()
    handoff_counts = handoffs.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(requested_at__lt=cutoff)))
    alerts = _organisation_alerts(actor)
    alert_counts = alerts.aggregate(total=Count("pk"), red=Count("pk", filter=Q(severity=AlertSeverity.RED)))
    overview = WorkOverview(
        handoffs=handoff_counts["total"],
        overdue_handoffs=handoff_counts["overdue"],
        red_alerts=alert_counts["red"],
        yellow_alerts=alert_counts["total"] - alert_counts["red"],
    )
    if overview.handoffs:  # the hand-off list's order: oldest (so overdue) first
        overview.oldest_handoffs = list(
            handoffs.select_related("care_plan__citizen", "goal", "activity").order_by("requested_at", "pk")[:top]
        )
    if alert_counts["total"]:  # the alert list's order: red first, then oldest
        rank = Case(When(severity=AlertSeverity.RED, then=Value(0)), default=Value(1), output_field=IntegerField())
        overview.first_alerts = list(alerts.select_related("citizen").order_by(rank, "created_at", "pk")[:top])
    if actor.organisation.kind == OrganisationKind.MUNICIPALITY:
        overview.today = True
        # The Today list itself (its rules and its limit), so the numbers are the page's numbers.
        # A citizen in hospital has paused visits: neither due nor overdue (``careplans.today``).
        grouped = group_visits(today_list(actor=actor, day=day, log=False), day)
        due = [activity for visit in grouped.visits for activity in visit.activities]
        overdue = sorted((a for a in due if a.overdue_days > 0), key=lambda a: (a.next_due_on, a.pk))
        overview.due_today = len(due) - len(overdue)
        overview.overdue_visits = overdue
    return overview


def _date(value) -> str:
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _measurement(code: str) -> str:
    return str(CODE_LABELS.get(code, code))


def _alerts_card(overview: WorkOverview) -> Card:
    url = reverse(ALERTS.url_name)
    rows = [
        Row(
            text=f"{alert.citizen.full_name}: {alert.get_severity_display()} · {_measurement(alert.code)}",
            url=f"{url}?citizen={alert.citizen_id}",
            note=_date(alert.created_at),
        )
        for alert in overview.first_alerts
    ]
    return ALERTS.card(
        counts=[
            CardCount(_("red"), overview.red_alerts, url, "alerts-red", "danger"),
            CardCount(_("yellow"), overview.yellow_alerts, url, "alerts-yellow", "warning"),
        ],
        rows=rows,
        rows_label=_("First alerts on the list"),
        citizens=[alert.citizen for alert in overview.first_alerts],
    )


def _handoffs_card(overview: WorkOverview) -> Card:
    url = reverse(HANDOFFS.url_name)
    cutoff = timezone.now() - handoff_overdue_after()
    rows = [
        Row(
            text=f"{handoff.care_plan.citizen.full_name}: {handoff.item}",
            url=f"{url}#handoff-{handoff.pk}",
            note=_("overdue") if handoff.requested_at < cutoff else _date(handoff.requested_at),
        )
        for handoff in overview.oldest_handoffs
    ]
    counts = [
        CardCount(_("awaiting your answer"), overview.handoffs, url, "handoffs-waiting"),
        CardCount(_("overdue"), overview.overdue_handoffs, url, "handoffs-overdue", "danger"),
    ]
    citizens = [handoff.care_plan.citizen for handoff in overview.oldest_handoffs]
    return HANDOFFS.card(counts=counts, rows=rows, rows_label=_("Oldest requests"), citizens=citizens)


def _visits_card(overview: WorkOverview, top: int = TOP_ROWS) -> Card:
    url = reverse(VISITS.url_name)
    shown = overview.overdue_visits[:top]
    counts = [
        CardCount(_("overdue"), len(overview.overdue_visits), url, "visits-overdue", "danger"),
        CardCount(_("due today"), overview.due_today, url, "visits-due"),
    ]
    rows = [
        Row(
            f"{a.care_plan.citizen.full_name}: {a}",
            f"{url}#visit-{a.care_plan.citizen_id}",
            _("due %(date)s") % {"date": _date(a.next_due_on)},
        )
        for a in shown
    ]
    citizens = [a.care_plan.citizen for a in shown]
    return VISITS.card(counts=counts, rows=rows, rows_label=_("Most overdue visits"), citizens=citizens)


@register_cards("careplans")
def worklist_cards(request: HttpRequest) -> list[Card]:
    actor = actor_from_request(request)
    if not actor.acting:
        return []
    overview = work_overview(actor=actor)
    cards = [_alerts_card(overview), _handoffs_card(overview)]
    if overview.today:
        cards.append(_visits_card(overview))
    return cards
