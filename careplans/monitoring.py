"""Home monitoring: recording measurements, thresholds, and the alerts they raise.

A measurement outside a citizen's threshold raises a yellow or red alert for the coordinating
organisation of each of the citizen's open care plans and for each organisation responsible for
monitoring that measurement (its schedule); the GP clinic when there is neither. A value exactly
at a limit is inside it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from citizens.access import Actor, access_reason
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen
from citizens.permissions import may_monitor, require_set_thresholds
from sectors.models import Organisation

from .choices import AlertKind, AlertSeverity, CareEventKind, ObservationStatus
from .measurements import COMPONENT_BY_CODE, MEASUREMENTS, implausible, number_text
from .models import OPEN_PLAN_STATUSES, Alert, CareEvent, CarePlan, MonitoringSchedule, Observation, Threshold

BULK_LIMIT = 1000


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


def _require_access(actor: Actor, citizen: Citizen) -> tuple[str, str]:
    reason = access_reason(actor, citizen)
    if reason is None:
        raise PermissionDenied
    return reason


# --- thresholds ---------------------------------------------------------------------------------


def current_thresholds(citizen: Citizen) -> dict[str, Threshold]:
    return {t.code: t for t in Threshold.objects.filter(citizen=citizen, valid_to__isnull=True)}


def evaluate(value: Decimal, threshold: Threshold | None) -> str | None:
    """The alert severity for a value, or None when it is within the limits (limits included)."""
    if threshold is None:
        return None
    if (threshold.red_low is not None and value < threshold.red_low) or (
        threshold.red_high is not None and value > threshold.red_high
    ):
        return AlertSeverity.RED
    if (threshold.yellow_low is not None and value < threshold.yellow_low) or (
        threshold.yellow_high is not None and value > threshold.yellow_high
    ):
        return AlertSeverity.YELLOW
    return None


@transaction.atomic
def threshold_set(
    *,
    actor: Actor,
    citizen: Citizen,
    code: str,
    reason: str,
    red_low: Any = None,
    yellow_low: Any = None,
    yellow_high: Any = None,
    red_high: Any = None,
) -> Threshold:
    """A new version of the citizen's limits for one measured quantity; the old one is kept."""
    require_set_thresholds(actor)
    access = _require_access(actor, citizen)
    if code not in COMPONENT_BY_CODE:
        raise ValidationError({"code": [_("Unknown measured quantity %(code)s.") % {"code": code}]})
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Give the clinical reason for these limits.")]})
    limits = {
        name: (None if value in (None, "") else _decimal(value, name))
        for name, value in (
            ("red_low", red_low),
            ("yellow_low", yellow_low),
            ("yellow_high", yellow_high),
            ("red_high", red_high),
        )
    }
    if all(v is None for v in limits.values()):
        raise ValidationError(_("Set at least one limit."))
    measurement, _index = COMPONENT_BY_CODE[code]
    current = Threshold.objects.select_for_update().filter(citizen=citizen, code=code, valid_to__isnull=True).first()
    now = timezone.now()
    version = 1
    if current is not None:
        current.valid_to = now
        current.save(update_fields=["valid_to"])
        version = current.version + 1
    threshold = Threshold(
        citizen=citizen,
        code=code,
        unit=measurement.unit,
        reason=reason.strip(),
        version=version,
        set_by=actor.user,
        set_by_organisation=actor.organisation,
        valid_from=now,
        **limits,
    )
    threshold.full_clean()
    threshold.save()
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=f"threshold {code} v{version}",
        reason=access[0],
        reason_text=access[1],
    )
    return threshold


# --- alerts -------------------------------------------------------------------------------------


def alert_recipients(citizen: Citizen, code: str) -> list[Organisation]:
    """The plan coordinators and the monitoring organisations for this measurement."""
    orgs: dict[int, Organisation] = {}
    plans = CarePlan.objects.filter(citizen=citizen, status__in=OPEN_PLAN_STATUSES).select_related(
        "coordinating_organisation"
    )
    for plan in plans:
        orgs.setdefault(plan.coordinating_organisation_id, plan.coordinating_organisation)
    now = timezone.now()
    schedules = (
        MonitoringSchedule.objects.filter(citizen=citizen, code=code, starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("monitoring_organisation")
    )
    for schedule in schedules:
        orgs.setdefault(schedule.monitoring_organisation_id, schedule.monitoring_organisation)
    if not orgs and citizen.gp_clinic_id:
        orgs[citizen.gp_clinic_id] = citizen.gp_clinic
    return list(orgs.values())


def _raise_alert(
    *,
    citizen: Citizen,
    severity: str,
    kind: str,
    code: str,
    message: str,
    observation=None,
    threshold=None,
    schedule=None,
    recipients: Iterable[Organisation],
    at: datetime.datetime | None = None,
) -> list[Alert]:
    alerts = []
    for organisation in recipients:
        alert = Alert(
            citizen=citizen,
            organisation=organisation,
            kind=kind,
            severity=severity,
            code=code,
            observation=observation,
            threshold=threshold,
            schedule=schedule,
            message=message[:300],
            created_at=at or timezone.now(),
        )
        try:
            with transaction.atomic():
                alert.save()
        except IntegrityError:  # already raised (a task or a request ran twice)
            continue
        alerts.append(alert)
        CareEvent.objects.get_or_create(
            dedupe_key=f"alert:{alert.pk}",
            defaults={
                "kind": CareEventKind.ALERT_RAISED,
                "organisation": organisation,
                "citizen": citizen,
                "payload": {"alert": alert.pk, "severity": severity, "kind": kind},
            },
        )
    return alerts


def _alerts_for(
    observation: Observation,
    thresholds: dict[str, Threshold],
    recipients: dict[tuple[Any, str], list[Organisation]] | None = None,
) -> list[Alert]:
    """Alerts for one observation; ``recipients`` caches the recipients per citizen and
    measurement across the readings of one bulk request."""
    measurement = MEASUREMENTS[observation.code]
    values = [observation.value, observation.value_2]
    worst = None
    parts = []
    used = None
    for component, value in zip(measurement.components, values, strict=False):
        threshold = thresholds.get(component.code)
        severity = evaluate(value, threshold)
        if severity:
            parts.append(f"{component.label} {number_text(value)}")
            if worst != AlertSeverity.RED:
                worst, used = severity, threshold
    if worst is None:
        return []
    message = _("%(measurement)s outside the limits: %(values)s %(unit)s") % {
        "measurement": measurement.label,
        "values": ", ".join(parts),
        "unit": measurement.unit_display,
    }
    return _raise_alert(
        citizen=observation.citizen,
        severity=worst,
        kind=AlertKind.THRESHOLD,
        code=observation.code,
        message=message,
        observation=observation,
        threshold=used,
        recipients=_recipients(observation, recipients),
    )


def _recipients(observation: Observation, cache: dict | None) -> list[Organisation]:
    if cache is None:
        return alert_recipients(observation.citizen, observation.code)
    key = (observation.citizen_id, observation.code)
    if key not in cache:
        cache[key] = alert_recipients(observation.citizen, observation.code)
    return cache[key]


# --- observations -------------------------------------------------------------------------------


def _new_observation(
    actor: Actor, citizen: Citizen, reading: Reading, values, replaces: Observation | None = None
) -> Observation:
    return Observation(
        citizen=citizen,
        code=reading.code,
        value=values[0],
        value_2=values[1],
        unit=reading.unit,
        effective_at=reading.effective_at,
        source=reading.source,
        entered_by=actor.user,
        entered_by_organisation=actor.organisation,
        device_id=reading.device_id,
        external_id=reading.external_id,
        note=reading.note,
        replaces=replaces,
    )


def _store(actor: Actor, citizen: Citizen, reading: Reading, values, replaces: Observation | None = None):
    observation = _new_observation(actor, citizen, reading, values, replaces)
    observation.full_clean(exclude=["replaces"] if replaces is None else None, validate_unique=False)
    observation.save()
    return observation


def _duplicate(actor: Actor, reading: Reading) -> Observation | None:
    if not reading.external_id:
        return None
    return Observation.objects.filter(
        entered_by_organisation=actor.organisation, external_id=reading.external_id
    ).first()


@transaction.atomic
def observation_record(*, actor: Actor, citizen: Citizen, reading: Reading) -> Observation:
    """Store one measurement and raise the alerts it calls for. A reading whose external id was
    received before is not stored again (the earlier observation is returned)."""
    access = _require_access(actor, citizen)
    values = validate_reading(reading)
    existing = _duplicate(actor, reading)
    if existing is not None:
        return existing
    observation = _store(actor, citizen, reading, values)
    _alerts_for(observation, current_thresholds(citizen))
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=f"observation {reading.code}",
        reason=access[0],
        reason_text=access[1],
    )
    return observation


@dataclass(frozen=True)
class BulkItem:
    citizen_id: Any
    reading: Reading


class BulkValidationError(ValidationError):
    """The items of a bulk request that are wrong: ``item_errors`` maps each one's index (in the
    list as sent) to its field errors. Django's ValidationError cannot nest a dict of dicts, so
    the per-item shape travels here; ``message_dict`` carries a flat, readable version."""

    def __init__(self, item_errors: dict[int, dict[str, list[str]]]):
        self.item_errors = dict(sorted(item_errors.items()))
        super().__init__(
            {
                "items": [
                    f"{index}: {field}: {message}"
                    for index, fields in self.item_errors.items()
                    for field, messages in fields.items()
                    for message in messages
                ]
            }
        )


def check_bulk_size(count: int) -> None:
    if count < 1:
        raise ValidationError({"items": [_("Send at least one measurement.")]})
    if count > BULK_LIMIT:
        raise ValidationError({"items": [_("At most %(n)d measurements per request.") % {"n": BULK_LIMIT}]})


def _bulk_prepare(actor: Actor, items: list[BulkItem]):
    """Validate every item without writing: one query for the citizens, none per item."""
    from citizens.access import visible_citizens

    check_bulk_size(len(items))
    ids = {str(item.citizen_id) for item in items}
    visible = visible_citizens(actor.acting, actor.user, with_reason=True).filter(pk__in=_valid_uuids(ids))
    citizens = {str(c.pk): c for c in visible}
    errors: dict[int, dict[str, list[str]]] = {}
    prepared: list[Observation] = []
    for index, item in enumerate(items):
        citizen = citizens.get(str(item.citizen_id))
        if citizen is None:
            errors[index] = {"citizen": [_("No such citizen.")]}
            continue
        try:
            values = validate_reading(item.reading)
            observation = _new_observation(actor, citizen, item.reading, values)
            # The foreign keys are known to exist and duplicates are looked up together below.
            observation.full_clean(
                exclude=["citizen", "entered_by", "entered_by_organisation", "replaces"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            errors[index] = exc.message_dict
            continue
        prepared.append(observation)
    return citizens, prepared, errors


def observation_bulk_validate(*, actor: Actor, items: list[BulkItem]) -> dict[int, dict[str, list[str]]]:
    """The errors ``observation_bulk_record`` would report, by item index; stores nothing."""
    return _bulk_prepare(actor, items)[2]


@transaction.atomic
def observation_bulk_record(*, actor: Actor, items: list[BulkItem]) -> list[Observation]:
    """All or nothing, for devices: every item is validated first; if any is wrong nothing is
    stored and a ``BulkValidationError`` names the wrong items by index. A reading whose external
    id was received before (or earlier in the same list) is not stored again: the earlier
    observation is returned in its place. A fixed number of queries for any number of readings,
    plus the inserts and the alerts raised."""
    citizens, prepared, errors = _bulk_prepare(actor, items)
    if errors:
        raise BulkValidationError(errors)
    external_ids = {o.external_id for o in prepared if o.external_id}
    known: dict[str, Observation] = {}
    if external_ids:
        known = {
            o.external_id: o
            for o in Observation.objects.filter(
                entered_by_organisation=actor.organisation, external_id__in=external_ids
            )
        }
    stored: list[Observation] = []
    new: list[Observation] = []
    for observation in prepared:
        if observation.external_id:
            if observation.external_id in known:
                stored.append(known[observation.external_id])
                continue
            known[observation.external_id] = observation
        new.append(observation)
        stored.append(observation)
    try:
        with transaction.atomic():
            Observation.objects.bulk_create(new)
    except IntegrityError:  # the same external id arrived in a concurrent request
        raise ValidationError(
            {"items": [_("Some of these measurements are being received in another request; send them again.")]}
        ) from None
    thresholds: dict[Any, dict[str, Threshold]] = {}
    for threshold in Threshold.objects.filter(citizen_id__in=[c.pk for c in citizens.values()], valid_to__isnull=True):
        thresholds.setdefault(threshold.citizen_id, {})[threshold.code] = threshold
    recipients: dict[tuple[Any, str], list[Organisation]] = {}
    for observation in new:
        _alerts_for(observation, thresholds.get(observation.citizen_id, {}), recipients)
    access_log_record(
        actor=actor,
        citizens=citizens.values(),
        action=AccessAction.UPDATE,
        detail="observations (bulk)",
        reasons={citizen.pk: citizen.access_via for citizen in citizens.values()},
    )
    return stored


def _valid_uuids(values: Iterable[str]) -> list[str]:
    import uuid

    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except (ValueError, AttributeError, TypeError):
            continue
    return valid


@transaction.atomic
def observation_correct(
    *, actor: Actor, observation: Observation, reading: Reading | None = None, note: str = ""
) -> Observation:
    """Correct a measurement without overwriting it: with a new reading the old one becomes
    amended and the new one replaces it; without one the old one is marked entered-in-error."""
    access = _require_access(actor, observation.citizen)
    observation = Observation.objects.select_for_update().get(pk=observation.pk)
    if observation.status != ObservationStatus.FINAL:
        raise ValidationError(_("Only the current version of a measurement can be corrected."))
    if reading is None:
        observation.status = ObservationStatus.ENTERED_IN_ERROR
        observation.note = (note or observation.note)[:300]
        observation.save(update_fields=["status", "note"])
        result = observation
    else:
        if reading.code != observation.code:
            raise ValidationError({"code": [_("A correction is of the same measurement type.")]})
        values = validate_reading(reading)
        observation.status = ObservationStatus.AMENDED
        observation.save(update_fields=["status"])
        result = _store(actor, observation.citizen, reading, values, replaces=observation)
        _alerts_for(result, current_thresholds(observation.citizen))
    access_log_record(
        actor=actor,
        citizens=observation.citizen,
        action=AccessAction.UPDATE,
        detail=f"observation corrected {observation.pk}",
        reason=access[0],
        reason_text=access[1],
    )
    return result


# --- acknowledging ------------------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, actor: Actor, alert: Alert, note: str = "") -> Alert:
    if not actor.acting or alert.organisation_id != actor.organisation.pk:
        raise PermissionDenied
    _require_access(actor, alert.citizen)
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=actor.user, acknowledgement_note=note[:2000]
    )
    if not updated:
        raise ValidationError(_("The alert has already been acknowledged."))
    alert.refresh_from_db()
    return alert


@transaction.atomic
def alerts_acknowledge_yellow(*, actor: Actor, citizen: Citizen, note: str = "") -> int:
    """Acknowledge every open yellow alert of one citizen for the acting organisation at once."""
    if not actor.acting:
        raise PermissionDenied
    _require_access(actor, citizen)
    return Alert.objects.filter(
        citizen=citizen,
        organisation=actor.organisation,
        severity=AlertSeverity.YELLOW,
        acknowledged_at__isnull=True,
    ).update(acknowledged_at=timezone.now(), acknowledged_by=actor.user, acknowledgement_note=note[:2000])


# --- schedules and missing measurements --------------------------------------------------------


@transaction.atomic
def schedule_create(
    *,
    actor: Actor,
    citizen: Citizen,
    code: str,
    every_hours: int,
    monitoring_organisation: Organisation,
    grace_hours: int = 6,
    care_plan: CarePlan | None = None,
) -> MonitoringSchedule:
    require_set_thresholds(actor)
    access = _require_access(actor, citizen)
    if code not in MEASUREMENTS:
        raise ValidationError({"code": [_("Unknown measurement type %(code)s.") % {"code": code}]})
    if not may_monitor(monitoring_organisation, citizen):
        message = _("Only an organisation with a care relationship with the citizen can monitor the measurements.")
        raise ValidationError({"monitoring_organisation": [message]})
    schedule = MonitoringSchedule(
        citizen=citizen,
        code=code,
        every_hours=every_hours,
        grace_hours=grace_hours,
        monitoring_organisation=monitoring_organisation,
        care_plan=care_plan,
    )
    schedule.full_clean()
    schedule.save()
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=f"monitoring schedule {code}",
        reason=access[0],
        reason_text=access[1],
    )
    return schedule


def missing_measurements_check(*, now: datetime.datetime | None = None) -> int:
    """Raise a "missing measurement" alert where a scheduled measurement is late. One open
    alert per schedule at a time, so running it twice (or every 15 minutes) raises nothing twice."""
    now = now or timezone.now()
    raised = 0
    schedules = (
        MonitoringSchedule.objects.filter(starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("citizen", "monitoring_organisation")
    )
    for schedule in schedules.iterator(chunk_size=500):
        last = (
            Observation.objects.filter(
                citizen_id=schedule.citizen_id, code=schedule.code, status__in=["final", "amended"]
            )
            .order_by("-effective_at")
            .values_list("effective_at", flat=True)
            .first()
        )
        since = max(last or schedule.starts_at, schedule.starts_at)
        due = since + datetime.timedelta(hours=schedule.every_hours + schedule.grace_hours)
        if due > now:
            continue
        # Already told about this gap (open or acknowledged): an alert raised once it was due. Not
        # "since the last measurement": a late upload can date that before an earlier alert.
        if Alert.objects.filter(schedule=schedule, kind=AlertKind.MISSING, created_at__gte=due).exists():
            continue
        label = MEASUREMENTS[schedule.code].label
        message = _("%(measurement)s expected every %(hours)d hours; none since %(since)s") % {
            "measurement": label,
            "hours": schedule.every_hours,
            "since": formats.date_format(timezone.localtime(since), "SHORT_DATETIME_FORMAT"),
        }
        with transaction.atomic():
            raised += len(
                _raise_alert(
                    citizen=schedule.citizen,
                    severity=AlertSeverity.YELLOW,
                    kind=AlertKind.MISSING,
                    code=schedule.code,
                    message=message,
                    schedule=schedule,
                    recipients=[schedule.monitoring_organisation],
                    at=now,
                )
            )
    return raised
