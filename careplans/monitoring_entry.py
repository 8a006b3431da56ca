"""One measurement entry on the tablet that stores more than one observation: the blood pressure
monitor shows the pulse with the pressure, so the nurse types systolic, diastolic and pulse
together, and they are saved as a blood pressure (85354-9) and a heart rate (8867-4) with the same
time, source and note: both or neither."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.models import Citizen
from smartcare.transactions import retry_on_deadlock

from .choices import ObservationCode
from .measurements import MEASUREMENTS
from .models import Observation
from .monitoring import Reading, observation_record, validate_reading

# The measurement whose device also shows the pulse.
WITH_PULSE = ObservationCode.BLOOD_PRESSURE


def _pulse_reading(reading: Reading, pulse: Any) -> Reading:
    return dataclasses.replace(
        reading,
        code=ObservationCode.HEART_RATE,
        value=pulse,
        value_2=None,
        unit=MEASUREMENTS[ObservationCode.HEART_RATE].unit,
        external_id=f"{reading.external_id}/pulse" if reading.external_id else "",
    )


def _errors(reading: Reading, rename: dict[str, str] | None = None) -> dict[str, list[str]]:
    try:
        validate_reading(reading)
    except ValidationError as exc:
        rename = rename or {}
        return {rename.get(field, field): messages for field, messages in exc.message_dict.items()}
    return {}


@retry_on_deadlock
@transaction.atomic
def measurement_entry_record(
    *, actor: Actor, citizen: Citizen, reading: Reading, pulse: Any = None
) -> list[Observation]:
    """Store the entry's observations (the reading, and the pulse when one is given) and raise
    the alerts they call for. A wrong value in either refuses both, each error on its own field
    (the pulse's on ``pulse``)."""
    if pulse in (None, ""):
        return [observation_record(actor=actor, citizen=citizen, reading=reading)]
    if reading.code != WITH_PULSE:
        raise ValidationError({"pulse": [_("Only a blood pressure is entered with the pulse.")]})
    pulse_reading = _pulse_reading(reading, pulse)
    errors = _errors(reading) | _errors(pulse_reading, rename={"value": "pulse"})
    if errors:
        raise ValidationError(errors)
    return [
        observation_record(actor=actor, citizen=citizen, reading=reading),
        observation_record(actor=actor, citizen=citizen, reading=pulse_reading),
    ]
