"""When is a recurring activity due? "Every Monday and Thursday", "every second week on Friday"."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext

from .choices import Weekday

WEEKDAY_INDEX = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def recurrence_text(*, weekdays: list[str], interval_weeks: int) -> str:
    """The rhythm in words: "Every day" when all seven days are chosen (not a list of seven
    names), else "Every week on Monday, Thursday" or "Every 2 weeks on Friday"."""
    if not weekdays:
        return ""
    if set(weekdays) == set(WEEKDAY_INDEX):
        if interval_weeks == 1:
            return gettext("Every day")
        return gettext("Every day, every %(n)d weeks") % {"n": interval_weeks}
    days = ", ".join(str(Weekday(d).label) for d in weekdays)
    if interval_weeks == 1:
        return gettext("Every week on %(days)s") % {"days": days}
    return gettext("Every %(n)d weeks on %(days)s") % {"n": interval_weeks, "days": days}


def next_occurrence(
    *,
    weekdays: list[str],
    interval_weeks: int,
    starts_on: datetime.date,
    ends_on: datetime.date | None,
    on_or_after: datetime.date,
) -> datetime.date | None:
    """The first occurrence on or after ``on_or_after``; weeks are counted from the week of
    ``starts_on`` (Monday-based), so "every 2 weeks" keeps its rhythm."""
    days = sorted(WEEKDAY_INDEX[d] for d in weekdays)
    if not days:
        return None
    day = max(on_or_after, starts_on)
    first_monday = starts_on - datetime.timedelta(days=starts_on.weekday())
    for _ in range(7 * interval_weeks + 7):
        weeks = (day - first_monday).days // 7
        if weeks % interval_weeks == 0 and day.weekday() in days:
            return None if ends_on and day > ends_on else day
        day += datetime.timedelta(days=1)
    return None


def activity_next_due(activity) -> datetime.date | None:
    """The date the activity is next due: its due date, or the first occurrence after the last
    time it was done (an occurrence that was missed stays due, and shows as overdue)."""
    from .choices import ActivityStatus

    if activity.status in (
        ActivityStatus.COMPLETED,
        ActivityStatus.CANCELLED,
        ActivityStatus.STOPPED,
        ActivityStatus.ENTERED_IN_ERROR,
    ):
        return None
    if not activity.weekday_list:
        return activity.due_date
    after = activity.last_done_on + datetime.timedelta(days=1) if activity.last_done_on else activity.starts_on
    return next_occurrence(
        weekdays=activity.weekday_list,
        interval_weeks=activity.interval_weeks,
        starts_on=activity.starts_on,
        ends_on=activity.ends_on,
        on_or_after=after,
    )
