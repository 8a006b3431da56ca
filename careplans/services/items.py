"""Writes for goals and activities: creating, changing, their status, and an activity done."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from sectors.models import Organisation, User
from smartcare.arguments import UNSET, Unset, given
from smartcare.transactions import retry_on_deadlock

from ..choices import ActivityStatus, GoalAchievement, GoalLifecycleStatus, HandoffStatus
from ..lifecycle import ACTIVITY_TRANSITIONS, GOAL_TRANSITIONS, check_transition
from ..models import Activity, CarePlan, Goal
from ..recurrence import activity_next_due
from .handoffs import _request_handoff
from .history import _diff, _history, _log_write, _require_plan_editor, _snapshot

# "MO,TH" or ["MO", "TH"] (the form and the API send a list).
Weekdays = str | list[str] | tuple[str, ...]


def _weekdays(value: Weekdays | None) -> str:
    """The weekdays as stored: comma-separated, in week order."""
    days = value if isinstance(value, list | tuple) else [d for d in str(value or "").split(",") if d]
    order = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    bad = [d for d in days if d not in order]
    if bad:
        raise ValidationError({"weekdays": [_("Unknown weekday: %(day)s") % {"day": bad[0]}]})
    return ",".join(d for d in order if d in days)


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


def _add_item(actor: Actor, plan: CarePlan, item: Goal | Activity, reason: tuple[str, str], comment: str) -> None:
    """Save a new, validated item; one for another organisation waits for its yes (a hand-off)."""
    item.save()
    _request_handoff(actor=actor, plan=plan, item=item)
    item.save(update_fields=["handoff_status"])
    kind = item._meta.model_name
    _history(
        actor=actor,
        plan=plan,
        target=item,
        action=f"{kind}-added",
        comment=comment,
        changes={
            "description": [None, item.description],
            "responsible_organisation": [None, str(item.responsible_organisation)],
        },
    )
    _log_write(actor, plan, reason, f"{kind} added")


@retry_on_deadlock
@transaction.atomic
def goal_create(
    *,
    actor: Actor,
    plan: CarePlan,
    description: str,
    responsible_organisation: Organisation,
    due_date: datetime.date | None = None,
    target_code: str = "",
    target_comparator: str = "",
    target_value: Decimal | None = None,
    target_unit: str = "",
    target_text: str = "",
    lifecycle_status: str = GoalLifecycleStatus.PROPOSED,
    comment: str = "",
) -> Goal:
    reason = _require_plan_editor(actor, plan)
    goal = Goal(
        care_plan=plan,
        description=description,
        responsible_organisation=responsible_organisation,
        due_date=due_date,
        target_code=target_code,
        target_comparator=target_comparator,
        target_value=target_value,
        target_unit=target_unit,
        target_text=target_text,
        lifecycle_status=lifecycle_status,
    )
    goal.full_clean(exclude=["handoff_status"])
    _add_item(actor, plan, goal, reason, comment)
    return goal


@retry_on_deadlock
@transaction.atomic
def activity_create(
    *,
    actor: Actor,
    plan: CarePlan,
    description: str,
    responsible_organisation: Organisation,
    responsible_person: User | None = None,
    due_date: datetime.date | None = None,
    weekdays: Weekdays = "",
    interval_weeks: int = 1,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    comment: str = "",
) -> Activity:
    """A one-off activity (``due_date``) or a recurring one (``weekdays`` every
    ``interval_weeks`` weeks from ``starts_on``, today when left out)."""
    reason = _require_plan_editor(actor, plan)
    activity = Activity(
        care_plan=plan,
        description=description,
        responsible_organisation=responsible_organisation,
        responsible_person=responsible_person,
        due_date=due_date,
        weekdays=_weekdays(weekdays),
        interval_weeks=interval_weeks,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    _check_activity(activity)
    activity.full_clean(exclude=["handoff_status"])
    activity.next_due_on = activity_next_due(activity)
    _add_item(actor, plan, activity, reason, comment)
    return activity


def _update_item(actor: Actor, item: Goal | Activity, fields: dict[str, Any], comment: str):
    """Change the ``fields`` given; the responsible organisation changes only through
    ``item_reassign`` (the new one has to accept)."""
    plan = item.care_plan
    reason = _require_plan_editor(actor, plan)
    if "responsible_organisation" in fields and fields["responsible_organisation"] != item.responsible_organisation:
        raise ValidationError(
            {"responsible_organisation": [_("Use “reassign” to give the item to another organisation.")]}
        )
    if "weekdays" in fields:
        fields["weekdays"] = _weekdays(fields["weekdays"])
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


@retry_on_deadlock
@transaction.atomic
def goal_update(
    *,
    actor: Actor,
    goal: Goal,
    description: str | Unset = UNSET,
    responsible_organisation: Organisation | Unset = UNSET,
    due_date: datetime.date | None | Unset = UNSET,
    target_code: str | Unset = UNSET,
    target_comparator: str | Unset = UNSET,
    target_value: Decimal | None | Unset = UNSET,
    target_unit: str | Unset = UNSET,
    target_text: str | Unset = UNSET,
    comment: str = "",
) -> Goal:
    fields = given(
        description=description,
        responsible_organisation=responsible_organisation,
        due_date=due_date,
        target_code=target_code,
        target_comparator=target_comparator,
        target_value=target_value,
        target_unit=target_unit,
        target_text=target_text,
    )
    return _update_item(actor, goal, fields, comment)


@retry_on_deadlock
@transaction.atomic
def activity_update(
    *,
    actor: Actor,
    activity: Activity,
    description: str | Unset = UNSET,
    responsible_organisation: Organisation | Unset = UNSET,
    responsible_person: User | None | Unset = UNSET,
    due_date: datetime.date | None | Unset = UNSET,
    weekdays: Weekdays | Unset = UNSET,
    interval_weeks: int | Unset = UNSET,
    starts_on: datetime.date | None | Unset = UNSET,
    ends_on: datetime.date | None | Unset = UNSET,
    comment: str = "",
) -> Activity:
    fields = given(
        description=description,
        responsible_organisation=responsible_organisation,
        responsible_person=responsible_person,
        due_date=due_date,
        weekdays=weekdays,
        interval_weeks=interval_weeks,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    return _update_item(actor, activity, fields, comment)


def _require_owner(actor: Actor, item: Goal | Activity) -> None:
    """Status changes belong to the responsible organisation once it has accepted the item."""
    if item.responsible_organisation_id != actor.acting_organisation.pk:
        raise PermissionDenied(_("Only the responsible organisation changes the status."))
    if item.handoff_status in (HandoffStatus.REQUESTED, HandoffStatus.REJECTED):
        raise ValidationError(_("Accept the hand-off before you work on it."))


@retry_on_deadlock
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


@retry_on_deadlock
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


@retry_on_deadlock
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
