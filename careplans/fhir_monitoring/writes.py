"""Observations POSTed as FHIR: read into the ``Reading`` the REST API makes of its JSON and
stored by the same services, so validation, thresholds, alerts and the access log are the REST
API's to the letter: one resource through ``observation_record`` (``POST /api/v1/observations/``),
a transaction's entries through ``observation_bulk_record`` (``.../observations/bulk/``, all or
nothing).

What the portal cannot store is a 400 OperationOutcome whose issues name the element that is
wrong (``expression``), never a 500. A patient the acting organisation may not see is "No such
patient", like one that does not exist, as the REST API's "No such citizen" (400, not 404: the
request, not the URL, names it). A resend with an identifier the organisation sent before is
not stored again: it answers 200 with the observation stored the first time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import dateparse
from django.utils.translation import gettext as _
from fhir.resources.R4B.observation import Observation as FhirObservation
from pydantic import ValidationError as PydanticValidationError

from citizens.access import Actor, visible_citizens
from citizens.fhir.codes import CPR, LOINC, UCUM
from citizens.fhir.http import FhirError, issue
from citizens.fhir.params import key_uuid
from citizens.fhir.writes import resource_body
from citizens.models import Citizen

from .. import monitoring
from ..choices import ObservationCode, ObservationSource
from ..measurements import MEASUREMENTS
from ..models import Observation
from ..selectors import citizen_for_write
from .observation import build, observation_rows

# The model's field of a Reading's error, as the element of the resource it came from.
_FIELDS = {
    "code": "code",
    "effective_at": "effectiveDateTime",
    "device_id": "device",
    "external_id": "identifier",
    "note": "note",
    "citizen": "subject",
}


@dataclass
class Parsed:
    """One Observation read: the patient it names and the reading, or the problems found."""

    prefix: str
    citizen_id: Any = None
    cpr: str = ""
    reading: monitoring.Reading | None = None
    pair: bool = False
    problems: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, text: Any, element: str | None = None, code: str = "invalid") -> None:
        self.problems.append(issue(code, str(text), f"{self.prefix}.{element}" if element else self.prefix))

    def expression(self, name: str) -> str:
        """The element a Reading's error names (``value_2`` is the diastolic component)."""
        if name in ("value", "value_2", "unit"):
            leaf = "code" if name == "unit" else "value"
            if self.pair:
                return f"component[{1 if name == 'value_2' else 0}].valueQuantity.{leaf}"
            return f"valueQuantity.{leaf}"
        return _FIELDS.get(name, "")

    def errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.problem(message)
            return
        for name, messages in error.message_dict.items():
            for message in messages:
                self.problem(message, self.expression(name) or None)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _subject(parsed: Parsed, subject: Any) -> None:
    if not isinstance(subject, dict):
        parsed.problem(_("Name the patient: subject.reference Patient/<id> or a CPR identifier."), "subject")
        return
    reference = _text(subject.get("reference"))
    if reference:
        parts = reference.rstrip("/").split("/")
        try:
            if len(parts) < 2 or parts[-2] != "Patient":
                raise ValueError(reference)
            parsed.citizen_id = key_uuid(parts[-1])
        except ValueError:
            parsed.problem(_("No such patient."), "subject.reference", "not-found")
        return
    identifier = subject.get("identifier")
    if isinstance(identifier, dict) and identifier.get("system") == CPR and _text(identifier.get("value")):
        parsed.cpr = _text(identifier["value"]).replace("-", "")
        return
    parsed.problem(_("Name the patient: subject.reference Patient/<id> or a CPR identifier."), "subject")


def _loinc(concept: Any) -> str | None:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    for coding in codings or []:
        if isinstance(coding, dict) and coding.get("system") == LOINC and coding.get("code"):
            return str(coding["code"])
    return None


def _quantity(parsed: Parsed, quantity: Any, element: str) -> tuple[Any, str]:
    """The value and the UCUM unit of a Quantity (its ``code``; ``unit`` is for people)."""
    if not isinstance(quantity, dict) or quantity.get("value") is None:
        parsed.problem(_("Give the measured value."), f"{element}.value")
        return None, ""
    if quantity.get("comparator"):
        parsed.problem(_("A measured value has no comparator."), f"{element}.comparator")
    system = quantity.get("system")
    if system not in (None, UCUM):
        parsed.problem(_("Give the unit in UCUM (%(system)s).") % {"system": UCUM}, f"{element}.system")
    unit = quantity.get("code") if system == UCUM or quantity.get("code") else quantity.get("unit")
    return quantity["value"], _text(unit)


def _values(parsed: Parsed, resource: dict[str, Any], code: str) -> tuple[Any, Any, str]:
    measurement = MEASUREMENTS[code]
    if not measurement.is_pair:
        if resource.get("component"):
            parsed.problem(_("This measurement has one value, in valueQuantity."), "component")
        value, unit = _quantity(parsed, resource.get("valueQuantity"), "valueQuantity")
        return value, None, unit
    parsed.pair = True
    if "valueQuantity" in resource:
        parsed.problem(_("Blood pressure is a panel: give its values as components."), "valueQuantity")
    components = resource.get("component") or []
    found: list[tuple[Any, str]] = []
    for index, component in enumerate(measurement.components):
        at = next(
            (i for i, c in enumerate(components) if isinstance(c, dict) and _loinc(c.get("code")) == component.code),
            None,
        )
        if at is None:
            parsed.problem(
                _("Blood pressure needs a component %(code)s (%(label)s).")
                % {"code": component.code, "label": component.label},
                "component",
            )
            found.append((None, ""))
            continue
        if at != index:
            parsed.problem(_("Give the systolic component first, then the diastolic."), f"component[{at}]")
        found.append(_quantity(parsed, components[at].get("valueQuantity"), f"component[{at}].valueQuantity"))
    units = {unit for _value, unit in found if unit}
    if len(units) > 1:
        parsed.problem(_("Both components are measured in mm[Hg]."), "component[1].valueQuantity.code")
    return found[0][0], found[1][0], found[0][1]


def _effective(parsed: Parsed, resource: dict[str, Any]) -> datetime.datetime | None:
    raw = resource.get("effectiveDateTime") or resource.get("effectiveInstant")
    element = "effectiveInstant" if "effectiveInstant" in resource else "effectiveDateTime"
    moment = dateparse.parse_datetime(raw) if isinstance(raw, str) else None
    if moment is None or moment.tzinfo is None:
        parsed.problem(_("Give the time of measurement as a date and time with a time zone."), element)
        return None
    return moment


def parse(prefix: str, resource: dict[str, Any]) -> Parsed:
    """Read one Observation resource; every problem is collected, none raised."""
    parsed = Parsed(prefix)
    if resource.get("resourceType") != "Observation":
        parsed.problem(_("Send an Observation."), "resourceType")
        return parsed
    try:
        FhirObservation.model_validate(resource)
    except PydanticValidationError as exc:
        for error in exc.errors():
            path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
            parsed.problems.append(issue("structure", error["msg"], f"{prefix}{path}"))
        return parsed
    except (ValueError, TypeError) as exc:  # what the library raises outside pydantic
        parsed.problem(str(exc))
        return parsed
    if resource.get("status") != "final":
        parsed.problem(_("A new measurement has status final."), "status")
    _subject(parsed, resource.get("subject"))
    code = _loinc(resource.get("code"))
    if code not in ObservationCode.values:
        parsed.problem(
            _("Give the LOINC code (%(system)s) of a home measurement: %(codes)s.")
            % {"system": LOINC, "codes": ", ".join(ObservationCode.values)},
            "code",
        )
        return parsed
    value, value_2, unit = _values(parsed, resource, code)
    effective_at = _effective(parsed, resource)
    device = resource.get("device") or {}
    device_id = _text((device.get("identifier") or {}).get("value")) or _text(device.get("display"))
    identifiers = resource.get("identifier") or []
    external_id = _text(identifiers[0].get("value")) if identifiers else ""
    note = "\n".join(_text(n.get("text")) for n in resource.get("note") or [] if _text(n.get("text")))
    for name, text, limit in (
        ("device", device_id, 100),
        ("identifier[0].value", external_id, 100),
        ("note", note, 300),
    ):
        if len(text) > limit:
            parsed.problem(_("At most %(n)d characters.") % {"n": limit}, name)
    if parsed.problems or effective_at is None:
        return parsed
    parsed.reading = monitoring.Reading(
        code=code,
        value=value,
        value_2=value_2,
        unit=unit,
        effective_at=effective_at,
        source=ObservationSource.DEVICE,
        device_id=device_id,
        external_id=external_id,
        note=note,
    )
    return parsed


def _invalid(problems: list[dict[str, Any]]) -> FhirError:
    return FhirError(400, "invalid", "; ".join(p["diagnostics"] for p in problems), issues=problems)


def _known(actor: Actor, readings: list[monitoring.Reading]) -> set[Any]:
    """The ids of the observations the organisation sent before under these identifiers."""
    external_ids = {reading.external_id for reading in readings if reading.external_id}
    if not external_ids or actor.organisation is None:
        return set()
    return set(
        Observation.objects.filter(
            entered_by_organisation=actor.organisation, external_id__in=external_ids
        ).values_list("pk", flat=True)
    )


def _answers(stored: list[Observation], known: set[Any]) -> list[tuple[dict[str, Any], int]]:
    rows = {row.pk: row for row in observation_rows().filter(pk__in=[o.pk for o in stored])}
    resources = dict(zip(rows, build(list(rows.values())), strict=True))
    answers = []
    for observation in stored:
        status = 200 if observation.pk in known else 201
        known.add(observation.pk)  # the same identifier twice in one transaction: stored once
        answers.append((resources[observation.pk], status))
    return answers


def _citizen_by_cpr(actor: Actor, cprs: set[str]) -> dict[str, Any]:
    if not cprs:
        return {}
    found = visible_citizens(actor.acting, actor.user).filter(cpr__in=cprs).values_list("cpr", "pk")
    return {cpr: pk for cpr, pk in found if cpr}


def observation_create(actor: Actor, request: HttpRequest) -> tuple[dict[str, Any], int]:
    """``POST /fhir/Observation``: 201 and the stored observation, 200 for a resend."""
    parsed = parse("Observation", resource_body(request))
    if parsed.problems:
        raise _invalid(parsed.problems)
    assert parsed.reading is not None
    citizen: Citizen | None = None
    if parsed.cpr:
        pk = _citizen_by_cpr(actor, {parsed.cpr}).get(parsed.cpr)
        citizen = citizen_for_write(actor=actor, pk=pk) if pk else None
    else:
        citizen = citizen_for_write(actor=actor, pk=parsed.citizen_id)
    if citizen is None:
        raise _invalid([issue("not-found", _("No such patient."), "Observation.subject")])
    known = _known(actor, [parsed.reading])
    try:
        stored = monitoring.observation_record(actor=actor, citizen=citizen, reading=parsed.reading)
    except PermissionDenied:  # the relationship ended between the lookup and the write
        raise _invalid([issue("not-found", _("No such patient."), "Observation.subject")]) from None
    except ValidationError as exc:
        parsed.errors(exc)
        raise _invalid(parsed.problems) from None
    return _answers([stored], known)[0]


def observation_create_entries(
    actor: Actor, items: list[tuple[str, dict[str, Any]]]
) -> list[tuple[dict[str, Any], int]]:
    """A transaction's Observations: all stored, or none and a 400 naming each wrong entry."""
    parsed = [parse(prefix, resource) for prefix, resource in items]
    by_cpr = _citizen_by_cpr(actor, {p.cpr for p in parsed if p.cpr and not p.problems})
    for entry in parsed:
        if entry.cpr and not entry.problems:
            entry.citizen_id = by_cpr.get(entry.cpr)
            if entry.citizen_id is None:
                entry.problem(_("No such patient."), "subject", "not-found")
    good = [entry for entry in parsed if not entry.problems and entry.reading is not None]
    bulk = [monitoring.BulkItem(citizen_id=entry.citizen_id, reading=entry.reading) for entry in good if entry.reading]
    if len(good) < len(parsed):  # report the service's findings on the well-read entries too
        found = monitoring.observation_bulk_validate(actor=actor, items=bulk) if bulk else {}
        for position, fields in found.items():
            good[position].errors(ValidationError(fields))
        raise _invalid([problem for entry in parsed for problem in entry.problems])
    known = _known(actor, [entry.reading for entry in good if entry.reading is not None])
    try:
        stored = monitoring.observation_bulk_record(actor=actor, items=bulk)
    except monitoring.BulkValidationError as exc:
        for position, fields in exc.item_errors.items():
            good[position].errors(ValidationError(fields))
        raise _invalid([problem for entry in parsed for problem in entry.problems]) from None
    except ValidationError as exc:  # the same identifiers arrived in a concurrent request
        raise FhirError(409, "conflict", "; ".join(exc.messages)) from None
    return _answers(stored, known)
