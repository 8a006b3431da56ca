"""Writes for goals and activities: creating, changing, their status, and an activity done."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor

from ..choices import ActivityStatus, GoalAchievement, GoalLifecycleStatus, HandoffStatus
from ..lifecycle import ACTIVITY_TRANSITIONS, GOAL_TRANSITIONS, check_transition
from ..models import Activity, CarePlan, Goal
from ..recurrence import activity_next_due
from .handoffs import _request_handoff
from .history import _diff, _history, _log_write, _require_plan_editor, _snapshot

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
