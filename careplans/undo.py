"""Undoing "Mark done": a tap on the wrong row of the Today list is put right by the person who
made it, for ``ACTIVITY_DONE_UNDO_MINUTES``, and nobody else.

The "done" entry in the plan's history holds every field marking done changed, before and after
(``services.activity_mark_done``); undoing puts the "before" values back exactly (status, outcome,
completion time, last done and next due date), which the lifecycle would not allow as a status
change (completed is final), and records that in the history as well. Only the newest change of
the activity can be undone: once anyone changed it again, its status is changed the usual way.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from smartcare.transactions import retry_on_deadlock

from .models import Activity, PlanChange
from .services.history import _history, _log_write, _require_plan_editor
from .services.items import _require_owner

DONE = "done"
UNDONE = "done-undone"


def done_undo_window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.ACTIVITY_DONE_UNDO_MINUTES)


def done_undoable(change: PlanChange | None, user_pk: int | None, *, now: datetime.datetime | None = None) -> bool:
    """Whether ``change``, an activity's newest history entry, is a "done" this user may still undo
    (the pages offer the button from the history they have loaded; the service decides)."""
    return (
        change is not None
        and change.action == DONE
        and change.by_id == user_pk
        and (now or timezone.now()) - change.at < done_undo_window()
    )


def undoable_activities(changes: Iterable[PlanChange], user_pk: int | None) -> set[str]:
    """The ids of the activities whose newest change (the last written) of ``changes``, a plan's
    history, is a "done" the user may still undo."""
    newest: dict[str, PlanChange] = {}
    for change in changes:
        if change.target_type == "activity" and change.pk > getattr(newest.get(change.target_id), "pk", 0):
            newest[change.target_id] = change
    now = timezone.now()
    return {pk for pk, change in newest.items() if done_undoable(change, user_pk, now=now)}


def _last_change(activity: Activity) -> PlanChange | None:
    """The activity's newest history entry, in the order they were written."""
    changes = PlanChange.objects.filter(care_plan_id=activity.care_plan_id, target_type="activity")
    return changes.filter(target_id=str(activity.pk)).order_by("-pk").first()


@retry_on_deadlock
@transaction.atomic
def activity_done_undo(*, actor: Actor, activity: Activity) -> Activity:
    """Revert the actor's own "Mark done" of less than ``ACTIVITY_DONE_UNDO_MINUTES`` ago."""
    # Locked, so that two taps on "Undo" revert once: the second finds the undo as newest change.
    # Only the activity (``of``): the plan and the citizen are read with it, not locked.
    activity = Activity.objects.select_for_update(of=("self",)).select_related("care_plan__citizen").get(pk=activity.pk)
    plan = activity.care_plan
    reason = _require_plan_editor(actor, plan)
    _require_owner(actor, activity)
    change = _last_change(activity)
    if change is None or change.action != DONE:
        raise ValidationError(_("There is nothing to undo: the activity was changed after it was marked done."))
    if change.by_id != actor.user.pk:
        raise PermissionDenied(_("Only the person who marked the activity done can undo it."))
    if not done_undoable(change, actor.user.pk):
        raise ValidationError(
            _("It is more than %(minutes)d minutes since the activity was marked done: change its status instead.")
            % {"minutes": settings.ACTIVITY_DONE_UNDO_MINUTES}
        )
    reverted = {}
    for name, (before, after) in change.changes.items():
        setattr(activity, name, Activity._meta.get_field(name).to_python(before))
        reverted[name] = [after, before]
    activity.save()
    _history(actor=actor, plan=plan, target=activity, action=UNDONE, changes=reverted)
    _log_write(actor, plan, reason, "activity done undone")
    return activity
