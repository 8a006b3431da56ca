"""A measurement as received (``Reading``) and the checks of its values, unit and time."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..measurements import MEASUREMENTS, implausible


@dataclass(frozen=True)
class Reading:
    """One measurement as received, before validation."""

    code: str
    value: Any
    unit: str
    effective_at: datetime.datetime
    source: str
    value_2: Any = None
    device_id: str = ""
    external_id: str = ""
    note: str = ""


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value).replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("Enter a number.")]}) from None
    if not number.is_finite():
        raise ValidationError({field: [_("Enter a number.")]})
    return number


def validate_reading(reading: Reading) -> tuple[Decimal, Decimal | None]:
    """The measurement's values, or a ValidationError naming the field that is wrong."""
    measurement = MEASUREMENTS.get(reading.code)
    if measurement is None:
        raise ValidationError({"code": [_("Unknown measurement type %(code)s.") % {"code": reading.code}]})
    if not reading.unit:
        raise ValidationError({"unit": [_("The unit is missing; expected %(unit)s.") % {"unit": measurement.unit}]})
    if reading.unit != measurement.unit:
        raise ValidationError(
            {
                "unit": [
                    _("Wrong unit %(given)s; expected %(unit)s.") % {"given": reading.unit, "unit": measurement.unit}
                ]
            }
        )
    if reading.effective_at is None:
        raise ValidationError({"effective_at": [_("When was it measured?")]})
    if reading.effective_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"effective_at": [_("The time of measurement is in the future.")]})
    values = [_decimal(reading.value, "value")]
    if measurement.is_pair:
        if reading.value_2 in (None, ""):
            raise ValidationError({"value_2": [_("Blood pressure needs both the systolic and the diastolic value.")]})
        values.append(_decimal(reading.value_2, "value_2"))
    elif reading.value_2 not in (None, ""):
        raise ValidationError({"value_2": [_("This measurement has one value.")]})
    for index, (value, component) in enumerate(zip(values, measurement.components, strict=True)):
        problem = implausible(component.code, value)
        if problem:
            raise ValidationError({"value" if index == 0 else "value_2": [problem]})
    if measurement.is_pair and values[1] >= values[0]:
        raise ValidationError({"value_2": [_("The diastolic pressure must be below the systolic.")]})
    return values[0], (values[1] if measurement.is_pair else None)
