"""The home monitoring of the synthetic region's care plans (``careplans.generate``): for each
measurement a plan monitors, the citizen's thresholds and monitoring schedule, readings over the
last 90 days, and the alerts for readings outside the limits (acknowledged, except those of the
last three days; an open "missing measurement" alert where the citizen stopped measuring).

``MonitoringRows`` is the part of ``CarePlanGenerator`` that writes these rows. It draws from the
generator's one random stream, in the order the plans are made, so a seed still gives one region.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Model
from django.utils import timezone

from .choices import AlertKind, AlertSeverity, ObservationCode, ObservationSource, ThresholdCode
from .measurements import MEASUREMENTS
from .models import MonitoringSchedule, Threshold

HISTORY_DAYS = 90
OPEN_DAYS = 3  # alerts of the last days are still open
ALERT_DAYS = 30  # older alerts were acknowledged; none before this
ALARM = {"red": 0.015, "yellow": 0.04}  # share of series whose latest reading is outside the limits
STOPPED_SHARE = 0.01  # series whose citizen stopped measuring
RECEIVED_AFTER = datetime.timedelta(minutes=3)
UNITS = {code: m.unit for code, m in MEASUREMENTS.items()}
COMPONENT = {
    ObservationCode.BLOOD_PRESSURE: ThresholdCode.SYSTOLIC,
    ObservationCode.BODY_WEIGHT: ThresholdCode.BODY_WEIGHT,
    ObservationCode.SPO2: ThresholdCode.SPO2,
}

# Column order of the rows below (foreign keys by id).
THRESHOLD_COLUMNS = [
    "id", "citizen", "code", "unit", "red_low", "yellow_low", "yellow_high", "red_high", "reason", "version",
    "set_by", "set_by_organisation", "valid_from", "valid_to",
]  # fmt: skip
SCHEDULE_COLUMNS = [
    "id", "citizen", "care_plan", "code", "every_hours", "grace_hours", "monitoring_organisation", "starts_at",
    "ends_at",
]  # fmt: skip
OBSERVATION_COLUMNS = [
    "id", "citizen", "code", "value", "value_2", "unit", "effective_at", "source", "status", "replaces",
    "entered_by", "entered_by_organisation", "entered_at", "device_id", "external_id", "note",
]  # fmt: skip
ALERT_COLUMNS = [
    "citizen", "organisation", "kind", "severity", "code", "observation", "threshold", "schedule", "message",
    "created_at", "acknowledged_at", "acknowledged_by", "acknowledgement_note",
]  # fmt: skip


class _Series:
    """One citizen's simulated measurements of one kind and the limits the GP set for them."""

    __slots__ = ("code", "baseline", "trend", "noise", "limits", "alarm", "stopped", "threshold_id", "schedule_id")

    def __init__(self, rng: random.Random, code: str):
        self.code = code
        self.alarm = None
        draw = rng.random()
        if draw < ALARM["red"]:
            self.alarm = "red"
        elif draw < ALARM["red"] + ALARM["yellow"]:
            self.alarm = "yellow"
        self.stopped = self.alarm is None and rng.random() < STOPPED_SHARE
        if code == ObservationCode.BLOOD_PRESSURE:
            self.baseline, self.trend, self.noise = rng.uniform(124, 160), rng.choice((-12, -6, -3, 0, 4, 8)), 7.0
            high = max(150, round(self.baseline + 15))
            self.limits = (90, 100, high, high + 25)
        elif code == ObservationCode.BODY_WEIGHT:
            self.baseline, self.trend, self.noise = rng.uniform(58, 118), rng.choice((-2.0, -1.0, 0.0, 0.5, 1.0)), 0.6
            dry = round(self.baseline, 1)
            self.limits = (round(dry - 5, 1), round(dry - 3, 1), round(dry + 2, 1), round(dry + 3.5, 1))
        else:
            self.baseline, self.trend, self.noise = rng.uniform(91.5, 96), rng.choice((-1.0, 0.0, 0.5)), 1.0
            low = 90 if self.baseline > 93 else 88
            self.limits = (low - 2, low, None, None)
        self.threshold_id = self.schedule_id = 0

    def severity(self, value: float) -> str | None:
        red_low, yellow_low, yellow_high, red_high = self.limits
        if (red_low is not None and value < red_low) or (red_high is not None and value > red_high):
            return AlertSeverity.RED
        if (yellow_low is not None and value < yellow_low) or (yellow_high is not None and value > yellow_high):
            return AlertSeverity.YELLOW
        return None

    def inside(self, value: float) -> float:
        red_low, yellow_low, yellow_high, red_high = self.limits
        if yellow_low is not None:
            value = max(value, yellow_low + 1)
        if yellow_high is not None:
            value = min(value, yellow_high - 1)
        return value

    def alarm_value(self, rng: random.Random) -> float:
        red_low, yellow_low, yellow_high, red_high = self.limits
        if yellow_high is None:  # SpO2: too low
            return red_low - rng.randint(1, 2) if self.alarm == "red" else yellow_low - 1
        if self.alarm == "red":
            return red_high + (rng.uniform(0.2, 1.2) if self.code == ObservationCode.BODY_WEIGHT else rng.uniform(1, 9))
        return (yellow_high + red_high) / 2


def _reason(code: str) -> str:
    return {
        ThresholdCode.SYSTOLIC: "Individuelle grænser ud fra borgerens vanlige blodtryk.",
        ThresholdCode.DIASTOLIC: "Behandlingsmål diastolisk < 90 mmHg.",
        ThresholdCode.BODY_WEIGHT: "Stigning over 2 kg fra tørvægt tyder på væskeophobning.",
        ThresholdCode.SPO2: "KOL: under den vanlige iltmætning kontaktes lægen.",
    }[code]


def _format(code: str, value: float) -> str:
    if code == ObservationCode.BODY_WEIGHT:
        return f"{value:.1f}"
    if code == ObservationCode.SPO2:
        return str(min(100, int(value + 0.5)))
    return str(int(value + 0.5))


class MonitoringRows:
    """Thresholds, schedules, observations and alerts; a base of ``CarePlanGenerator``, whose
    attributes (set in its ``__init__``) these methods use."""

    rng: random.Random
    now: datetime.datetime
    pg: bool
    user_id: int
    rows: dict[str, list]
    counts: Counter
    messages: dict[str, tuple[str, str, str]]
    labels: dict[str, str]
    missing: str
    _id: Callable[[type[Model]], int]
    _uuid: Callable[[], str]

    def _series(self, citizen_id, plan_id, code, clinic, monitor, home_care, made, observations) -> None:
        rng, now = self.rng, self.now
        series = _Series(rng, code)
        component = COMPONENT[code]
        series.threshold_id = self._id(Threshold)
        red_low, yellow_low, yellow_high, red_high = series.limits
        self.rows["thresholds"].append(
            (
                series.threshold_id, citizen_id, component, UNITS[code], red_low, yellow_low, yellow_high, red_high,
                _reason(component), 1, self.user_id, clinic, made, None,
            )
        )  # fmt: skip
        self.counts["thresholds"] += 1
        if code == ObservationCode.BLOOD_PRESSURE:
            self.rows["thresholds"].append(
                (
                    self._id(Threshold), citizen_id, ThresholdCode.DIASTOLIC, UNITS[code], None, None, 95, 110,
                    _reason(ThresholdCode.DIASTOLIC), 1, self.user_id, clinic, made, None,
                )
            )  # fmt: skip
            self.counts["thresholds"] += 1
        every = 48 if code == ObservationCode.BODY_WEIGHT else 72
        series.schedule_id = self._id(MonitoringSchedule)
        self.rows["schedules"].append((series.schedule_id, citizen_id, plan_id, code, every, 24, monitor, made, None))
        self.counts["monitoring schedules"] += 1

        # Readings at a morning hour, about evenly spread over the 90 days.
        count = max(2, int(observations * rng.uniform(0.7, 1.3) + 0.5))
        step = HISTORY_DAYS * 86400 / count
        first = now - datetime.timedelta(days=HISTORY_DAYS)
        stop_at = now - datetime.timedelta(days=rng.randint(5, 10)) if series.stopped else now
        source = ObservationSource.HOME_CARE if home_care else ObservationSource.DEVICE
        unit = UNITS[code]
        open_since, alert_since = now - datetime.timedelta(days=OPEN_DAYS), now - datetime.timedelta(days=ALERT_DAYS)
        readings = []
        offset = rng.uniform(0, step)
        while offset < HISTORY_DAYS * 86400:
            at = first + datetime.timedelta(seconds=offset)
            at = at.replace(hour=5 + rng.randint(0, 4), minute=rng.randint(0, 59), second=0, microsecond=0)
            if at >= stop_at:
                break
            progress = offset / (HISTORY_DAYS * 86400)
            value = series.baseline + series.trend * progress + rng.gauss(0, series.noise)
            readings.append([at, value])
            offset += step * rng.uniform(0.6, 1.4)
        recent = [r for r in readings if r[0] >= open_since]
        for reading in recent:
            reading[1] = series.inside(reading[1])
        if series.alarm and recent:
            recent[-1][1] = series.alarm_value(rng)
        lines = self.rows["observations"]
        bp = code == ObservationCode.BLOOD_PRESSURE
        for at, value in readings:
            observation_id = self._uuid()
            text = _format(code, value)
            diastolic = None
            if bp:
                diastolic = str(int(min(max(0.52 * value + 12 + rng.gauss(0, 4), 50), min(value - 25, 94)) + 0.5))
            if self.pg:
                stamp = at.strftime("%Y-%m-%d %H:%M:%S+00")
                lines.append(
                    f"{observation_id}\t{citizen_id}\t{code}\t{text}\t{diastolic or chr(92) + 'N'}\t{unit}\t{stamp}\t"
                    f"{source}\tfinal\t\\N\t{self.user_id}\t{monitor}\t{stamp}\t\t\t\n"
                )
            else:
                lines.append(
                    (
                        observation_id, citizen_id, code, Decimal(text), diastolic and Decimal(diastolic), unit, at,
                        source, "final", None, self.user_id, monitor, at, "", "", "",
                    )
                )  # fmt: skip
            if at >= alert_since:
                severity = series.severity(float(text))
                if severity:
                    self._alert(series, citizen_id, clinic, monitor, observation_id, at, text, severity, open_since)
        self.counts["observations"] += len(readings)
        if series.stopped and readings:
            last = readings[-1][0]
            due = last + datetime.timedelta(hours=every + 24)
            if due < now:
                label, hours = self.messages[code][1], every
                message = self.missing % {
                    "measurement": label,
                    "hours": hours,
                    "since": f"{timezone.localtime(last):%d.%m.%Y %H:%M}",  # Danish, as the text
                }
                self.rows["alerts"].append(
                    (
                        citizen_id, monitor, AlertKind.MISSING, AlertSeverity.YELLOW, code, None, None,
                        series.schedule_id, message[:300], due, None, None, "",
                    )
                )  # fmt: skip
                self.counts["alerts open"] += 1

    def _alert(self, series, citizen_id, clinic, monitor, observation_id, at, text, severity, open_since) -> None:
        template, label, unit = self.messages[series.code]
        values = f"{self.labels[series.code]} {text.replace('.', ',')}"  # the Danish decimal comma
        message = template % {"measurement": label, "values": values, "unit": unit}
        raised = at + RECEIVED_AFTER
        still_open = at >= open_since
        acknowledged = None if still_open else raised + datetime.timedelta(minutes=self.rng.randint(10, 1200))
        for organisation in {clinic, monitor}:
            self.rows["alerts"].append(
                (
                    citizen_id, organisation, AlertKind.THRESHOLD, severity, series.code, observation_id,
                    series.threshold_id, None, message[:300], raised, acknowledged,
                    None if still_open else self.user_id, "" if still_open else "Set.",
                )
            )  # fmt: skip
            self.counts["alerts open" if still_open else "alerts acknowledged"] += 1
