"""The home measurements of the demo care plans (``careplans.demo``): the thresholds and
schedules the GP sets, and 90 days of simulated readings per measurement (a personal baseline, a
trend, day-to-day noise, and for some citizens an alarm at the very end).

The readings older than three days are bulk-created directly (fast, and evaluating old readings
would only raise alerts nobody acts on any more); the last three days go through
``monitoring.observation_bulk_record``, so the open alerts are raised by the real thresholds and
recipients, and are then dated back to when they were measured.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from citizens.access import Actor
from citizens.models import Citizen

from .choices import ObservationCode, ObservationSource, ThresholdCode
from .measurements import MEASUREMENTS
from .models import Alert, CareEvent, CarePlan, Observation
from .monitoring import BulkItem, Reading, observation_bulk_record, schedule_create, threshold_set
from .programmes import Programme

HISTORY_DAYS = 90
LIVE_DAYS = 3  # the last days' measurements go through the monitoring service
RECEIVED_AFTER = datetime.timedelta(minutes=3)


@dataclass(frozen=True)
class Limits:
    red_low: Decimal | None
    yellow_low: Decimal | None
    yellow_high: Decimal | None
    red_high: Decimal | None
    reason: str

    def as_kwargs(self) -> dict:
        return {
            "red_low": self.red_low,
            "yellow_low": self.yellow_low,
            "yellow_high": self.yellow_high,
            "red_high": self.red_high,
            "reason": self.reason,
        }


def _d(value: float) -> Decimal:
    return Decimal(str(round(value, 1)))


@dataclass
class Series:
    """One citizen's simulated measurements of one kind: a personal baseline, a trend over the 90
    days, day-to-day noise, and where the last readings land (``alarm``: None, yellow or red)."""

    code: str
    baseline: float
    trend: float  # change over the 90 days
    noise: float
    every_days: tuple[int, int]
    alarm: str | None = None
    readings: list[tuple[datetime.datetime, float, float | None]] = field(default_factory=list)

    def limits(self) -> dict[str, Limits]:
        if self.code == ObservationCode.BLOOD_PRESSURE:
            return {
                ThresholdCode.SYSTOLIC: Limits(
                    _d(90), _d(100), _d(155), _d(180), "Behandlingsmål < 140/90 mmHg; ring ved værdier over 155."
                ),
                ThresholdCode.DIASTOLIC: Limits(None, None, _d(95), _d(110), "Behandlingsmål diastolisk < 90 mmHg."),
            }
        if self.code == ObservationCode.BODY_WEIGHT:
            dry = self.baseline
            return {
                ThresholdCode.BODY_WEIGHT: Limits(
                    _d(dry - 5),
                    _d(dry - 3),
                    _d(dry + 2),
                    _d(dry + 3.5),
                    f"Tørvægt {str(round(dry, 1)).replace('.', ',')} kg: stigning over 2 kg tyder på væskeophobning.",
                )
            }
        return {
            ThresholdCode.SPO2: Limits(
                _d(88), _d(90), None, None, "KOL: habituel iltmætning 92–95 %; under 90 % kontaktes lægen."
            )
        }


def simulate(rng: random.Random, series: Series, *, now: datetime.datetime, stop_days_ago: int = 0) -> None:
    """Readings every 1–3 days (daily for weight) at a morning hour, from 90 days ago to today."""
    limits = next(iter(series.limits().values()))
    day = timezone.localdate(now) - datetime.timedelta(days=HISTORY_DAYS)
    today = timezone.localdate(now)
    last = today - datetime.timedelta(days=stop_days_ago)
    readings = []
    while day <= last:
        at = datetime.datetime.combine(
            day, datetime.time(7 + rng.randint(0, 2), rng.randint(0, 59)), tzinfo=timezone.get_current_timezone()
        )
        if at < now - datetime.timedelta(minutes=30):
            progress = 1 - (today - day).days / HISTORY_DAYS
            value = series.baseline + series.trend * progress + rng.gauss(0, series.noise)
            readings.append([at, value])
        day += datetime.timedelta(days=rng.randint(*series.every_days))
    # The last days stay inside the limits, except the alarm readings at the very end.
    recent = [r for r in readings if r[0] >= now - datetime.timedelta(days=LIVE_DAYS)]
    for reading in recent:
        reading[1] = _inside(series, limits, reading[1])
    if series.alarm and recent:
        recent[-1][1] = _alarm_value(rng, series, limits)
    for at, value in readings:
        series.readings.append(
            (at, value, _diastolic(rng, value) if series.code == ObservationCode.BLOOD_PRESSURE else None)
        )


def _inside(series: Series, limits: Limits, value: float) -> float:
    low = float(limits.yellow_low) + 1 if limits.yellow_low is not None else value
    high = float(limits.yellow_high) - 1 if limits.yellow_high is not None else value
    return min(max(value, low), high)


def _alarm_value(rng: random.Random, series: Series, limits: Limits) -> float:
    if series.code == ObservationCode.SPO2:
        return rng.choice([86, 87]) if series.alarm == "red" else 89
    if series.alarm == "red":
        above = rng.uniform(0.2, 1.2) if series.code == ObservationCode.BODY_WEIGHT else rng.uniform(1, 8)
        return float(limits.red_high) + above
    return (float(limits.yellow_high) + float(limits.red_high)) / 2


def _diastolic(rng: random.Random, systolic: float) -> float:
    return min(max(0.52 * systolic + 12 + rng.gauss(0, 4), 50), min(systolic - 25, 94))


def _rounded(code: str, value: float) -> Decimal:
    if code == ObservationCode.BODY_WEIGHT:
        return Decimal(str(round(value, 1)))
    if code == ObservationCode.SPO2:
        return Decimal(min(int(round(value)), 100))
    return Decimal(int(round(value)))


def series_for(rng: random.Random, programmes: list[Programme], serial: int) -> list[Series]:
    """The measurements of the programmes (two at most); ``serial`` picks the citizens whose main
    measurement ends in an alert."""
    codes: list[str] = []
    for programme in programmes:
        for code in programme.measures:
            if code not in codes:
                codes.append(code)
    result = []
    for index, code in enumerate(codes[:2]):
        alarm = None
        if index == 0:  # the main measurement of some citizens ends in an alert
            alarm = "red" if serial % 7 == 3 else "yellow" if serial % 5 == 1 else None
        if code == ObservationCode.BLOOD_PRESSURE:
            series = Series(code, rng.uniform(132, 152), rng.choice([-12, -8, -4, 0, 6]), 7, (1, 3), alarm)
        elif code == ObservationCode.BODY_WEIGHT:
            series = Series(code, rng.uniform(64, 104), rng.choice([-2.0, -1.0, 0.0, 0.5]), 0.6, (1, 2), alarm)
        else:
            series = Series(code, rng.uniform(92.5, 95.5), rng.choice([-1.0, 0.0, 0.5]), 1.0, (1, 3), alarm)
        result.append(series)
    return result


def monitoring_set_up(
    *, citizen: Citizen, plan: CarePlan, series: list[Series], gp: Actor, monitor: Actor, counter: Counter
) -> None:
    """Thresholds set by the GP with a reason; measured at home, followed up by ``monitor``."""
    for one in series:
        for code, limits in one.limits().items():
            threshold_set(actor=gp, citizen=citizen, code=code, **limits.as_kwargs())
            counter["thresholds"] += 1
        schedule_create(
            actor=gp,
            citizen=citizen,
            code=one.code,
            every_hours=48 if one.code == ObservationCode.BODY_WEIGHT else 72,
            grace_hours=24,
            monitoring_organisation=monitor.organisation,
            care_plan=plan,
        )
        counter["monitoring schedules"] += 1


def measurements_load(
    *, citizen: Citizen, series: list[Series], monitor: Actor, now: datetime.datetime, counter: Counter
) -> None:
    """The simulated readings: the old ones written directly, the last days' through the service."""
    cutoff = now - datetime.timedelta(days=LIVE_DAYS)
    source = ObservationSource.HOME_CARE if citizen.receives_home_care else ObservationSource.DEVICE
    old, live = [], []
    for one in series:
        unit = MEASUREMENTS[one.code].unit
        for at, value, value_2 in one.readings:
            reading = Reading(
                code=one.code,
                value=_rounded(one.code, value),
                value_2=None if value_2 is None else _rounded(one.code, value_2),
                unit=unit,
                effective_at=at,
                source=source,
            )
            if at >= cutoff:
                live.append(BulkItem(citizen.pk, reading))
                continue
            old.append(
                Observation(
                    citizen=citizen,
                    code=reading.code,
                    value=reading.value,
                    value_2=reading.value_2,
                    unit=unit,
                    effective_at=at,
                    source=source,
                    entered_by=monitor.user,
                    entered_by_organisation=monitor.organisation,
                    entered_at=at + RECEIVED_AFTER,
                )
            )
    Observation.objects.bulk_create(old, batch_size=500)
    counter["measurements"] += len(old)
    if not live:
        return
    stored = observation_bulk_record(actor=monitor, items=live)
    counter["measurements"] += len(stored)
    for observation in stored:
        Observation.objects.filter(pk=observation.pk).update(entered_at=observation.effective_at + RECEIVED_AFTER)
    for alert in Alert.objects.filter(observation__in=[o.pk for o in stored]).select_related("observation"):
        raised = alert.observation.effective_at + RECEIVED_AFTER
        Alert.objects.filter(pk=alert.pk).update(created_at=raised)
        CareEvent.objects.filter(dedupe_key=f"alert:{alert.pk}").update(created_at=raised)
        counter["alerts"] += 1
