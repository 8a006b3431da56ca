"""The FHIR lifecycles of plans, goals and activities, enforced by the services."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from careplans.choices import ActivityStatus, CarePlanStatus, GoalAchievement, GoalLifecycleStatus
from careplans.lifecycle import ACTIVITY_TRANSITIONS, GOAL_TRANSITIONS, PLAN_TRANSITIONS, allowed_next
from careplans.models import Activity, CarePlan, Goal, PlanChange
from careplans.services import (
    activity_create,
    activity_set_status,
    careplan_set_status,
    careplan_update,
    goal_create,
    goal_set_status,
)

pytestmark = pytest.mark.django_db


def pairs(table: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [(current, new) for current, targets in table.items() for new in sorted(targets)]


def assert_invalid_transition(excinfo) -> None:
    errors = excinfo.value.error_dict["status"]
    assert [e.code for e in errors] == ["invalid_transition"]


def in_status(model, obj, field: str, status: str):
    model.objects.filter(pk=obj.pk).update(**{field: status})
    obj.refresh_from_db()
    return obj


# --- plans -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "new"), pairs(PLAN_TRANSITIONS))
def test_every_allowed_plan_transition_works(world, gp_actor, plan, current, new):
    in_status(CarePlan, plan, "status", current)

    careplan_set_status(actor=gp_actor, plan=plan, status=new, comment="test")

    plan.refresh_from_db()
    assert plan.status == new
    change = PlanChange.objects.filter(care_plan=plan, action="status").get()
    assert change.changes == {"status": [current, new]}
    assert change.comment == "test"


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (CarePlanStatus.DRAFT, CarePlanStatus.COMPLETED),
        (CarePlanStatus.DRAFT, CarePlanStatus.ON_HOLD),
        (CarePlanStatus.ACTIVE, CarePlanStatus.DRAFT),
        (CarePlanStatus.COMPLETED, CarePlanStatus.ACTIVE),
        (CarePlanStatus.REVOKED, CarePlanStatus.ACTIVE),
        (CarePlanStatus.ON_HOLD, CarePlanStatus.DRAFT),
    ],
)
def test_impossible_plan_transitions_are_refused(gp_actor, plan, current, new):
    in_status(CarePlan, plan, "status", current)

    with pytest.raises(ValidationError) as excinfo:
        careplan_set_status(actor=gp_actor, plan=plan, status=new)

    assert_invalid_transition(excinfo)
    assert plan.status == current
    plan.refresh_from_db()
    assert plan.status == current
    assert not PlanChange.objects.filter(care_plan=plan, action="status").exists()


def test_a_plan_entered_in_error_cannot_be_changed_at_all(gp_actor, plan):
    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.ENTERED_IN_ERROR, comment="Forkert borger")

    with pytest.raises(ValidationError):
        careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.ACTIVE)
    with pytest.raises(ValidationError):
        careplan_update(actor=gp_actor, plan=plan, title="Changed")
    plan.refresh_from_db()
    assert (plan.status, plan.title) == (CarePlanStatus.ENTERED_IN_ERROR, "KOL-forløb")


def test_completing_a_plan_sets_its_end_date(gp_actor, plan):
    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.COMPLETED)

    plan.refresh_from_db()
    assert plan.period_end == timezone.localdate()


def test_setting_the_same_status_is_not_a_transition(gp_actor, plan):
    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.ACTIVE)

    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.ACTIVE


def test_allowed_next_lists_the_targets_in_order():
    assert allowed_next(PLAN_TRANSITIONS, CarePlanStatus.DRAFT) == ["active", "entered-in-error", "revoked"]
    assert allowed_next(PLAN_TRANSITIONS, CarePlanStatus.ENTERED_IN_ERROR) == []


# --- goals -----------------------------------------------------------------------------------------


@pytest.fixture
def goal(world, gp_actor, plan):
    return goal_create(
        actor=gp_actor, plan=plan, description="Blodtryk under 140/90", responsible_organisation=world.clinic_a
    )


@pytest.mark.parametrize(("current", "new"), pairs(GOAL_TRANSITIONS))
def test_every_allowed_goal_transition_works(gp_actor, goal, current, new):
    in_status(Goal, goal, "lifecycle_status", current)

    goal_set_status(actor=gp_actor, goal=goal, lifecycle_status=new, comment="test")  # a reason for the irreversible

    goal.refresh_from_db()
    assert goal.lifecycle_status == new
    change = PlanChange.objects.get(target_type="goal", action="status")
    assert change.changes == {"lifecycle_status": [current, new]}


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (GoalLifecycleStatus.PROPOSED, GoalLifecycleStatus.COMPLETED),
        (GoalLifecycleStatus.PROPOSED, GoalLifecycleStatus.ON_HOLD),
        (GoalLifecycleStatus.ACTIVE, GoalLifecycleStatus.PROPOSED),
        (GoalLifecycleStatus.COMPLETED, GoalLifecycleStatus.ACTIVE),
        (GoalLifecycleStatus.CANCELLED, GoalLifecycleStatus.ACTIVE),
        (GoalLifecycleStatus.REJECTED, GoalLifecycleStatus.ACCEPTED),
        (GoalLifecycleStatus.ENTERED_IN_ERROR, GoalLifecycleStatus.ACTIVE),
    ],
)
def test_impossible_goal_transitions_are_refused(gp_actor, goal, current, new):
    in_status(Goal, goal, "lifecycle_status", current)

    with pytest.raises(ValidationError) as excinfo:
        goal_set_status(actor=gp_actor, goal=goal, lifecycle_status=new, achievement=GoalAchievement.IMPROVING)

    assert_invalid_transition(excinfo)
    goal.refresh_from_db()
    assert goal.lifecycle_status == current
    assert goal.achievement == GoalAchievement.IN_PROGRESS  # nothing of the refused change is kept


def test_achievement_changes_on_its_own_and_is_recorded(gp_actor, goal):
    goal_set_status(actor=gp_actor, goal=goal, achievement=GoalAchievement.IMPROVING, comment="BT 138/85")

    goal.refresh_from_db()
    assert (goal.lifecycle_status, goal.achievement) == (GoalLifecycleStatus.PROPOSED, GoalAchievement.IMPROVING)
    change = PlanChange.objects.get(target_type="goal", action="status")
    assert change.changes == {"achievement": ["in-progress", "improving"]}
    assert change.comment == "BT 138/85"


def test_an_unknown_achievement_code_is_refused(gp_actor, goal):
    with pytest.raises(ValueError):
        goal_set_status(actor=gp_actor, goal=goal, achievement="great")


def test_only_the_responsible_organisation_changes_a_goals_status(world, actor, goal):
    homecare = actor("homecare_a")  # sees the citizen (municipality of residence), not on the team
    with pytest.raises(PermissionDenied):
        goal_set_status(actor=homecare, goal=goal, lifecycle_status=GoalLifecycleStatus.ACTIVE)
    nurse = actor("nurse_a")  # the GP's colleague may
    goal_set_status(actor=nurse, goal=goal, lifecycle_status=GoalLifecycleStatus.ACTIVE)
    goal.refresh_from_db()
    assert goal.lifecycle_status == GoalLifecycleStatus.ACTIVE


# --- activities ------------------------------------------------------------------------------------


@pytest.fixture
def activity(world, gp_actor, plan):
    return activity_create(
        actor=gp_actor,
        plan=plan,
        description="Årskontrol",
        responsible_organisation=world.clinic_a,
        due_date=timezone.localdate() + datetime.timedelta(days=30),
    )


@pytest.mark.parametrize(("current", "new"), pairs(ACTIVITY_TRANSITIONS))
def test_every_allowed_activity_transition_works(gp_actor, activity, current, new):
    in_status(Activity, activity, "status", current)

    activity_set_status(actor=gp_actor, activity=activity, status=new, comment="test")  # a reason for the irreversible

    activity.refresh_from_db()
    assert activity.status == new
    change = PlanChange.objects.get(target_type="activity", action="status")
    assert change.changes == {"status": [current, new]}
    if new == ActivityStatus.COMPLETED:
        assert activity.completed_at is not None
        assert activity.last_done_on == timezone.localdate()
    if new in (ActivityStatus.COMPLETED, ActivityStatus.CANCELLED, ActivityStatus.STOPPED, "entered-in-error"):
        assert activity.next_due_on is None
    else:
        assert activity.next_due_on == activity.due_date


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (ActivityStatus.NOT_STARTED, ActivityStatus.STOPPED),
        (ActivityStatus.SCHEDULED, ActivityStatus.NOT_STARTED),
        (ActivityStatus.ON_HOLD, ActivityStatus.COMPLETED),
        (ActivityStatus.COMPLETED, ActivityStatus.IN_PROGRESS),
        (ActivityStatus.CANCELLED, ActivityStatus.SCHEDULED),
        (ActivityStatus.STOPPED, ActivityStatus.IN_PROGRESS),
        (ActivityStatus.ENTERED_IN_ERROR, ActivityStatus.NOT_STARTED),
    ],
)
def test_impossible_activity_transitions_are_refused(gp_actor, activity, current, new):
    in_status(Activity, activity, "status", current)

    with pytest.raises(ValidationError) as excinfo:
        activity_set_status(actor=gp_actor, activity=activity, status=new, outcome_note="should not be kept")

    assert_invalid_transition(excinfo)
    activity.refresh_from_db()
    assert activity.status == current
    assert activity.outcome_note == ""
    assert not PlanChange.objects.filter(target_type="activity", action="status").exists()


def test_the_outcome_note_is_kept_when_an_activity_is_completed(gp_actor, activity):
    activity_set_status(
        actor=gp_actor, activity=activity, status=ActivityStatus.COMPLETED, outcome_note="BT 135/82, fortsætter"
    )

    activity.refresh_from_db()
    assert activity.outcome_note == "BT 135/82, fortsætter"
    change = PlanChange.objects.get(target_type="activity", action="status")
    assert change.changes["outcome_note"] == ["", "BT 135/82, fortsætter"]


def test_only_the_responsible_organisation_changes_an_activitys_status(actor, activity):
    with pytest.raises(PermissionDenied):
        activity_set_status(actor=actor("homecare_a"), activity=activity, status=ActivityStatus.SCHEDULED)
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.NOT_STARTED
