"""Observation: a home measurement, blood pressure as a panel of its systolic and diastolic
components, with its interpretation against the citizen's limits.

The interpretation is the one the portal made when it received the reading: the thresholds in
force at ``entered_at`` (the version ``observation_record`` compared the reading with to decide
on an alert), each component compared by ``monitoring.evaluate``. So an Observation marked HH
is one the portal raised a red alert (a Flag) for, and one marked N is one it did not. A page
reads the thresholds of all its citizens, every version, in one query.

Corrections are never overwrites (``monitoring.observation_correct``): the superseded version
keeps its id with status ``amended`` (or ``entered-in-error`` when withdrawn), and the version
that replaces it names it in ``derivedFrom``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from citizens.fhir.codes import INTERPRETATION, LOINC, OBSERVATION_CATEGORY, OBSERVATION_STATUS, UCUM
from citizens.fhir.params import DateParam, ReferenceParam, Token, TokenParam, key_uuid, token_codes
from citizens.fhir.registry import Include, ResourceType
from smartcare.datetimes import rfc3339
from smartcare.prepared import PreparedQuery

from ..choices import AlertSeverity, ObservationCode, ObservationStatus, ThresholdCode
from ..measurements import MEASUREMENTS
from ..models import Observation, Threshold
from ..monitoring import evaluate

# LOINC's own display names (the portal's labels are translated; a coding's display is not).
LOINC_DISPLAY: dict[str, str] = {
    ObservationCode.BLOOD_PRESSURE: "Blood pressure panel with all children optional",
    ThresholdCode.SYSTOLIC: "Systolic blood pressure",
    ThresholdCode.DIASTOLIC: "Diastolic blood pressure",
    ObservationCode.HEART_RATE: "Heart rate",
    ObservationCode.SPO2: "Oxygen saturation in Arterial blood by Pulse oximetry",
    ObservationCode.BODY_WEIGHT: "Body weight",
    ObservationCode.BLOOD_GLUCOSE: "Glucose [Moles/volume] in Blood",
    ObservationCode.FEV1: "FEV1",
}
INTERPRETATION_DISPLAY = {
    "N": "Normal",
    "L": "Low",
    "H": "High",
    "LL": "Critical low",
    "HH": "Critical high",
}
VITAL_SIGNS = {"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}


def number(value: Decimal) -> int | float:
    """A stored value as a JSON number, without the column's trailing zeros (72.50 → 72.5)."""
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


def interpretation_code(value: Decimal, threshold: Threshold | None) -> str | None:
    """H/L for a value beyond a yellow limit, HH/LL beyond a red one, N within; None without limits."""
    if threshold is None:
        return None
    severity = evaluate(value, threshold)
    if severity is None:
        return "N"
    if severity == AlertSeverity.RED:
        return "LL" if threshold.red_low is not None and value < threshold.red_low else "HH"
    return "L" if threshold.yellow_low is not None and value < threshold.yellow_low else "H"


def _in_force(versions: list[Threshold], at: datetime.datetime) -> Threshold | None:
    for threshold in versions:
        if threshold.valid_from <= at and (threshold.valid_to is None or at < threshold.valid_to):
            return threshold
    return None


# The translated labels per language: translating each anew (a lazy text) cost a page of ten
# panels more than reading its rows. The catalogues do not change while a process runs.
_TEXTS: dict[str | None, dict[str, str]] = {}


def _text(code: str, label: Any) -> str:
    texts = _TEXTS.setdefault(get_language(), {})
    if code not in texts:
        texts[code] = str(label)
    return texts[code]


def _coded(code: str, label: Any) -> dict[str, Any]:
    return {
        "coding": [{"system": LOINC, "code": code, "display": LOINC_DISPLAY.get(code, code)}],
        "text": _text(code, label),
    }


def _quantity(value: Decimal, unit: str) -> dict[str, Any]:
    return {"value": number(value), "unit": "mmHg" if unit == "mm[Hg]" else unit, "system": UCUM, "code": unit}


def _interpretation(code: str | None) -> list[dict[str, Any]]:
    if code is None:
        return []
    return [{"coding": [{"system": INTERPRETATION, "code": code, "display": INTERPRETATION_DISPLAY[code]}]}]


def observation(row: Observation, thresholds: dict[str, list[Threshold]]) -> dict[str, Any]:
    measurement = MEASUREMENTS[row.code]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(row.pk),
        "meta": {"lastUpdated": rfc3339(row.entered_at)},
    }
    if row.external_id:
        resource["identifier"] = [{"value": row.external_id}]
    resource["status"] = row.status
    resource["category"] = [VITAL_SIGNS]
    resource["code"] = _coded(row.code, measurement.label)
    resource["subject"] = {"reference": f"Patient/{row.citizen_id}"}
    resource["effectiveDateTime"] = rfc3339(row.effective_at)
    resource["issued"] = rfc3339(row.entered_at)
    organisation = row.entered_by_organisation
    resource["performer"] = [{"reference": f"Organization/{organisation.pk}", "display": organisation.name}]
    judged = row.status != ObservationStatus.ENTERED_IN_ERROR
    values = (row.value, row.value_2)
    if measurement.is_pair:
        components = []
        for component, value in zip(measurement.components, values, strict=True):
            if value is None:
                continue
            entry: dict[str, Any] = {"code": _coded(component.code, component.label)}
            entry["valueQuantity"] = _quantity(value, row.unit)
            found = _in_force(thresholds.get(component.code, []), row.entered_at) if judged else None
            if interpretation := _interpretation(interpretation_code(value, found)):
                entry["interpretation"] = interpretation
            components.append(entry)
        resource["component"] = components
    else:
        resource["valueQuantity"] = _quantity(row.value, row.unit)
        component = measurement.components[0]
        found = _in_force(thresholds.get(component.code, []), row.entered_at) if judged else None
        if interpretation := _interpretation(interpretation_code(row.value, found)):
            resource["interpretation"] = interpretation
    if row.note:
        resource["note"] = [{"text": row.note}]
    if row.device_id:
        resource["device"] = {"display": row.device_id}
    if row.replaces_id:
        resource["derivedFrom"] = [{"reference": f"Observation/{row.replaces_id}"}]
    return resource


def observation_rows() -> QuerySet[Observation]:
    return Observation.objects.select_related("entered_by_organisation")


# A page of one citizen's measurements (a device's or an EPJ's usual search) reads its limits with
# a statement prepared once (``smartcare.prepared``): building it cost more than running it.
_ONE_CITIZENS_THRESHOLDS = PreparedQuery(
    lambda pk: Threshold.objects.filter(citizen_id=pk).order_by("-valid_from"),
    [(uuid.UUID(int=1), uuid.UUID(int=2))],
)


def build(rows: Sequence[Observation]) -> list[dict[str, Any]]:
    """A page of observations with the threshold versions of its citizens read in one query."""
    versions: dict[Any, dict[str, list[Threshold]]] = {}
    citizen_ids = {row.citizen_id for row in rows}
    if rows and all(hasattr(row, "thresholds_read") for row in rows):  # read with the page
        versions = {row.citizen_id: row.thresholds_read for row in rows}  # type: ignore[attr-defined]
        return [observation(row, versions[row.citizen_id]) for row in rows]
    if len(citizen_ids) == 1:
        found: Iterable[Threshold] = _ONE_CITIZENS_THRESHOLDS.rows(next(iter(citizen_ids)))
    else:
        found = Threshold.objects.filter(citizen_id__in=citizen_ids).order_by("-valid_from") if citizen_ids else []
    for threshold in found:
        versions.setdefault(threshold.citizen_id, {}).setdefault(threshold.code, []).append(threshold)
    return [observation(row, versions.get(row.citizen_id, {})) for row in rows]


# The LOINC codes a search may name: the measurements, and blood pressure's components (which
# find the panels they are part of).
SEARCH_CODES = {**{code: code for code in ObservationCode.values}} | {
    ThresholdCode.SYSTOLIC.value: ObservationCode.BLOOD_PRESSURE.value,
    ThresholdCode.DIASTOLIC.value: ObservationCode.BLOOD_PRESSURE.value,
}


def _code(token: Token) -> Q:
    return Q(code__in=token_codes(token, LOINC, SEARCH_CODES))


def _status(token: Token) -> Q:
    return Q(status__in=token_codes(token, OBSERVATION_STATUS, ObservationStatus.values))


def _category(token: Token) -> Q:
    return Q() if token_codes(token, OBSERVATION_CATEGORY, ["vital-signs"]) else Q(pk__in=[])


def _identifier(token: Token) -> Q:
    if token.code is None or token.system not in (None, ""):
        return Q(pk__in=[])
    return Q(external_id=token.code)


def _citizens(rows: Sequence[Observation]) -> Q:
    return Q(pk__in={row.citizen_id for row in rows})


def _patient_param(name: str) -> ReferenceParam:
    return ReferenceParam(
        name, "The citizen (Patient/<id>).", field_name="citizen_id", targets=("Patient",), convert=key_uuid
    )


def observation_type(create: Any, create_entries: Any, citizen_page: Any) -> ResourceType:
    """The type, with its writes (``writes``, which build their answers with ``build``) and its
    prepared page of one citizen (``observation_pages``, which reads ``observation_rows``)."""
    return ResourceType(
        name="Observation",
        description=(
            "Home measurements (LOINC), blood pressure as a panel of its components, interpreted against "
            "the citizen's limits. Created by POST (FHIR JSON) or in a transaction Bundle."
        ),
        rows=observation_rows,
        build=build,
        parse_id=key_uuid,
        params=(
            _patient_param("patient"),
            _patient_param("subject"),
            TokenParam(
                "code",
                f"The LOINC code ({LOINC}|…); 8480-6 and 8462-4 find blood pressure panels.",
                match=_code,
            ),
            DateParam("date", "When it was measured, with prefixes (ge, lt, …).", field_name="effective_at"),
            TokenParam("status", "final, amended (superseded by a correction) or entered-in-error.", match=_status),
            TokenParam("category", "vital-signs.", match=_category),
            TokenParam("identifier", "The sender's id of the measurement.", match=_identifier),
        ),
        sorts={"date": ("effective_at",)},
        default_order=("-effective_at",),
        includes=(Include("patient", "Patient", _citizens), Include("subject", "Patient", _citizens)),
        create=create,
        create_entries=create_entries,
        citizen_page=citizen_page,
    )
