"""What each home measurement is: its UCUM unit, its components and the values that are
physically plausible. A value outside the plausible range is refused as a typing or device error
(a weight of 900 kg), not stored and alerted on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from .choices import ObservationCode, ThresholdCode


@dataclass(frozen=True)
class Component:
    code: str  # the LOINC code thresholds are set for
    label: str
    minimum: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class MeasurementType:
    code: str
    label: str
    unit: str  # UCUM
    unit_display: str
    components: tuple[Component, ...]
    decimals: int

    @property
    def is_pair(self) -> bool:
        return len(self.components) == 2


def _d(value: str) -> Decimal:
    return Decimal(value)


MEASUREMENTS: dict[str, MeasurementType] = {
    ObservationCode.BLOOD_PRESSURE: MeasurementType(
        ObservationCode.BLOOD_PRESSURE,
        _("Blood pressure"),
        "mm[Hg]",
        "mmHg",
        (
            Component(ThresholdCode.SYSTOLIC, _("Systolic"), _d("50"), _d("300")),
            Component(ThresholdCode.DIASTOLIC, _("Diastolic"), _d("20"), _d("200")),
        ),
        0,
    ),
    ObservationCode.HEART_RATE: MeasurementType(
        ObservationCode.HEART_RATE,
        _("Heart rate"),
        "/min",
        "/min",
        (Component(ThresholdCode.HEART_RATE, _("Heart rate"), _d("20"), _d("250")),),
        0,
    ),
    ObservationCode.SPO2: MeasurementType(
        ObservationCode.SPO2,
        _("Oxygen saturation"),
        "%",
        "%",
        (Component(ThresholdCode.SPO2, _("SpO2"), _d("50"), _d("100")),),
        0,
    ),
    ObservationCode.BODY_WEIGHT: MeasurementType(
        ObservationCode.BODY_WEIGHT,
        _("Body weight"),
        "kg",
        "kg",
        (Component(ThresholdCode.BODY_WEIGHT, _("Weight"), _d("20"), _d("350")),),
        1,
    ),
    ObservationCode.BLOOD_GLUCOSE: MeasurementType(
        ObservationCode.BLOOD_GLUCOSE,
        _("Blood glucose"),
        "mmol/L",
        "mmol/L",
        (Component(ThresholdCode.BLOOD_GLUCOSE, _("Glucose"), _d("1"), _d("40")),),
        1,
    ),
    ObservationCode.FEV1: MeasurementType(
        ObservationCode.FEV1,
        _("FEV1"),
        "L",
        "L",
        (Component(ThresholdCode.FEV1, _("FEV1"), _d("0.2"), _d("8")),),
        2,
    ),
}

COMPONENT_BY_CODE: dict[str, tuple[MeasurementType, int]] = {
    component.code: (measurement, index)
    for measurement in MEASUREMENTS.values()
    for index, component in enumerate(measurement.components)
}


def implausible(component_code: str, value: Decimal) -> str | None:
    """Why a value of the component (a threshold code) is not plausible, or None if it is."""
    measurement, index = COMPONENT_BY_CODE[component_code]
    component = measurement.components[index]
    if component.minimum <= value <= component.maximum:
        return None
    return _("%(label)s %(value)s %(unit)s is not plausible (%(min)s–%(max)s).") % {
        "label": component.label,
        "value": number_text(value),
        "unit": measurement.unit_display,
        "min": number_text(component.minimum),
        "max": number_text(component.maximum),
    }


def number_text(value: Decimal) -> str:
    """A measured value as the reader's language writes it (77,8 in Danish, 77.8 in English),
    without trailing zeros and never in exponent form; no thousands grouping."""
    return formats.number_format(value.normalize(), use_l10n=True)
