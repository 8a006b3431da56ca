"""Small builders shared by the care-plan tests (the ``world`` fixture is in the root conftest)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from careplans.choices import CarePlanStatus, ObservationCode
from careplans.models import CarePlan
from careplans.monitoring import Reading
from careplans.services import activity_create, careplan_create

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def active_plan(world, gp, *, title: str = "KOL-forløb", coordinating_organisation=None, **fields) -> CarePlan:
    return careplan_create(
        actor=gp,
        citizen=world.citizen,
        title=title,
        coordinating_organisation=coordinating_organisation or world.clinic_a,
        status=CarePlanStatus.ACTIVE,
        **fields,
    )


def home_visit(actor, citizen, organisation, due_date: datetime.date, *, title: str = "Hjemmepleje"):
    """An active plan the municipality coordinates, with one visit it makes itself (no hand-off)."""
    plan = careplan_create(
        actor=actor, citizen=citizen, title=title, coordinating_organisation=organisation, status=CarePlanStatus.ACTIVE
    )
    return activity_create(
        actor=actor,
        plan=plan,
        description=f"Besøg hos {citizen.first_name}",
        responsible_organisation=organisation,
        due_date=due_date,
    )


def local(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """An aware datetime at ``hour`` o'clock Danish time on ``day``."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=COPENHAGEN)


def next_weekday(weekday: int, *, after: datetime.date | None = None) -> datetime.date:
    """The first date with this weekday (0 = Monday) at least a week from today.

    Tests travel forward in time only: the world's memberships start 30 days before today."""
    start = (after or timezone.localdate()) + datetime.timedelta(days=7)
    return start + datetime.timedelta(days=(weekday - start.weekday()) % 7)


def blood_pressure(systolic, diastolic, *, at: datetime.datetime | None = None, **fields) -> Reading:
    return Reading(
        code=ObservationCode.BLOOD_PRESSURE,
        value=systolic,
        value_2=diastolic,
        unit=fields.pop("unit", "mm[Hg]"),
        effective_at=at or timezone.now() - datetime.timedelta(minutes=5),
        source=fields.pop("source", "citizen"),
        **fields,
    )


def single(code: str, value, unit: str, *, at: datetime.datetime | None = None, **fields) -> Reading:
    return Reading(
        code=code,
        value=value,
        unit=unit,
        effective_at=at or timezone.now() - datetime.timedelta(minutes=5),
        source=fields.pop("source", "citizen"),
        **fields,
    )
