"""Recurring activities: when they are due, and what "done" does to the next date."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from freezegun import freeze_time

from careplans import selectors
from careplans.choices import ActivityStatus, CarePlanStatus
from careplans.models import Activity, PlanChange
from careplans.recurrence import activity_next_due, next_occurrence
from careplans.selectors import today_list
from careplans.services import (
    activity_create,
    activity_mark_done,
    activity_set_status,
    careplan_create,
    careplan_set_status,
    handoff_accept,
)
from citizens.tests.factories import CitizenFactory

from .helpers import active_plan, local, next_weekday

D = datetime.date
MONDAY = D(2026, 11, 2)


def nxt(weekdays, after, *, interval=1, starts=MONDAY, ends=None):
    return next_occurrence(
        weekdays=weekdays.split(","), interval_weeks=interval, starts_on=starts, ends_on=ends, on_or_after=after
    )


# --- the rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (D(2026, 11, 2), D(2026, 11, 2)),  # Monday itself
        (D(2026, 11, 3), D(2026, 11, 5)),  # Tuesday -> Thursday
        (D(2026, 11, 5), D(2026, 11, 5)),
        (D(2026, 11, 6), D(2026, 11, 9)),  # Friday -> next Monday
        (D(2026, 10, 1), D(2026, 11, 2)),  # before the start: the first occurrence
    ],
)
def test_weekly_on_monday_and_thursday(after, expected):
    assert nxt("MO,TH", after) == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (D(2026, 11, 2), D(2026, 11, 6)),
        (D(2026, 11, 7), D(2026, 11, 20)),  # the week in between is skipped
        (D(2026, 11, 13), D(2026, 11, 20)),
        (D(2026, 11, 21), D(2026, 12, 4)),
    ],
)
def test_every_second_week_on_friday(after, expected):
    assert nxt("FR", after, interval=2) == expected


def test_every_second_week_counts_from_the_week_of_the_start():
    wednesday = D(2026, 11, 4)
    # Monday of the first week is before the start; Friday of that week is the first occurrence
    assert nxt("MO,FR", wednesday, interval=2, starts=wednesday) == D(2026, 11, 6)
    assert nxt("MO,FR", D(2026, 11, 7), interval=2, starts=wednesday) == D(2026, 11, 16)


def test_every_third_week():
    assert nxt("WE", D(2026, 11, 5), interval=3) == D(2026, 11, 25)


def test_the_end_date_is_the_last_possible_day():
    assert nxt("MO", D(2026, 11, 16), ends=D(2026, 11, 16)) == D(2026, 11, 16)
    assert nxt("MO", D(2026, 11, 17), ends=D(2026, 11, 16)) is None
    assert nxt("MO,TH", D(2026, 11, 17), ends=D(2026, 11, 22)) == D(2026, 11, 19)


def test_no_weekdays_is_no_recurrence():
    assert next_occurrence(weekdays=[], interval_weeks=1, starts_on=MONDAY, ends_on=None, on_or_after=MONDAY) is None


def test_next_due_of_one_off_and_finished_activities():
    one_off = Activity(due_date=D(2026, 12, 1), status=ActivityStatus.SCHEDULED)
    assert activity_next_due(one_off) == D(2026, 12, 1)
    recurring = Activity(weekdays="MO,TH", interval_weeks=1, starts_on=MONDAY, last_done_on=D(2026, 11, 5))
    assert activity_next_due(recurring) == D(2026, 11, 9)
    for status in ("completed", "cancelled", "stopped", "entered-in-error"):
        recurring.status = status
        assert activity_next_due(recurring) is None


def test_display():
    activity = Activity(weekdays="MO,TH", interval_weeks=1)
    assert activity.recurrence_display == "Every week on Monday, Thursday"
    activity.interval_weeks = 2
    assert activity.recurrence_display == "Every 2 weeks on Monday, Thursday"
    assert Activity(weekdays="").recurrence_display == ""


def test_display_of_every_weekday_says_every_day():
    every_day = Activity(weekdays="MO,TU,WE,TH,FR,SA,SU", interval_weeks=1)
    assert every_day.recurrence_display == "Every day"
    every_day.interval_weeks = 2
    assert every_day.recurrence_display == "Every day, every 2 weeks"
    six_days = Activity(weekdays="MO,TU,WE,TH,FR,SA", interval_weeks=1)
    assert six_days.recurrence_display.startswith("Every week on Monday, Tuesday")


# --- through the services, with time passing ---------------------------------------------------------


@pytest.fixture
def monday():
    return next_weekday(0)


@pytest.fixture
def visits(db, world, gp_actor, homecare_actor, monday):
    """Blood pressure at home every Monday and Thursday, accepted by the municipality on a Tuesday."""
    with freeze_time(local(monday + datetime.timedelta(days=1))):
        plan = active_plan(world, gp_actor)
        activity = activity_create(
            actor=gp_actor,
            plan=plan,
            description="Blodtryksmåling i hjemmet",
            responsible_organisation=world.municipality_a,
            weekdays=["TH", "MO"],
        )
        handoff_accept(actor=homecare_actor, handoff=activity.handoffs.get())
    activity.refresh_from_db()
    return activity


def due(homecare_actor, day) -> list[Activity]:
    with freeze_time(local(day, 7)):
        return today_list(actor=homecare_actor)


def done(homecare_actor, activity, day, **kwargs) -> Activity:
    with freeze_time(local(day, 11)):
        return activity_mark_done(actor=homecare_actor, activity=activity, **kwargs)


def test_a_recurring_activity_starts_on_its_first_occurrence(visits, monday):
    tuesday = monday + datetime.timedelta(days=1)
    assert visits.weekdays == "MO,TH"
    assert visits.starts_on == tuesday
    assert visits.next_due_on == monday + datetime.timedelta(days=3)  # Thursday
    assert visits.status == ActivityStatus.SCHEDULED


def test_mark_done_moves_to_the_next_occurrence(visits, homecare_actor, monday):
    thursday = monday + datetime.timedelta(days=3)
    assert due(homecare_actor, monday + datetime.timedelta(days=2)) == []  # Wednesday: nothing yet
    assert due(homecare_actor, thursday) == [visits]

    done(homecare_actor, visits, thursday, note="BT 138/86")

    visits.refresh_from_db()
    assert visits.last_done_on == thursday
    assert visits.next_due_on == monday + datetime.timedelta(days=7)
    assert visits.status == ActivityStatus.IN_PROGRESS
    assert visits.outcome_note == "BT 138/86"
    assert due(homecare_actor, thursday) == []
    change = PlanChange.objects.get(action="done")
    assert change.changes["last_done_on"] == [None, thursday.isoformat()]
    assert change.comment == "BT 138/86"


def test_a_missed_occurrence_stays_due_and_overdue(visits, homecare_actor, monday):
    thursday = monday + datetime.timedelta(days=3)
    done(homecare_actor, visits, thursday)
    next_monday = monday + datetime.timedelta(days=7)

    # nobody came on Monday: on Tuesday and Wednesday the Monday visit is still on the list
    for late in (next_monday + datetime.timedelta(days=1), next_monday + datetime.timedelta(days=2)):
        rows = due(homecare_actor, late)
        assert rows == [visits]
        assert rows[0].next_due_on == next_monday < late

    # done on Wednesday: the next is Thursday
    done(homecare_actor, visits, next_monday + datetime.timedelta(days=2))
    visits.refresh_from_db()
    assert visits.next_due_on == next_monday + datetime.timedelta(days=3)


def test_done_on_an_earlier_day(visits, homecare_actor, monday):
    """Registered on Friday for the Thursday visit."""
    visits = done(homecare_actor, visits, monday + datetime.timedelta(days=4), on=monday + datetime.timedelta(days=3))

    assert visits.last_done_on == monday + datetime.timedelta(days=3)
    assert visits.next_due_on == monday + datetime.timedelta(days=7)


def test_the_series_ends_on_its_end_date(world, gp_actor, monday):
    with freeze_time(local(monday)):
        plan = active_plan(world, gp_actor)
        activity = activity_create(
            actor=gp_actor,
            plan=plan,
            description="KOL-rehabilitering",
            responsible_organisation=world.clinic_a,
            weekdays="WE",
            starts_on=monday,
            ends_on=monday + datetime.timedelta(days=9),  # two Wednesdays
        )
    assert activity.next_due_on == monday + datetime.timedelta(days=2)

    done(gp_actor, activity, monday + datetime.timedelta(days=2))
    activity.refresh_from_db()
    assert activity.next_due_on == monday + datetime.timedelta(days=9)
    done(gp_actor, activity, monday + datetime.timedelta(days=9))
    activity.refresh_from_db()
    assert activity.next_due_on is None
    assert due(gp_actor, monday + datetime.timedelta(days=16)) == []


def test_every_two_weeks_through_the_services(world, gp_actor, monday):
    with freeze_time(local(monday)):
        plan = active_plan(world, gp_actor)
        activity = activity_create(
            actor=gp_actor,
            plan=plan,
            description="Samtale med sygeplejerske",
            responsible_organisation=world.clinic_a,
            weekdays="FR",
            interval_weeks=2,
        )
    friday = monday + datetime.timedelta(days=4)
    assert activity.next_due_on == friday

    done(gp_actor, activity, friday)
    activity.refresh_from_db()
    assert activity.next_due_on == friday + datetime.timedelta(days=14)


def test_a_one_off_activity_is_completed_when_done(world, gp_actor, monday):
    with freeze_time(local(monday)):
        plan = active_plan(world, gp_actor)
        activity = activity_create(
            actor=gp_actor,
            plan=plan,
            description="Årskontrol",
            responsible_organisation=world.clinic_a,
            due_date=monday + datetime.timedelta(days=2),
        )
    assert activity.next_due_on == monday + datetime.timedelta(days=2)
    assert due(gp_actor, monday) == []
    assert due(gp_actor, monday + datetime.timedelta(days=5)) == [activity]  # overdue

    done(gp_actor, activity, monday + datetime.timedelta(days=5), note="Fint")

    activity.refresh_from_db()
    assert (activity.status, activity.next_due_on) == (ActivityStatus.COMPLETED, None)
    assert due(gp_actor, monday + datetime.timedelta(days=5)) == []


def test_a_series_on_hold_is_not_on_the_today_list(visits, homecare_actor, monday):
    thursday = monday + datetime.timedelta(days=3)
    with freeze_time(local(monday + datetime.timedelta(days=2))):
        activity_set_status(actor=homecare_actor, activity=visits, status=ActivityStatus.ON_HOLD, comment="Indlagt")
    visits.refresh_from_db()
    assert visits.next_due_on == thursday  # it keeps its date ...
    assert due(homecare_actor, thursday) == []  # ... but nobody visits while it is paused

    with freeze_time(local(thursday + datetime.timedelta(days=1))):
        activity_set_status(actor=homecare_actor, activity=visits, status=ActivityStatus.IN_PROGRESS, comment="Hjemme")
    assert due(homecare_actor, thursday + datetime.timedelta(days=1)) == [visits]  # the missed visit is due again


def test_a_stopped_series_is_no_longer_due(visits, homecare_actor, monday):
    with freeze_time(local(monday + datetime.timedelta(days=2))):
        activity_set_status(actor=homecare_actor, activity=visits, status=ActivityStatus.IN_PROGRESS)
        activity_set_status(actor=homecare_actor, activity=visits, status=ActivityStatus.STOPPED, comment="Flyttet")
    visits.refresh_from_db()
    assert visits.next_due_on is None
    assert due(homecare_actor, monday + datetime.timedelta(days=3)) == []


@pytest.mark.django_db
def test_unknown_weekdays_are_refused(world, gp_actor):
    plan = active_plan(world, gp_actor)
    with pytest.raises(ValidationError) as excinfo:
        activity_create(
            actor=gp_actor, plan=plan, description="x", responsible_organisation=world.clinic_a, weekdays="MO,XX"
        )
    assert "weekdays" in excinfo.value.message_dict


# --- the Today list when there are many ------------------------------------------------------------


def _home_visit(gp_actor, plan, organisation, due_date, description="Besøg"):
    return activity_create(
        actor=gp_actor, plan=plan, description=description, responsible_organisation=organisation, due_date=due_date
    )


def test_a_long_today_list_keeps_the_most_overdue_in_address_order(world, gp_actor, monday, monkeypatch):
    monkeypatch.setattr(selectors, "TODAY_LIMIT", 3)
    with freeze_time(local(monday)):
        for days_overdue, street in [(1, "Cgade 1"), (5, "Bgade 1"), (3, "Agade 1"), (2, "Dgade 1")]:
            citizen = CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a, street=street)
            plan = careplan_for(gp_actor, citizen, world.clinic_a)
            _home_visit(gp_actor, plan, world.clinic_a, monday - datetime.timedelta(days=days_overdue), street)

    rows = due(gp_actor, monday)

    # the three most overdue (5, 3 and 2 days), in address order
    assert [a.description for a in rows] == ["Agade 1", "Bgade 1", "Dgade 1"]
    assert all(a.open_alerts == 0 for a in rows)


def test_the_today_list_looks_past_due_activities_it_may_not_show(world, gp_actor, monday, monkeypatch):
    """The most overdue activities belong to a closed plan: the list still fills with the others."""
    monkeypatch.setattr(selectors, "TODAY_LIMIT", 2)
    with freeze_time(local(monday)):
        closed = active_plan(world, gp_actor, title="Afsluttet")
        for days in (10, 9, 8, 7):
            _home_visit(gp_actor, closed, world.clinic_a, monday - datetime.timedelta(days=days), f"Gammel {days}")
        careplan_set_status(actor=gp_actor, plan=closed, status=CarePlanStatus.COMPLETED)
        open_plan = active_plan(world, gp_actor, title="Aktiv")
        for days in (2, 1):
            _home_visit(gp_actor, open_plan, world.clinic_a, monday - datetime.timedelta(days=days), f"Aktuel {days}")

    assert sorted(a.description for a in due(gp_actor, monday)) == ["Aktuel 1", "Aktuel 2"]


def careplan_for(gp_actor, citizen, clinic):
    return careplan_create(
        actor=gp_actor, citizen=citizen, title="Plan", coordinating_organisation=clinic, status=CarePlanStatus.ACTIVE
    )
