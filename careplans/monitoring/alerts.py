"""Alerts: raised for the plan coordinators and the monitoring organisations (the GP clinic
when there is neither), once per alert even when a task or a request runs twice, and their
acknowledgement."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.models import Citizen
from sectors.models import Organisation
from smartcare.transactions import retry_on_deadlock

from ..choices import AlertKind, AlertSeverity, CareEventKind
from ..measurements import MEASUREMENTS, number_text
from ..models import OPEN_PLAN_STATUSES, Alert, CareEvent, CarePlan, MonitoringSchedule, Observation, Threshold
from ..services.history import _require_access
from .thresholds import evaluate


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
    if not orgs and citizen.gp_clinic is not None:
        orgs[citizen.gp_clinic.pk] = citizen.gp_clinic
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
        if value is None:  # a component the reading does not have (validated away on input)
            continue
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


@retry_on_deadlock
@transaction.atomic
def alert_acknowledge(*, actor: Actor, alert: Alert, note: str = "") -> Alert:
    if actor.organisation is None or alert.organisation_id != actor.organisation.pk:
        raise PermissionDenied
    _require_access(actor, alert.citizen)
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=actor.user, acknowledgement_note=note[:2000]
    )
    if not updated:
        raise ValidationError(_("The alert has already been acknowledged."))
    alert.refresh_from_db()
    return alert


@retry_on_deadlock
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
