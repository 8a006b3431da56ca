"""What every write of the care-plan services records, and the checks in front of it: the plan's
history (who, for which organisation, before and after), the access-log entry and the
``CareEvent`` outbox row, all in the caller's transaction."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _

from citizens.access import Actor, access_reason
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen
from sectors.models import Organisation

from ..choices import CarePlanStatus
from ..models import CareEvent, CarePlan, PlanChange


def _value(value: Any) -> Any:
    """A JSON-safe rendering for the history's before/after."""
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _snapshot(obj: Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def _diff(before: dict[str, Any], obj: Model) -> dict[str, list[Any]]:
    return {
        name: [_value(old), _value(getattr(obj, name))] for name, old in before.items() if old != getattr(obj, name)
    }


def _history(
    *, actor: Actor, plan: CarePlan, target: Model, action: str, changes: dict | None = None, comment: str = ""
) -> PlanChange:
    return PlanChange.objects.create(
        care_plan=plan,
        by=actor.user,
        organisation=actor.acting_organisation,
        target_type=target._meta.model_name or "",
        target_id=str(target.pk),
        target_label=str(target)[:200],
        action=action,
        changes=changes or {},
        comment=comment,
    )


def _event(*, kind: str, organisation: Organisation, plan: CarePlan, key: str, payload: dict) -> None:
    CareEvent.objects.get_or_create(
        dedupe_key=f"{kind}:{key}:{organisation.pk}"[:120],
        defaults={
            "kind": kind,
            "organisation": organisation,
            "citizen_id": plan.citizen_id,
            "care_plan": plan,
            "payload": payload,
        },
    )


def _require_access(actor: Actor, citizen: Citizen) -> tuple[str, str]:
    reason = access_reason(actor, citizen)
    if reason is None:
        raise PermissionDenied
    return reason


def _require_plan_editor(actor: Actor, plan: CarePlan) -> tuple[str, str]:
    """Organisations on the active care team (and the coordinating one) edit the plan."""
    reason = _require_access(actor, plan.citizen)
    org = actor.acting_organisation
    on_team = plan.coordinating_organisation_id == org.pk or any(
        p.organisation_id == org.pk and p.is_active_on() for p in plan.participants.all()
    )
    if not on_team:
        raise PermissionDenied(_("Only organisations on the care team change the plan."))
    if plan.status == CarePlanStatus.ENTERED_IN_ERROR:
        raise ValidationError(_("The plan was entered in error and cannot be changed."))
    return reason


def _log_write(actor: Actor, plan: CarePlan, reason: tuple[str, str], detail: str) -> None:
    access_log_record(
        actor=actor,
        citizens=plan.citizen,
        action=AccessAction.UPDATE,
        detail=detail,
        reason=reason[0],
        reason_text=reason[1],
    )
