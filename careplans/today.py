"""Home care's Today list as visits: the due activities (``selectors.today_list``) grouped by
citizen in visiting order, with what is overdue and what is paused because the citizen is in
hospital (``careplans.admissions``). The page and any count of overdue visits read it here, so
the rule is the same everywhere."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.utils import timezone

from citizens.access import Actor

from . import selectors
from .admissions import StayNote, overdue_days
from .models import Activity


@dataclass
class Visit:
    citizen: object
    stay: StayNote | None = None
    activities: list[Activity] = field(default_factory=list)
    open_alerts: int = 0

    @property
    def paused(self) -> bool:
        return self.stay is not None and self.stay.paused

    @property
    def overdue(self) -> bool:
        return any(activity.overdue_days > 0 for activity in self.activities)


@dataclass
class TodayVisits:
    day: datetime.date
    visits: list[Visit]  # to make, in visiting order
    paused: list[Visit]  # the citizen is in hospital: set apart, never overdue
    more: bool = False  # due activities were left out (``selectors.TODAY_LIMIT``)
    page: Page | None = None  # ``today_visits``'s page of ``visits``, the ones shown

    @property
    def count(self) -> int:
        """Activities due on the visits to make."""
        return sum(len(visit.activities) for visit in self.visits)

    @property
    def overdue_count(self) -> int:
        """Visits to make with an overdue activity; a paused visit is never one."""
        return sum(1 for visit in self.visits if visit.overdue)

    @property
    def paused_shown(self) -> list[Visit]:
        """The paused visits are set apart on the first page."""
        return self.paused if self.page is None or self.page.number == 1 else []

    @property
    def shown(self) -> list[Visit]:
        """The visits on the page: its share of ``visits``, and the paused ones on the first."""
        return [*(self.visits if self.page is None else self.page.object_list), *self.paused_shown]

    @property
    def activities(self) -> list[Activity]:
        """The activities on the page."""
        return [a for visit in self.shown for a in visit.activities]


def group_visits(activities: list[Activity], day: datetime.date) -> TodayVisits:
    """Group the list's activities (in its order) by citizen; sets ``overdue_days`` and
    ``paused`` on each activity."""
    by_citizen: dict = {}
    for activity in activities:
        citizen = activity.care_plan.citizen
        visit = by_citizen.get(citizen.pk)
        if visit is None:
            visit = by_citizen[citizen.pk] = Visit(citizen=citizen, stay=activity.stay)
        activity.paused = visit.paused
        activity.overdue_days = overdue_days(activity.next_due_on, day, visit.stay)
        visit.activities.append(activity)
        visit.open_alerts = max(visit.open_alerts, activity.open_alerts)
    visits = list(by_citizen.values())
    return TodayVisits(day=day, visits=[v for v in visits if not v.paused], paused=[v for v in visits if v.paused])


# Visits on one page of Today: a district's day fits on one or two, while a whole municipality's
# 300 due activities rendered at once made a 900 KiB page that took half a second.
VISITS_PAGE_SIZE = 30


def today_visits(*, actor: Actor, day: datetime.date | None = None, page: Any = None) -> TodayVisits:
    """The Today list as visits, with ``page`` (a number; the first when missing or not one) of
    the visits to make. The counts cover every visit; only the citizens shown are logged."""
    day = day or timezone.localdate()
    rows = selectors.today_list(actor=actor, day=day, log=False)
    listing = group_visits(rows, day)
    listing.more = rows.more
    listing.page = Paginator(listing.visits, VISITS_PAGE_SIZE).get_page(page)
    selectors.today_listed(actor=actor, citizens=[visit.citizen for visit in listing.shown])
    return listing
