"""Hand-offs: a goal or an activity given to another organisation waits for its yes; the
answers, reassignments and overdue requests are written to the ``CareEvent`` outbox."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from sectors.models import Organisation
from smartcare.transactions import retry_on_deadlock

from ..choices import ActivityStatus, CareEventKind, GoalLifecycleStatus, HandoffStatus
from ..models import Activity, CareEvent, CarePlan, Goal, Handoff
from .history import _event, _history, _log_write, _require_access, _require_plan_editor
from .team import _ensure_participant


def _request_handoff(*, actor: Actor, plan: CarePlan, item: Goal | Activity) -> Handoff | None:
    """Assigning to another organisation than the author's needs that organisation's yes."""
    if item.responsible_organisation_id == actor.acting_organisation.pk:
        item.handoff_status = ""
        return None
    _ensure_participant(plan, item.responsible_organisation)
    item.handoff_status = HandoffStatus.REQUESTED
    handoff = Handoff(
        care_plan=plan,
        goal=item if isinstance(item, Goal) else None,
        activity=item if isinstance(item, Activity) else None,
        from_organisation=actor.organisation,
        to_organisation=item.responsible_organisation,
        requested_by=actor.user,
    )
    handoff.full_clean()
    handoff.save()
    _event(
        kind=CareEventKind.HANDOFF_REQUESTED,
        organisation=item.responsible_organisation,
        plan=plan,
        key=f"handoff-{handoff.pk}",
        payload={"handoff": handoff.pk, "item": str(item)[:200], "from": actor.acting_organisation.name},
    )
    return handoff


def _open_handoff(item: Goal | Activity) -> Handoff:
    handoff = item.handoffs.filter(status=HandoffStatus.REQUESTED).select_for_update().first()
    if handoff is None:
        raise ValidationError(_("There is no open request for this item."))
    return handoff


@retry_on_deadlock
@transaction.atomic
def handoff_accept(*, actor: Actor, handoff: Handoff, comment: str = "") -> Handoff:
    return _answer(actor=actor, handoff=handoff, accept=True, reason_text=comment)


@retry_on_deadlock
@transaction.atomic
def handoff_reject(*, actor: Actor, handoff: Handoff, reason: str) -> Handoff:
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why you reject the request.")]})
    return _answer(actor=actor, handoff=handoff, accept=False, reason_text=reason.strip())


@retry_on_deadlock
@transaction.atomic
def item_handoff_accept(*, actor: Actor, item: Goal | Activity, comment: str = "") -> Handoff:
    """Accept the open request for a goal or an activity (the API addresses the item)."""
    return _answer(actor=actor, handoff=_open_handoff(item), accept=True, reason_text=comment)


@retry_on_deadlock
@transaction.atomic
def item_handoff_reject(*, actor: Actor, item: Goal | Activity, reason: str) -> Handoff:
    return handoff_reject(actor=actor, handoff=_open_handoff(item), reason=reason)


def _answer(*, actor: Actor, handoff: Handoff, accept: bool, reason_text: str) -> Handoff:
    handoff = Handoff.objects.select_for_update().get(pk=handoff.pk)
    plan = handoff.care_plan
    access = _require_access(actor, plan.citizen)
    org = actor.acting_organisation
    if handoff.to_organisation_id != org.pk:
        raise PermissionDenied(_("Only the receiving organisation answers the request."))
    if handoff.status != HandoffStatus.REQUESTED:
        raise ValidationError(_("The request has already been answered."))
    handoff.status = HandoffStatus.ACCEPTED if accept else HandoffStatus.REJECTED
    handoff.answered_by = actor.user
    handoff.answered_at = timezone.now()
    handoff.reason = reason_text
    handoff.full_clean()
    handoff.save()
    item = handoff.item
    item.handoff_status = handoff.status
    if isinstance(item, Goal) and accept and item.lifecycle_status == GoalLifecycleStatus.PROPOSED:
        item.lifecycle_status = GoalLifecycleStatus.ACCEPTED
    if isinstance(item, Activity) and accept and item.status == ActivityStatus.NOT_STARTED:
        item.status = ActivityStatus.SCHEDULED
    item.save()
    _history(
        actor=actor,
        plan=plan,
        target=item,
        action="handoff-accepted" if accept else "handoff-rejected",
        changes={"handoff": [HandoffStatus.REQUESTED, handoff.status]},
        comment=reason_text,
    )
    _event(
        kind=CareEventKind.HANDOFF_ACCEPTED if accept else CareEventKind.HANDOFF_REJECTED,
        organisation=handoff.from_organisation,
        plan=plan,
        key=f"handoff-{handoff.pk}",
        payload={"handoff": handoff.pk, "item": str(item)[:200], "by": org.name, "reason": reason_text},
    )
    _log_write(actor, plan, access, "hand-off answered")
    return handoff


@retry_on_deadlock
@transaction.atomic
def item_reassign(
    *, actor: Actor, item: Goal | Activity, organisation: Organisation, comment: str = ""
) -> Handoff | None:
    """Give a goal or an activity to another organisation: the open request (if any) is
    withdrawn, the new owner is asked, and both the old and the new owner are notified."""
    plan = item.care_plan
    reason = _require_plan_editor(actor, plan)
    if organisation.pk == item.responsible_organisation_id:
        raise ValidationError({"responsible_organisation": [_("The item already belongs to that organisation.")]})
    old_owner = item.responsible_organisation
    for open_request in item.handoffs.filter(status=HandoffStatus.REQUESTED):
        open_request.status = HandoffStatus.CANCELLED
        open_request.answered_at = timezone.now()
        open_request.answered_by = actor.user
        open_request.save(update_fields=["status", "answered_at", "answered_by"])
    item.responsible_organisation = organisation
    if isinstance(item, Activity):
        item.responsible_person = None
    handoff = _request_handoff(actor=actor, plan=plan, item=item)
    item.save()
    _history(
        actor=actor,
        plan=plan,
        target=item,
        action="reassigned",
        comment=comment,
        changes={"responsible_organisation": [str(old_owner), str(organisation)]},
    )
    for owner in {old_owner, organisation}:
        _event(
            kind=CareEventKind.HANDOFF_REASSIGNED,
            organisation=owner,
            plan=plan,
            key=f"reassign-{item._meta.model_name}-{item.pk}-{timezone.now().timestamp()}",
            payload={
                "item": str(item)[:200],
                "from": str(old_owner),
                "to": str(organisation),
                "by": actor.acting_organisation.name,
            },
        )
    _log_write(actor, plan, reason, "item reassigned")
    return handoff


def handoff_overdue_after() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "HANDOFF_OVERDUE_HOURS", 72))


@retry_on_deadlock
@transaction.atomic
def handoffs_flag_overdue(*, now: datetime.datetime | None = None) -> int:
    """Tell requesting organisations about requests nobody answered in time (safe to rerun)."""
    now = now or timezone.now()
    count = 0
    overdue = Handoff.objects.filter(status=HandoffStatus.REQUESTED, requested_at__lt=now - handoff_overdue_after())
    for handoff in overdue.select_related("care_plan", "to_organisation", "from_organisation"):
        before = CareEvent.objects.count()
        _event(
            kind=CareEventKind.HANDOFF_OVERDUE,
            organisation=handoff.from_organisation,
            plan=handoff.care_plan,
            key=f"handoff-{handoff.pk}",
            payload={"handoff": handoff.pk, "to": handoff.to_organisation.name},
        )
        count += CareEvent.objects.count() - before
    return count
