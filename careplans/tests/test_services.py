"""Writing plans, their team, goals and activities: validation, history and the access log."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from careplans.choices import CarePlanStatus, CareTeamRole, GoalLifecycleStatus, ThresholdCode
from careplans.models import Activity, CarePlan, Goal, PlanChange
from careplans.selectors import careplan_history
from careplans.services import (
    activity_create,
    activity_update,
    careplan_create,
    careplan_update,
    careteam_add,
    careteam_end,
    goal_create,
    goal_update,
)
from citizens.models import AccessLogEntry
from citizens.tests.factories import ConditionFactory

pytestmark = pytest.mark.django_db


# --- creating a plan -------------------------------------------------------------------------------


def test_creating_a_plan(world, gp_actor):
    copd = ConditionFactory(icd10_code="J44")

    plan = careplan_create(
        actor=gp_actor,
        citizen=world.citizen,
        title="KOL-forløb",
        coordinating_organisation=world.clinic_a,
        conditions=[copd],
        coordinator=world.users["gp_a"],
        comment="Opstart efter årskontrol",
    )

    assert plan.status == CarePlanStatus.DRAFT
    assert (plan.created_by, plan.created_by_organisation) == (world.users["gp_a"], world.clinic_a)
    assert list(plan.conditions.all()) == [copd]
    team = list(plan.participants.values_list("organisation", "role"))
    assert team == [(world.clinic_a.pk, CareTeamRole.COORDINATOR)]
    change = PlanChange.objects.get()
    assert (change.action, change.target_type, change.comment) == ("created", "careplan", "Opstart efter årskontrol")
    assert change.changes == {"title": [None, "KOL-forløb"], "status": [None, "draft"]}
    entry = AccessLogEntry.objects.filter(citizen=world.citizen, action="update").get()
    assert entry.reason == "gp_clinic"


def test_a_plan_made_by_a_hospital_for_the_gp_has_both_on_the_team(world, actor):
    from citizens.tests.factories import HospitalStayFactory

    HospitalStayFactory(citizen=world.citizen, department=world.department)
    plan = careplan_create(
        actor=actor("hospital_nurse"),
        citizen=world.citizen,
        title="Hjertesvigt",
        coordinating_organisation=world.clinic_a,
    )

    roles = dict(plan.participants.values_list("organisation", "role"))
    assert roles == {world.clinic_a.pk: CareTeamRole.COORDINATOR, world.department.pk: CareTeamRole.HOSPITAL}


def test_an_outsider_cannot_create_a_plan(world, actor):
    with pytest.raises(PermissionDenied):
        careplan_create(
            actor=actor("gp_b"), citizen=world.citizen, title="KOL", coordinating_organisation=world.clinic_b
        )
    assert not CarePlan.objects.exists()


def test_a_new_plan_is_a_draft_or_active(world, gp_actor):
    with pytest.raises(ValidationError):
        careplan_create(
            actor=gp_actor,
            citizen=world.citizen,
            title="KOL",
            coordinating_organisation=world.clinic_a,
            status=CarePlanStatus.COMPLETED,
        )
    with pytest.raises(TypeError):
        careplan_create(
            actor=gp_actor, citizen=world.citizen, title="KOL", coordinating_organisation=world.clinic_a, citizen_id=1
        )


def test_a_plan_cannot_end_before_it_starts(world, gp_actor):
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        careplan_create(
            actor=gp_actor,
            citizen=world.citizen,
            title="KOL",
            coordinating_organisation=world.clinic_a,
            period_start=today,
            period_end=today - datetime.timedelta(days=1),
        )
    assert not CarePlan.objects.exists()


# --- history ---------------------------------------------------------------------------------------


def test_updating_a_plan_records_before_and_after_with_the_comment(world, gp_actor, plan):
    copd, diabetes = ConditionFactory(icd10_code="J44"), ConditionFactory(icd10_code="E11", name_da="Type 2-diabetes")
    new_end = timezone.localdate() + datetime.timedelta(days=365)

    careplan_update(
        actor=gp_actor,
        plan=plan,
        title="KOL og type 2-diabetes",
        description="",  # unchanged
        period_end=new_end,
        conditions=[copd, diabetes],
        comment="Diabetes diagnosticeret",
    )

    change = PlanChange.objects.get(action="updated")
    assert change.comment == "Diabetes diagnosticeret"
    assert change.changes == {
        "title": ["KOL-forløb", "KOL og type 2-diabetes"],
        "period_end": [None, new_end.isoformat()],
        "conditions": [[], sorted([str(copd), str(diabetes)])],
    }
    assert (change.by, change.organisation) == (world.users["gp_a"], world.clinic_a)
    assert careplan_history(plan=plan).first() == change


def test_an_update_without_a_change_or_comment_records_nothing(gp_actor, plan):
    before = PlanChange.objects.count()

    careplan_update(actor=gp_actor, plan=plan, title=plan.title)

    assert PlanChange.objects.count() == before


def test_changing_the_coordinator_adds_the_organisation_to_the_team(world, gp_actor, plan):
    careplan_update(actor=gp_actor, plan=plan, coordinating_organisation=world.department, comment="Overtages af OUH")

    change = PlanChange.objects.get(action="updated")
    assert change.changes == {"coordinating_organisation": [str(world.clinic_a), str(world.department)]}
    assert plan.participants.get(organisation=world.department).role == CareTeamRole.COORDINATOR


def test_updating_a_goal_records_before_and_after(world, gp_actor, plan):
    goal = goal_create(
        actor=gp_actor,
        plan=plan,
        description="Blodtryk under 140/90",
        responsible_organisation=world.clinic_a,
        target_code=ThresholdCode.SYSTOLIC,
        target_comparator="<",
        target_value=Decimal("140"),
        target_unit="mmHg",
    )
    assert goal.target_display == "Systolic blood pressure < 140 mmHg"

    goal_update(actor=gp_actor, goal=goal, target_value=Decimal("150"), comment="Ældre borger: mindre stramt mål")

    change = PlanChange.objects.get(target_type="goal", action="updated")
    assert change.changes == {"target_value": ["140", "150"]}
    assert change.comment == "Ældre borger: mindre stramt mål"
    assert change.target_id == str(goal.pk)


def test_updating_an_activity_records_before_and_after(world, gp_actor, plan):
    activity = activity_create(
        actor=gp_actor,
        plan=plan,
        description="Blodtryksmåling",
        responsible_organisation=world.clinic_a,
        weekdays="MO",
        starts_on=timezone.localdate(),
    )

    activity_update(actor=gp_actor, activity=activity, weekdays="TH,MO", description="Blodtryksmåling i hjemmet")

    change = PlanChange.objects.get(target_type="activity", action="updated")
    assert change.changes == {
        "weekdays": ["MO", "MO,TH"],
        "description": ["Blodtryksmåling", "Blodtryksmåling i hjemmet"],
    }


def test_an_item_changes_owner_only_by_reassignment(world, gp_actor, plan):
    goal = goal_create(actor=gp_actor, plan=plan, description="Vægttab", responsible_organisation=world.clinic_a)

    with pytest.raises(ValidationError) as excinfo:
        goal_update(actor=gp_actor, goal=goal, responsible_organisation=world.municipality_a)
    assert "responsible_organisation" in excinfo.value.message_dict


# --- goals and activities --------------------------------------------------------------------------


def test_a_measurable_target_is_complete(world, gp_actor, plan):
    with pytest.raises(ValidationError):
        goal_create(
            actor=gp_actor, plan=plan, description="Vægt", responsible_organisation=world.clinic_a, target_value=90
        )
    assert not Goal.objects.exists()


def test_a_goal_with_a_text_target(world, gp_actor, plan):
    goal = goal_create(
        actor=gp_actor,
        plan=plan,
        description="Bedre regulering af diabetes",
        responsible_organisation=world.clinic_a,
        target_text="HbA1c < 53 mmol/mol",
        lifecycle_status=GoalLifecycleStatus.ACTIVE,
    )
    assert goal.target_display == "HbA1c < 53 mmol/mol"
    assert goal.lifecycle_status == GoalLifecycleStatus.ACTIVE


def test_an_activity_needs_a_due_date_or_a_recurrence(world, gp_actor, plan):
    with pytest.raises(ValidationError) as excinfo:
        activity_create(actor=gp_actor, plan=plan, description="Kontrol", responsible_organisation=world.clinic_a)
    assert "due_date" in excinfo.value.message_dict
    assert not Activity.objects.exists()


def test_the_responsible_person_works_for_the_responsible_organisation(world, gp_actor, plan):
    with pytest.raises(ValidationError) as excinfo:
        activity_create(
            actor=gp_actor,
            plan=plan,
            description="Kontrol",
            responsible_organisation=world.clinic_a,
            responsible_person=world.users["homecare_a"],
            due_date=timezone.localdate(),
        )
    assert "responsible_person" in excinfo.value.message_dict
    activity = activity_create(
        actor=gp_actor,
        plan=plan,
        description="Kontrol",
        responsible_organisation=world.clinic_a,
        responsible_person=world.users["nurse_a"],
        due_date=timezone.localdate(),
    )
    assert activity.responsible_person == world.users["nurse_a"]


def test_only_the_care_team_edits_the_plan(world, actor, plan):
    homecare_a = actor("homecare_a")  # sees the citizen, is not on the team
    with pytest.raises(PermissionDenied):
        goal_create(actor=homecare_a, plan=plan, description="x", responsible_organisation=world.municipality_a)
    with pytest.raises(PermissionDenied):
        careplan_update(actor=homecare_a, plan=plan, title="x")
    with pytest.raises(PermissionDenied):
        careplan_update(actor=actor("gp_b"), plan=plan, title="x")  # does not even see the citizen
    plan.refresh_from_db()
    assert plan.title == "KOL-forløb"


# --- the care team ---------------------------------------------------------------------------------


def test_adding_and_ending_a_team_member(world, actor, gp_actor, plan):
    participant = careteam_add(
        actor=gp_actor,
        plan=plan,
        organisation=world.municipality_a,
        role=CareTeamRole.HOME_CARE,
        person=world.users["homecare_a"],
        comment="Hjemmesygeplejen",
    )
    added = PlanChange.objects.get(action="team-added")
    assert added.changes == {"organisation": [None, str(world.municipality_a)], "role": [None, "home-care"]}

    # a team member may edit the plan now
    goal_create(
        actor=actor("homecare_a"),
        plan=plan,
        description="Faldforebyggelse",
        responsible_organisation=world.municipality_a,
    )

    careteam_end(actor=gp_actor, participant=participant, comment="Forløb afsluttet")

    participant.refresh_from_db()
    assert participant.period_end == timezone.localdate()
    ended = PlanChange.objects.get(action="team-ended")
    assert ended.changes == {"period_end": [None, timezone.localdate().isoformat()]}
    assert ended.comment == "Forløb afsluttet"


def test_the_coordinator_leaves_only_after_handing_over(world, gp_actor, plan):
    coordinator = plan.participants.get(role=CareTeamRole.COORDINATOR)

    with pytest.raises(ValidationError):
        careteam_end(actor=gp_actor, participant=coordinator)
    coordinator.refresh_from_db()
    assert coordinator.period_end is None


def test_a_team_period_cannot_end_before_it_starts(world, gp_actor, plan):
    with pytest.raises(ValidationError):
        careteam_add(
            actor=gp_actor,
            plan=plan,
            organisation=world.municipality_a,
            role=CareTeamRole.HOME_CARE,
            period_start=timezone.localdate(),
            period_end=timezone.localdate() - datetime.timedelta(days=1),
        )
