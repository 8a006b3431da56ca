"""The citizen's home measurements as charts (the plan page and the measurements page) and the
colour of a measurement against the citizen's current limits (the citizen overview)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from citizens.models import Citizen

from . import selectors
from .measurements import MEASUREMENTS
from .models import Observation, Threshold
from .monitoring import evaluate

CHART_DAYS = 90
LIMITS = ("red_low", "yellow_low", "yellow_high", "red_high")


def _number(value) -> float | None:
    return None if value is None else float(value)


def measurement_charts(citizen: Citizen) -> list[dict]:
    """One chart per measurement type with data in the last 90 days, with the current limits;
    blood pressure has a line (and limits) for the systolic and for the diastolic pressure."""
    codes = {observation.code for observation in selectors.latest_observations(citizen=citizen)}
    if not codes:
        return []
    thresholds = selectors.current_thresholds(citizen=citizen)
    since = timezone.now() - datetime.timedelta(days=CHART_DAYS)
    charts = []
    for code, measurement in MEASUREMENTS.items():
        if code not in codes:
            continue
        observations = list(selectors.observation_series(citizen=citizen, code=code, since=since))
        if not observations:
            continue
        series = []
        for index, component in enumerate(measurement.components):
            threshold = thresholds.get(component.code)
            points = []
            for observation in observations:
                value = observation.value if index == 0 else observation.value_2
                if value is not None:
                    points.append([int(observation.effective_at.timestamp() * 1000), float(value)])
            series.append(
                {
                    "code": component.code,
                    "label": str(component.label),
                    "points": points,
                    "limits": {name: _number(getattr(threshold, name, None)) for name in LIMITS},
                }
            )
        charts.append(
            {
                "code": code,
                "script_id": f"chart-data-{code}",
                "label": measurement.label,
                "unit": measurement.unit_display,
                "observations": observations[::-1],
                "thresholds": [(c.label, thresholds.get(c.code)) for c in measurement.components],
                "data": {
                    "label": str(measurement.label),
                    "unit": measurement.unit_display,
                    "decimals": measurement.decimals,
                    "series": series,
                },
            }
        )
    return charts


def measurement_severity(observation: Observation, thresholds: dict[str, Threshold]) -> str | None:
    """The worst colour of a measurement's values against the current limits."""
    worst = None
    values = (observation.value, observation.value_2)
    for component, value in zip(MEASUREMENTS[observation.code].components, values, strict=False):
        if value is None:
            continue
        severity = evaluate(value, thresholds.get(component.code))
        if severity and worst != "red":
            worst = severity
    return worst
