"""Writes for a care plan itself: creating it, changing its fields, and its status."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from citizens.access import Actor
from citizens.models import Citizen, Condition
from sectors.models import Organisation, User
from smartcare.arguments import UNSET, Unset, given
from smartcare.transactions import retry_on_deadlock
from smartcare.validators import raise_errors

from ..checks import check_member, new_plan_errors
from ..choices import CarePlanIntent, CarePlanStatus, CareTeamRole
from ..lifecycle import PLAN_TRANSITIONS, check_transition
from ..models import CarePlan
from .history import _diff, _history, _log_write, _require_access, _require_plan_editor, _snapshot
from .team import _ensure_participant


@retry_on_deadlock
@transaction.atomic
def careplan_create(
    *,
    actor: Actor,
    citizen: Citizen,
    title: str,
    coordinating_organisation: Organisation,
    intent: str = CarePlanIntent.PLAN,
    period_start: datetime.date | Unset = UNSET,
    period_end: datetime.date | None = None,
    coordinator: User | None = None,
    description: str = "",
    conditions: Iterable[Condition] = (),
    status: str = CarePlanStatus.DRAFT,
    comment: str = "",
) -> CarePlan:
    """``period_start`` left out is today, the model's default (None is refused like any missing
    start)."""
    reason = _require_access(actor, citizen)
    plan = CarePlan(
        citizen=citizen,
        title=title,
        status=status,
        intent=intent,
        period_end=period_end,
        coordinating_organisation=coordinating_organisation,
        coordinator=coordinator,
        description=description,
        created_by=actor.user,
        created_by_organisation=actor.organisation,
        **given(period_start=period_start),
    )
    raise_errors(new_plan_errors(plan))  # every error at once
    plan.save()
    plan.conditions.set(list(conditions))
    _ensure_participant(plan, coordinating_organisation, CareTeamRole.COORDINATOR)
    _ensure_participant(plan, actor.acting_organisation)
    _history(
        actor=actor,
        plan=plan,
        target=plan,
        action="created",
        comment=comment,
        changes={"title": [None, title], "status": [None, status]},
    )
    _log_write(actor, plan, reason, f"care plan created: {title}"[:300])
    return plan


@retry_on_deadlock
@transaction.atomic
def careplan_update(
    *,
    actor: Actor,
    plan: CarePlan,
    title: str | Unset = UNSET,
    intent: str | Unset = UNSET,
    period_start: datetime.date | Unset = UNSET,
    period_end: datetime.date | None | Unset = UNSET,
    coordinating_organisation: Organisation | Unset = UNSET,
    coordinator: User | None | Unset = UNSET,
    description: str | Unset = UNSET,
    conditions: Iterable[Condition] | Unset = UNSET,
    comment: str = "",
) -> CarePlan:
    """Only the fields given change; the status has its own service, which checks the transition.
    ``conditions`` given replaces the plan's list."""
    reason = _require_plan_editor(actor, plan)
    fields = given(
        title=title,
        intent=intent,
        period_start=period_start,
        period_end=period_end,
        coordinating_organisation=coordinating_organisation,
        coordinator=coordinator,
        description=description,
    )
    before = _snapshot(plan, fields)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.full_clean()
    check_member(plan.coordinator, plan.coordinating_organisation, "coordinator")
    plan.save()
    changes = _diff(before, plan)
    if conditions is not UNSET:
        old = sorted(str(c) for c in plan.conditions.all())
        plan.conditions.set(list(conditions))
        new = sorted(str(c) for c in plan.conditions.all())
        if old != new:
            changes["conditions"] = [old, new]
    if "coordinating_organisation" in changes:
        _ensure_participant(plan, plan.coordinating_organisation, CareTeamRole.COORDINATOR)
    if changes or comment:
        _history(actor=actor, plan=plan, target=plan, action="updated", changes=changes, comment=comment)
        _log_write(actor, plan, reason, "care plan changed")
    return plan


@retry_on_deadlock
@transaction.atomic
def careplan_set_status(*, actor: Actor, plan: CarePlan, status: str, comment: str = "") -> CarePlan:
    reason = _require_plan_editor(actor, plan)
    check_transition(PLAN_TRANSITIONS, CarePlanStatus, plan.status, status, comment=comment)
    before = plan.status
    plan.status = status
    if status in (CarePlanStatus.COMPLETED, CarePlanStatus.REVOKED) and plan.period_end is None:
        plan.period_end = max(timezone.localdate(), plan.period_start)
    plan.save(update_fields=["status", "period_end", "updated_at"])
    _history(
        actor=actor, plan=plan, target=plan, action="status", changes={"status": [before, status]}, comment=comment
    )
    _log_write(actor, plan, reason, f"care plan status {before} -> {status}")
    return plan
