"""Reads of care plans, hand-offs, measurements and alerts: through the citizen access policy,
with access-log entries for every citizen whose data is shown."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from citizens.access import Actor, access_reason, visible_citizens
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen

from .choices import ActivityStatus, AlertSeverity, HandoffStatus, ObservationStatus
from .models import (
    OPEN_PLAN_STATUSES,
    Activity,
    Alert,
    CarePlan,
    CareTeamParticipant,
    Goal,
    Handoff,
    Observation,
    PlanChange,
    Threshold,
)

DONE_STATUSES = (
    ActivityStatus.COMPLETED,
    ActivityStatus.CANCELLED,
    ActivityStatus.STOPPED,
    ActivityStatus.ENTERED_IN_ERROR,
)


def _log(actor: Actor, citizens, detail: str, action: str = AccessAction.VIEW) -> None:
    citizens = list({c.pk: c for c in citizens}.values())
    if citizens:
        access_log_record(actor=actor, citizens=citizens, action=action, detail=detail)


def _plan_queryset() -> QuerySet[CarePlan]:
    return CarePlan.objects.select_related(
        "citizen", "citizen__municipality", "citizen__gp_clinic", "coordinating_organisation", "coordinator"
    ).prefetch_related(
        "conditions",
        Prefetch("participants", queryset=CareTeamParticipant.objects.select_related("organisation", "person")),
        Prefetch("goals", queryset=Goal.objects.select_related("responsible_organisation").order_by("due_date", "pk")),
        Prefetch(
            "activitys",
            queryset=Activity.objects.select_related("responsible_organisation", "responsible_person").order_by(
                "responsible_organisation__name", "next_due_on", "pk"
            ),
        ),
    )


def careplan_get(*, actor: Actor, pk: Any, detail: str = "care plan") -> CarePlan:
    """One plan with its team, goals and activities, or 404 (missing or outside the policy)."""
    try:
        plan = _plan_queryset().get(pk=pk)
    except (CarePlan.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc
    reason = access_reason(actor, plan.citizen)
    if reason is None:
        raise Http404
    access_log_record(
        actor=actor,
        citizens=plan.citizen,
        action=AccessAction.VIEW,
        detail=detail[:300],
        reason=reason[0],
        reason_text=reason[1],
    )
    return plan


def careplans_for_citizen(*, citizen: Citizen, open_only: bool = False) -> QuerySet[CarePlan]:
    """Plans of a citizen the caller already got through ``citizen_get`` (checked and logged)."""
    qs = _plan_queryset().filter(citizen=citizen)
    if open_only:
        qs = qs.filter(status__in=OPEN_PLAN_STATUSES)
    return qs.order_by(
        Case(When(status="active", then=Value(0)), default=Value(1), output_field=IntegerField()), "-period_start"
    )


def careplan_history(*, plan: CarePlan) -> QuerySet[PlanChange]:
    return plan.changes.select_related("by", "organisation").order_by("-at", "-pk")


def handoffs_incoming(*, actor: Actor, include_answered: bool = False) -> list[Handoff]:
    """Requests to the acting organisation; overdue ones first."""
    if not actor.acting:
        return []
    qs = Handoff.objects.filter(to_organisation=actor.organisation).select_related(
        "care_plan__citizen", "goal", "activity", "from_organisation", "requested_by"
    )
    if not include_answered:
        qs = qs.filter(status=HandoffStatus.REQUESTED)
    visible = visible_citizens(actor.acting, actor.user).values("pk")
    rows = list(qs.filter(care_plan__citizen_id__in=visible).order_by("requested_at")[:500])
    _log(actor, [h.care_plan.citizen for h in rows], "hand-off requests", AccessAction.LIST)
    return rows


def handoffs_sent(*, actor: Actor) -> list[Handoff]:
    if not actor.acting:
        return []
    visible = visible_citizens(actor.acting, actor.user).values("pk")
    rows = list(
        Handoff.objects.filter(from_organisation=actor.organisation, care_plan__citizen_id__in=visible)
        .select_related("care_plan__citizen", "goal", "activity", "to_organisation", "answered_by")
        .order_by("-requested_at")[:200]
    )
    _log(actor, [h.care_plan.citizen for h in rows], "hand-offs sent", AccessAction.LIST)
    return rows


def handoff_get(*, actor: Actor, pk: Any) -> Handoff:
    try:
        handoff = Handoff.objects.select_related("care_plan__citizen", "goal", "activity").get(pk=pk)
    except (Handoff.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if actor.organisation is None or actor.organisation.pk not in (
        handoff.to_organisation_id,
        handoff.from_organisation_id,
    ):
        raise Http404
    if access_reason(actor, handoff.care_plan.citizen) is None:
        raise Http404
    return handoff


def alerts_worklist(*, actor: Actor, include_acknowledged: bool = False, citizen: Citizen | None = None) -> list[Alert]:
    """Open alerts for the acting organisation: red before yellow, oldest first."""
    if not actor.acting:
        return []
    qs = Alert.objects.filter(organisation=actor.organisation).select_related(
        "citizen", "observation", "acknowledged_by"
    )
    if citizen is not None:
        qs = qs.filter(citizen=citizen)
    if not include_acknowledged:
        qs = qs.filter(acknowledged_at__isnull=True)
    visible = visible_citizens(actor.acting, actor.user).values("pk")
    rows = list(
        qs.filter(citizen_id__in=visible)
        .annotate(
            rank=Case(When(severity=AlertSeverity.RED, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("rank", "created_at")[:500]
    )
    if citizen is None:
        _log(actor, [a.citizen for a in rows], "alert list", AccessAction.LIST)
    return rows


def today_list(*, actor: Actor, day: datetime.date | None = None) -> list[Activity]:
    """Home-care "Today": activities due today or overdue, owned by the acting organisation or
    assigned to the user, for citizens the organisation serves, in visiting order by address."""
    if not actor.acting:
        return []
    day = day or timezone.localdate()
    visible = visible_citizens(actor.acting, actor.user).values("pk")
    rows = list(
        Activity.objects.filter(
            Q(responsible_organisation=actor.organisation) | Q(responsible_person=actor.user),
            next_due_on__lte=day,
            care_plan__status__in=OPEN_PLAN_STATUSES,
            care_plan__citizen_id__in=visible,
        )
        .exclude(status__in=DONE_STATUSES)
        .exclude(handoff_status__in=[HandoffStatus.REQUESTED, HandoffStatus.REJECTED])
        .select_related("care_plan__citizen", "responsible_person")
        .annotate(
            open_alerts=Count(
                "care_plan__citizen__alerts",
                filter=Q(
                    care_plan__citizen__alerts__organisation=actor.organisation,
                    care_plan__citizen__alerts__acknowledged_at__isnull=True,
                ),
                distinct=True,
            )
        )
        .order_by(
            "care_plan__citizen__postal_code",
            "care_plan__citizen__street",
            "care_plan__citizen__last_name",
            "next_due_on",
            "pk",
        )[:300]
    )
    _log(actor, [a.care_plan.citizen for a in rows], "today list", AccessAction.LIST)
    return rows


def observation_series(*, citizen: Citizen, code: str, since: datetime.datetime | None = None) -> QuerySet[Observation]:
    """Measurements of a citizen the caller already got through the policy, oldest first."""
    qs = Observation.objects.filter(citizen=citizen, code=code).exclude(status=ObservationStatus.ENTERED_IN_ERROR)
    if since:
        qs = qs.filter(effective_at__gte=since)
    return qs.exclude(status=ObservationStatus.AMENDED).order_by("effective_at")


def latest_observations(*, citizen: Citizen) -> list[Observation]:
    """The newest valid measurement of each type."""
    latest: dict[str, Observation] = {}
    qs = (
        Observation.objects.filter(citizen=citizen, status=ObservationStatus.FINAL)
        .order_by("code", "-effective_at")
        .distinct()
    )
    for obs in qs[:200]:
        latest.setdefault(obs.code, obs)
    return list(latest.values())


def current_thresholds(*, citizen: Citizen) -> dict[str, Threshold]:
    return {t.code: t for t in Threshold.objects.filter(citizen=citizen, valid_to__isnull=True)}


def threshold_history(*, citizen: Citizen) -> QuerySet[Threshold]:
    return Threshold.objects.filter(citizen=citizen).select_related("set_by", "set_by_organisation")


def navigation_counts(*, actor: Actor) -> dict[str, int]:
    """Counts for the navigation badges: no citizen data, so nothing to log."""
    if not actor.acting:
        return {"handoffs": 0, "alerts": 0, "red_alerts": 0}
    handoffs = Handoff.objects.filter(to_organisation=actor.organisation, status=HandoffStatus.REQUESTED).count()
    alerts = Alert.objects.filter(organisation=actor.organisation, acknowledged_at__isnull=True).aggregate(
        total=Count("pk"), red=Count("pk", filter=Q(severity=AlertSeverity.RED))
    )
    return {"handoffs": handoffs, "alerts": alerts["total"], "red_alerts": alerts["red"]}
