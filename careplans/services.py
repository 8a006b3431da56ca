"""Writes for care plans, their team, goals, activities and hand-offs.

Every change is recorded in the plan's history (who, for which organisation, before and after)
in the same transaction, and hand-off events are written to the ``CareEvent`` outbox for the
messaging capability to deliver.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor, access_reason
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen, Condition
from sectors.choices import OrganisationKind
from sectors.models import Organisation, User
from smartcare.validators import raise_errors

from .checks import PLAN_FIELDS, check_member, new_plan_errors
from .choices import (
    ActivityStatus,
    CareEventKind,
    CarePlanStatus,
    CareTeamRole,
    GoalAchievement,
    GoalLifecycleStatus,
    HandoffStatus,
)
from .lifecycle import ACTIVITY_TRANSITIONS, GOAL_TRANSITIONS, PLAN_TRANSITIONS, check_transition
from .models import Activity, CareEvent, CarePlan, CareTeamParticipant, Goal, Handoff, PlanChange
from .recurrence import activity_next_due

ROLE_OF_KIND = {
    OrganisationKind.GP_CLINIC: CareTeamRole.GENERAL_PRACTICE,
    OrganisationKind.HOSPITAL_DEPARTMENT: CareTeamRole.HOSPITAL,
    OrganisationKind.HOSPITAL_UNIT: CareTeamRole.HOSPITAL,
    OrganisationKind.MUNICIPALITY: CareTeamRole.HOME_CARE,
}


# --- helpers ---------------------------------------------------------------------------------


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


def _beyond_own_list(plan: CarePlan, organisation: Organisation) -> bool:
    return organisation.pk not in (plan.citizen.municipality_id, plan.citizen.gp_clinic_id)


def careteam_coverage_refresh(*, citizen_ids: Iterable[int] | None = None) -> int:
    """Recompute ``CareTeamParticipant.beyond_own_list`` (all teams, or those of some citizens).

    The access rule trusts the flag, so it must follow the citizen: a membership marked as
    "own resident" would stop giving access the day the citizen moves away. Runs when a citizen's
    municipality or GP clinic changes (``careplans.receivers``) and after bulk loads. One UPDATE;
    returns the number of memberships it touched."""
    covered = Citizen.objects.filter(care_plans=OuterRef("care_plan_id")).filter(
        Q(municipality_id=OuterRef("organisation_id")) | Q(gp_clinic_id=OuterRef("organisation_id"))
    )
    participants = CareTeamParticipant.objects.all()
    if citizen_ids is not None:
        participants = participants.filter(care_plan__citizen_id__in=list(citizen_ids))
    return participants.update(beyond_own_list=~Exists(covered))


def _ensure_participant(plan: CarePlan, organisation: Organisation, role: str | None = None) -> CareTeamParticipant:
    today = timezone.localdate()
    for participant in plan.participants.all():
        if participant.organisation_id == organisation.pk and participant.is_active_on(today):
            return participant
    participant = CareTeamParticipant(
        care_plan=plan,
        organisation=organisation,
        role=role or ROLE_OF_KIND.get(OrganisationKind(organisation.kind), CareTeamRole.OTHER),
        period_start=today,
        beyond_own_list=_beyond_own_list(plan, organisation),
    )
    participant.full_clean()
    participant.save()
    return participant


def _log_write(actor: Actor, plan: CarePlan, reason: tuple[str, str], detail: str) -> None:
    access_log_record(
        actor=actor,
        citizens=plan.citizen,
        action=AccessAction.UPDATE,
        detail=detail,
        reason=reason[0],
        reason_text=reason[1],
    )


# --- plans ------------------------------------------------------------------------------------


@transaction.atomic
def careplan_create(
    *,
    actor: Actor,
    citizen: Citizen,
    title: str,
    coordinating_organisation: Organisation,
    conditions: Iterable[Condition] = (),
    status: str = CarePlanStatus.DRAFT,
    comment: str = "",
    **fields: Any,
) -> CarePlan:
    reason = _require_access(actor, citizen)
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown care plan fields: {sorted(unknown)}")
    plan = CarePlan(
        citizen=citizen,
        title=title,
        status=status,
        coordinating_organisation=coordinating_organisation,
        created_by=actor.user,
        created_by_organisation=actor.organisation,
        **fields,
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


@transaction.atomic
def careplan_update(*, actor: Actor, plan: CarePlan, comment: str = "", conditions=None, **fields: Any) -> CarePlan:
    reason = _require_plan_editor(actor, plan)
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown care plan fields: {sorted(unknown)}")
    before = _snapshot(plan, fields)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.full_clean()
    check_member(plan.coordinator, plan.coordinating_organisation, "coordinator")
    plan.save()
    changes = _diff(before, plan)
    if conditions is not None:
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


# --- care team --------------------------------------------------------------------------------


@transaction.atomic
def careteam_add(
    *,
    actor: Actor,
    plan: CarePlan,
    organisation: Organisation,
    role: str,
    person: User | None = None,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    comment: str = "",
) -> CareTeamParticipant:
    reason = _require_plan_editor(actor, plan)
    participant = CareTeamParticipant(
        care_plan=plan,
        organisation=organisation,
        role=role,
        person=person,
        period_start=period_start or timezone.localdate(),
        period_end=period_end,
        beyond_own_list=_beyond_own_list(plan, organisation),
    )
    participant.full_clean()
    check_member(person, organisation, "person")
    participant.save()
    _history(
        actor=actor,
        plan=plan,
        target=participant,
        action="team-added",
        comment=comment,
        changes={"organisation": [None, str(organisation)], "role": [None, role]},
    )
    _log_write(actor, plan, reason, "care team changed")
    return participant


@transaction.atomic
def careteam_end(
    *, actor: Actor, participant: CareTeamParticipant, end_date: datetime.date | None = None, comment: str = ""
) -> CareTeamParticipant:
    plan = participant.care_plan
    reason = _require_plan_editor(actor, plan)
    if (
        participant.organisation_id == plan.coordinating_organisation_id
        and participant.role == CareTeamRole.COORDINATOR
    ):
        raise ValidationError(_("Choose another coordinating organisation before the coordinator leaves the team."))
    before = participant.period_end
    participant.period_end = end_date or timezone.localdate()
    participant.full_clean()
    participant.save(update_fields=["period_end"])
    _history(
        actor=actor,
        plan=plan,
        target=participant,
        action="team-ended",
        comment=comment,
        changes={"period_end": [_value(before), _value(participant.period_end)]},
    )
    _log_write(actor, plan, reason, "care team changed")
    return participant


# --- goals and activities, with hand-offs --------------------------------------------------


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


GOAL_FIELDS = (
    "description",
    "responsible_organisation",
    "due_date",
    "target_code",
    "target_comparator",
    "target_value",
    "target_unit",
    "target_text",
)
ACTIVITY_FIELDS = (
    "description",
    "responsible_organisation",
    "responsible_person",
    "due_date",
    "weekdays",
    "interval_weeks",
    "starts_on",
    "ends_on",
)


def _clean_weekdays(fields: dict[str, Any]) -> None:
    if "weekdays" in fields:
        value = fields["weekdays"]
        days = value if isinstance(value, list | tuple) else [d for d in str(value or "").split(",") if d]
        order = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        bad = [d for d in days if d not in order]
        if bad:
            raise ValidationError({"weekdays": [_("Unknown weekday: %(day)s") % {"day": bad[0]}]})
        fields["weekdays"] = ",".join(d for d in order if d in days)


def _check_activity(activity: Activity) -> None:
    if not activity.weekday_list and activity.due_date is None:
        raise ValidationError({"due_date": [_("Give a due date or a recurrence.")]})
    if activity.weekday_list and activity.starts_on is None:
        activity.starts_on = timezone.localdate()
    if (
        activity.responsible_person is not None
        and not activity.responsible_person.memberships.active()
        .filter(organisation_id=activity.responsible_organisation_id)
        .exists()
    ):
        raise ValidationError(
            {"responsible_person": [_("The person must be a member of the responsible organisation.")]}
        )


@transaction.atomic
def goal_create(
    *,
    actor: Actor,
    plan: CarePlan,
    comment: str = "",
    lifecycle_status: str = GoalLifecycleStatus.PROPOSED,
    **fields: Any,
) -> Goal:
    reason = _require_plan_editor(actor, plan)
    unknown = set(fields) - set(GOAL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown goal fields: {sorted(unknown)}")
    goal = Goal(care_plan=plan, lifecycle_status=lifecycle_status, **fields)
    goal.full_clean(exclude=["handoff_status"])
    goal.save()
    _request_handoff(actor=actor, plan=plan, item=goal)
    goal.save(update_fields=["handoff_status"])
    _history(
        actor=actor,
        plan=plan,
        target=goal,
        action="goal-added",
        comment=comment,
        changes={
            "description": [None, goal.description],
            "responsible_organisation": [None, str(goal.responsible_organisation)],
        },
    )
    _log_write(actor, plan, reason, "goal added")
    return goal


@transaction.atomic
def activity_create(*, actor: Actor, plan: CarePlan, comment: str = "", **fields: Any) -> Activity:
    reason = _require_plan_editor(actor, plan)
    unknown = set(fields) - set(ACTIVITY_FIELDS)
    if unknown:
        raise TypeError(f"Unknown activity fields: {sorted(unknown)}")
    _clean_weekdays(fields)
    activity = Activity(care_plan=plan, **fields)
    _check_activity(activity)
    activity.full_clean(exclude=["handoff_status"])
    activity.next_due_on = activity_next_due(activity)
    activity.save()
    _request_handoff(actor=actor, plan=plan, item=activity)
    activity.save(update_fields=["handoff_status"])
    _history(
        actor=actor,
        plan=plan,
        target=activity,
        action="activity-added",
        comment=comment,
        changes={
            "description": [None, activity.description],
            "responsible_organisation": [None, str(activity.responsible_organisation)],
        },
    )
    _log_write(actor, plan, reason, "activity added")
    return activity


def _update_item(actor: Actor, item: Goal | Activity, allowed: tuple[str, ...], fields: dict, comment: str):
    plan = item.care_plan
    reason = _require_plan_editor(actor, plan)
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown fields: {sorted(unknown)}")
    if "responsible_organisation" in fields and fields["responsible_organisation"] != item.responsible_organisation:
        raise ValidationError(
            {"responsible_organisation": [_("Use “reassign” to give the item to another organisation.")]}
        )
    if isinstance(item, Activity):
        _clean_weekdays(fields)
    before = _snapshot(item, fields)
    for name, value in fields.items():
        setattr(item, name, value)
    if isinstance(item, Activity):
        _check_activity(item)
        item.next_due_on = activity_next_due(item)
    item.full_clean()
    item.save()
    changes = _diff(before, item)
    if changes or comment:
        _history(actor=actor, plan=plan, target=item, action="updated", changes=changes, comment=comment)
        _log_write(actor, plan, reason, f"{item._meta.model_name} changed")
    return item


@transaction.atomic
def goal_update(*, actor: Actor, goal: Goal, comment: str = "", **fields: Any) -> Goal:
    return _update_item(actor, goal, GOAL_FIELDS, fields, comment)


@transaction.atomic
def activity_update(*, actor: Actor, activity: Activity, comment: str = "", **fields: Any) -> Activity:
    return _update_item(actor, activity, ACTIVITY_FIELDS, fields, comment)


def _require_owner(actor: Actor, item: Goal | Activity) -> None:
    """Status changes belong to the responsible organisation once it has accepted the item."""
    if item.responsible_organisation_id != actor.acting_organisation.pk:
        raise PermissionDenied(_("Only the responsible organisation changes the status."))
    if item.handoff_status in (HandoffStatus.REQUESTED, HandoffStatus.REJECTED):
        raise ValidationError(_("Accept the hand-off before you work on it."))


@transaction.atomic
def goal_set_status(
    *,
    actor: Actor,
    goal: Goal,
    lifecycle_status: str | None = None,
    achievement: str | None = None,
    comment: str = "",
) -> Goal:
    plan = goal.care_plan
    reason = _require_plan_editor(actor, plan)
    _require_owner(actor, goal)
    before = _snapshot(goal, ["lifecycle_status", "achievement"])
    if lifecycle_status is not None:
        check_transition(GOAL_TRANSITIONS, GoalLifecycleStatus, goal.lifecycle_status, lifecycle_status, comment)
        goal.lifecycle_status = lifecycle_status
    if achievement is not None:
        GoalAchievement(achievement)  # ValueError for an unknown code
        goal.achievement = achievement
    goal.save(update_fields=["lifecycle_status", "achievement", "updated_at"])
    _history(actor=actor, plan=plan, target=goal, action="status", changes=_diff(before, goal), comment=comment)
    _log_write(actor, plan, reason, "goal status changed")
    return goal


@transaction.atomic
def activity_set_status(
    *, actor: Actor, activity: Activity, status: str, outcome_note: str = "", comment: str = ""
) -> Activity:
    plan = activity.care_plan
    reason = _require_plan_editor(actor, plan)
    _require_owner(actor, activity)
    check_transition(ACTIVITY_TRANSITIONS, ActivityStatus, activity.status, status, comment=comment)
    before = _snapshot(activity, ["status", "outcome_note"])
    activity.status = status
    if outcome_note:
        activity.outcome_note = outcome_note
    if status == ActivityStatus.COMPLETED:
        activity.completed_at = timezone.now()
        activity.last_done_on = timezone.localdate()
    activity.next_due_on = activity_next_due(activity)
    activity.save()
    _history(actor=actor, plan=plan, target=activity, action="status", changes=_diff(before, activity), comment=comment)
    _log_write(actor, plan, reason, "activity status changed")
    return activity


@transaction.atomic
def activity_mark_done(
    *, actor: Actor, activity: Activity, note: str = "", on: datetime.date | None = None
) -> Activity:
    """Done today: a one-off is completed, a recurring one moves on (``careplans.undo`` reverts it)."""
    plan = activity.care_plan
    reason = _require_plan_editor(actor, plan)
    _require_owner(actor, activity)
    before = _snapshot(activity, ["status", "outcome_note", "completed_at", "last_done_on", "next_due_on"])
    if not activity.weekday_list:
        check_transition(ACTIVITY_TRANSITIONS, ActivityStatus, activity.status, ActivityStatus.COMPLETED)
        activity.status, activity.completed_at = ActivityStatus.COMPLETED, timezone.now()
    elif activity.status in (ActivityStatus.NOT_STARTED, ActivityStatus.SCHEDULED):
        activity.status = ActivityStatus.IN_PROGRESS
    activity.last_done_on = on or timezone.localdate()
    activity.outcome_note = note or activity.outcome_note
    activity.next_due_on = activity_next_due(activity)
    activity.save()
    _history(actor=actor, plan=plan, target=activity, action="done", changes=_diff(before, activity), comment=note)
    _log_write(actor, plan, reason, "activity done")
    return activity


# --- hand-off answers ------------------------------------------------------------------------


def _open_handoff(item: Goal | Activity) -> Handoff:
    handoff = item.handoffs.filter(status=HandoffStatus.REQUESTED).select_for_update().first()
    if handoff is None:
        raise ValidationError(_("There is no open request for this item."))
    return handoff


@transaction.atomic
def handoff_accept(*, actor: Actor, handoff: Handoff, comment: str = "") -> Handoff:
    return _answer(actor=actor, handoff=handoff, accept=True, reason_text=comment)


@transaction.atomic
def handoff_reject(*, actor: Actor, handoff: Handoff, reason: str) -> Handoff:
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why you reject the request.")]})
    return _answer(actor=actor, handoff=handoff, accept=False, reason_text=reason.strip())


@transaction.atomic
def item_handoff_accept(*, actor: Actor, item: Goal | Activity, comment: str = "") -> Handoff:
    """Accept the open request for a goal or an activity (the API addresses the item)."""
    return _answer(actor=actor, handoff=_open_handoff(item), accept=True, reason_text=comment)


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
