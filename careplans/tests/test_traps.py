"""No traps: a status change nothing comes back from needs a reason, and "Mark done" can be undone
for a few minutes by the person who did it (services)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import ActivityStatus, CarePlanStatus, GoalLifecycleStatus
from careplans.lifecycle import ACTIVITY_TRANSITIONS, GOAL_TRANSITIONS, PLAN_TRANSITIONS, irreversible_statuses
from careplans.models import Activity, CarePlan, PlanChange
from careplans.services import (
    activity_mark_done,
    activity_set_status,
    activity_update,
    careplan_set_status,
    goal_create,
    goal_set_status,
)
from careplans.undo import activity_done_undo

from .helpers import local
from .test_recurrence import done, monday, visits  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def comment_codes(excinfo) -> list[str]:
    return [error.code for error in excinfo.value.error_dict["comment"]]


# --- irreversible status changes need a reason -----------------------------------------------------


def test_the_irreversible_statuses_follow_from_the_lifecycles():
    assert irreversible_statuses(PLAN_TRANSITIONS) == {"revoked", "entered-in-error"}
    assert irreversible_statuses(GOAL_TRANSITIONS) == {"cancelled", "rejected", "entered-in-error"}
    assert irreversible_statuses(ACTIVITY_TRANSITIONS) == {"cancelled", "stopped", "entered-in-error"}


@pytest.mark.parametrize("status", [CarePlanStatus.REVOKED, CarePlanStatus.ENTERED_IN_ERROR])
@pytest.mark.parametrize("comment", ["", "   "])
def test_revoking_a_plan_without_a_reason_is_refused(gp_actor, plan, status, comment):
    with pytest.raises(ValidationError) as excinfo:
        careplan_set_status(actor=gp_actor, plan=plan, status=status, comment=comment)

    assert comment_codes(excinfo) == ["reason_required"]
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.ACTIVE
    assert not PlanChange.objects.filter(action="status").exists()


def test_revoking_a_plan_with_a_reason_keeps_the_reason_in_the_history(gp_actor, plan):
    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.ENTERED_IN_ERROR, comment="Forkert borger")

    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.ENTERED_IN_ERROR
    change = PlanChange.objects.get(action="status")
    assert (change.changes, change.comment) == ({"status": ["active", "entered-in-error"]}, "Forkert borger")


def test_reversible_plan_changes_need_no_reason(gp_actor, plan):
    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.ON_HOLD)
    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.COMPLETED)

    assert CarePlan.objects.get().status == CarePlanStatus.COMPLETED


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("goal", GoalLifecycleStatus.CANCELLED),
        ("goal", GoalLifecycleStatus.ENTERED_IN_ERROR),
        ("activity", ActivityStatus.CANCELLED),
        ("activity", ActivityStatus.STOPPED),
        ("activity", ActivityStatus.ENTERED_IN_ERROR),
    ],
)
def test_ending_a_goal_or_an_activity_needs_a_reason(world, gp_actor, plan, due_today, kind, status):
    if kind == "goal":
        item = goal_create(
            actor=gp_actor, plan=plan, description="Går dagligt", responsible_organisation=world.clinic_a
        )
        field, change = (
            "lifecycle_status",
            lambda **reason: goal_set_status(actor=gp_actor, goal=item, lifecycle_status=status, **reason),
        )
    else:
        Activity.objects.filter(pk=due_today.pk).update(status=ActivityStatus.IN_PROGRESS)
        item = Activity.objects.get(pk=due_today.pk)
        field, change = (
            "status",
            lambda **reason: activity_set_status(actor=gp_actor, activity=item, status=status, **reason),
        )
    before = getattr(item, field)

    with pytest.raises(ValidationError) as excinfo:
        change()
    assert comment_codes(excinfo) == ["reason_required"]
    item.refresh_from_db()
    assert getattr(item, field) == before

    change(comment="Dobbeltregistreret")
    item.refresh_from_db()
    assert getattr(item, field) == status
    assert PlanChange.objects.get(action="status").comment == "Dobbeltregistreret"


def test_an_impossible_transition_is_reported_as_such_not_as_a_missing_reason(gp_actor, plan):
    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.REVOKED, comment="Flyttet")

    with pytest.raises(ValidationError) as excinfo:
        careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.ACTIVE)

    assert [e.code for e in excinfo.value.error_dict["status"]] == ["invalid_transition"]


# --- undoing "Mark done" ---------------------------------------------------------------------------


def test_undo_of_a_due_today_restores_it_exactly_and_records_it(gp_actor, due_today):
    before = Activity.objects.values().get(pk=due_today.pk)
    now = local(timezone.localdate(), 10)
    with freeze_time(now):
        activity_mark_done(actor=gp_actor, activity=due_today, note="BT 135/82")
    due_today.refresh_from_db()
    assert (due_today.status, due_today.completed_at, due_today.next_due_on) == (ActivityStatus.COMPLETED, now, None)

    with freeze_time(now + datetime.timedelta(minutes=9, seconds=59)):
        activity_done_undo(actor=gp_actor, activity=due_today)

    after = Activity.objects.values().get(pk=due_today.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    undo = PlanChange.objects.get(action="done-undone")
    assert (undo.by, undo.target_id) == (gp_actor.user, str(due_today.pk))
    assert undo.changes == {
        "status": ["completed", "not-started"],
        "outcome_note": ["BT 135/82", ""],
        "completed_at": [now.astimezone(datetime.UTC).isoformat(), None],
        "last_done_on": [now.date().isoformat(), None],
        "next_due_on": [None, due_today.due_date.isoformat()],
    }


def test_undo_of_a_recurring_activity_restores_its_dates_and_status(homecare_actor, visits, monday):  # noqa: F811
    thursday, next_monday = monday + datetime.timedelta(days=3), monday + datetime.timedelta(days=7)
    done(homecare_actor, visits, thursday, note="BT 140/90")
    before = Activity.objects.values().get(pk=visits.pk)
    assert (before["status"], before["next_due_on"]) == (ActivityStatus.IN_PROGRESS, next_monday)
    visits.refresh_from_db()
    done(homecare_actor, visits, next_monday, note="BT 150/95")
    visits.refresh_from_db()
    assert visits.next_due_on == monday + datetime.timedelta(days=10)

    with freeze_time(local(next_monday, 11, 5)):
        activity_done_undo(actor=homecare_actor, activity=visits)

    after = Activity.objects.values().get(pk=visits.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    assert after["outcome_note"] == "BT 140/90"
    assert after["last_done_on"] == thursday


def test_undo_after_ten_minutes_is_refused(gp_actor, due_today):
    now = local(timezone.localdate(), 10)
    with freeze_time(now):
        activity_mark_done(actor=gp_actor, activity=due_today)

    with freeze_time(now + datetime.timedelta(minutes=10)), pytest.raises(ValidationError) as excinfo:
        activity_done_undo(actor=gp_actor, activity=due_today)

    assert excinfo.value.messages == [
        "It is more than 10 minutes since the activity was marked done: change its status instead."
    ]
    due_today.refresh_from_db()
    assert due_today.status == ActivityStatus.COMPLETED
    assert not PlanChange.objects.filter(action="done-undone").exists()


def test_undo_follows_the_setting(settings, gp_actor, due_today):
    settings.ACTIVITY_DONE_UNDO_MINUTES = 2
    now = local(timezone.localdate(), 10)
    with freeze_time(now):
        activity_mark_done(actor=gp_actor, activity=due_today)

    with freeze_time(now + datetime.timedelta(minutes=2)), pytest.raises(ValidationError):
        activity_done_undo(actor=gp_actor, activity=due_today)


def test_only_the_person_who_marked_it_done_can_undo(world, actor, gp_actor, due_today):
    activity_mark_done(actor=gp_actor, activity=due_today)

    with pytest.raises(PermissionDenied):
        activity_done_undo(actor=actor("nurse_a"), activity=due_today)  # a colleague in the same clinic

    due_today.refresh_from_db()
    assert due_today.status == ActivityStatus.COMPLETED


def test_undo_is_refused_once_the_activity_changed_again(gp_actor, due_today):
    activity_mark_done(actor=gp_actor, activity=due_today)
    activity_update(actor=gp_actor, activity=due_today, description="Årskontrol med blodprøver")

    with pytest.raises(ValidationError) as excinfo:
        activity_done_undo(actor=gp_actor, activity=due_today)

    assert excinfo.value.messages == ["There is nothing to undo: the activity was changed after it was marked done."]


def test_undo_twice_reverts_once(gp_actor, due_today):
    activity_mark_done(actor=gp_actor, activity=due_today)
    activity_done_undo(actor=gp_actor, activity=due_today)

    with pytest.raises(ValidationError):
        activity_done_undo(actor=gp_actor, activity=due_today)

    assert PlanChange.objects.filter(action="done-undone").count() == 1


def test_nothing_to_undo_for_an_activity_never_marked_done(gp_actor, due_today):
    with pytest.raises(ValidationError):
        activity_done_undo(actor=gp_actor, activity=due_today)


def test_marking_a_due_today_done_records_everything_it_changes(gp_actor, due_today):
    now = local(timezone.localdate(), 10)
    with freeze_time(now):
        activity_mark_done(actor=gp_actor, activity=due_today, note="OK")

    change = PlanChange.objects.get(action="done")
    assert change.comment == "OK"
    assert change.changes == {
        "status": ["not-started", "completed"],
        "outcome_note": ["", "OK"],
        "completed_at": [None, now.astimezone(datetime.UTC).isoformat()],
        "last_done_on": [None, now.date().isoformat()],
        "next_due_on": [due_today.due_date.isoformat(), None],
    }
