"""Monitoring schedules: who follows a measurement and how often it is expected; a late one
raises a "missing measurement" alert."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen
from citizens.permissions import may_monitor, require_set_thresholds
from sectors.models import Organisation
from smartcare.transactions import retry_on_deadlock

from ..choices import AlertKind, AlertSeverity
from ..measurements import MEASUREMENTS
from ..models import Alert, CarePlan, MonitoringSchedule, Observation
from ..services.history import _require_access
from .alerts import _raise_alert


@retry_on_deadlock
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
