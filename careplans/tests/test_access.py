"""Access through the care team (``careplans.relationships``), and how it ends."""

from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import CarePlanStatus, CareTeamRole, ObservationCode, ThresholdCode
from careplans.monitoring import observation_record, threshold_set
from careplans.selectors import alerts_worklist, careplan_get, handoffs_incoming, today_list
from careplans.services import (
    activity_create,
    careplan_set_status,
    careteam_add,
    careteam_end,
)
from citizens.access import access_reason, visible_citizens
from citizens.choices import ObjectionTarget, RelationshipKind
from citizens.models import AccessLogEntry, CareRelationship, Objection
from citizens.relationships import live, local_midnight, relationships_recompute
from citizens.services import citizen_update
from sectors.choices import Sector

from .helpers import active_plan, blood_pressure

pytestmark = pytest.mark.django_db


def reason(actor, citizen):
    found = access_reason(actor, citizen)
    return found[0] if found else None


def sees(actor, citizen) -> bool:
    return visible_citizens(actor.acting, actor.user).filter(pk=citizen.pk).exists()


def test_joining_the_care_team_gives_access(world, actor, gp_actor, plan):
    homecare_b = actor("homecare_b")
    assert reason(homecare_b, world.citizen) is None

    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE)

    assert reason(homecare_b, world.citizen) == "care_team"
    assert sees(homecare_b, world.citizen)
    assert careplan_get(actor=homecare_b, pk=plan.pk) == plan
    entry = AccessLogEntry.objects.filter(user=world.users["homecare_b"], action="view").get()
    assert (entry.citizen, entry.reason) == (world.citizen, "care_team")


def test_access_ends_with_the_participation(world, actor, gp_actor, plan):
    homecare_b = actor("homecare_b")
    participant = careteam_add(
        actor=gp_actor, plan=plan, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE
    )

    careteam_end(actor=gp_actor, participant=participant)
    assert reason(homecare_b, world.citizen) == "care_team"  # the last day still counts

    with freeze_time(timezone.now() + datetime.timedelta(days=1)):
        assert reason(homecare_b, world.citizen) is None
        assert not sees(homecare_b, world.citizen)
        with pytest.raises(Http404):
            careplan_get(actor=homecare_b, pk=plan.pk)


def test_a_participation_ended_in_the_past_gives_nothing(world, actor, gp_actor, plan):
    today = timezone.localdate()
    careteam_add(
        actor=gp_actor,
        plan=plan,
        organisation=world.municipality_b,
        role=CareTeamRole.HOME_CARE,
        period_start=today - datetime.timedelta(days=30),
        period_end=today - datetime.timedelta(days=1),
    )

    assert reason(actor("homecare_b"), world.citizen) is None


def test_a_participation_starting_later_gives_nothing_yet(world, actor, gp_actor, plan):
    careteam_add(
        actor=gp_actor,
        plan=plan,
        organisation=world.municipality_b,
        role=CareTeamRole.HOME_CARE,
        period_start=timezone.localdate() + datetime.timedelta(days=3),
    )

    assert reason(actor("homecare_b"), world.citizen) is None
    with freeze_time(timezone.now() + datetime.timedelta(days=3)):
        assert reason(actor("homecare_b"), world.citizen) == "care_team"


@pytest.mark.parametrize(
    ("status", "access"),
    [
        (CarePlanStatus.ON_HOLD, True),
        (CarePlanStatus.COMPLETED, False),
        (CarePlanStatus.REVOKED, False),
        (CarePlanStatus.ENTERED_IN_ERROR, False),
    ],
)
def test_access_ends_with_the_plan(world, actor, gp_actor, plan, status, access):
    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE)

    careplan_set_status(actor=gp_actor, plan=plan, status=status, comment="test")  # a reason for the irreversible

    assert (reason(actor("homecare_b"), world.citizen) == "care_team") is access


def test_a_draft_plan_gives_access_to_its_team(world, actor, gp_actor):
    from careplans.services import careplan_create

    careplan_create(
        actor=gp_actor, citizen=world.citizen, title="Udkast", coordinating_organisation=world.municipality_b
    )

    assert reason(actor("homecare_b"), world.citizen) == "care_team"


def test_another_open_plan_keeps_the_access(world, actor, gp_actor, plan):
    other = active_plan(world, gp_actor, title="Diabetes")
    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE)
    careteam_add(actor=gp_actor, plan=other, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE)

    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.COMPLETED)

    assert reason(actor("homecare_b"), world.citizen) == "care_team"


def test_the_own_columns_win_over_the_care_team(world, actor, gp_actor, plan):
    """The citizen's GP clinic and municipality see the citizen for their own reason."""
    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_a, role=CareTeamRole.HOME_CARE)

    assert reason(gp_actor, world.citizen) == "gp_clinic"
    assert reason(actor("homecare_a"), world.citizen) == "municipality"


# --- a hospital department on the team --------------------------------------------------------------

MATRIX = {
    "gp_a": "gp_clinic",
    "nurse_a": "gp_clinic",
    "homecare_a": "municipality",
    "assistant_a": "municipality",
    "hospital_nurse": "care_team",  # the department on the team
    "unit_physician": None,  # the team names the department, not its hospital unit
    "other_hospital": None,
    "gp_b": None,
    "homecare_b": None,
    "admin_b": None,
}


@pytest.fixture
def department_on_team(world, gp_actor, plan):
    return careteam_add(actor=gp_actor, plan=plan, organisation=world.department, role=CareTeamRole.HOSPITAL)


@pytest.mark.parametrize(("who", "expected"), sorted(MATRIX.items()))
def test_access_matrix_with_a_hospital_department_on_the_team(world, actor, plan, department_on_team, who, expected):
    someone = actor(who)

    assert reason(someone, world.citizen) == expected
    assert sees(someone, world.citizen) is (expected is not None)
    if expected is None:
        with pytest.raises(Http404):
            careplan_get(actor=someone, pk=plan.pk)
    else:
        assert careplan_get(actor=someone, pk=plan.pk) == plan


def test_the_department_loses_access_when_it_leaves_the_team(world, actor, gp_actor, plan, department_on_team):
    careteam_end(actor=gp_actor, participant=department_on_team)

    with freeze_time(timezone.now() + datetime.timedelta(days=1)):
        assert reason(actor("hospital_nurse"), world.citizen) is None


def test_an_objection_against_the_hospitals_removes_the_care_team_access(world, actor, plan, department_on_team):
    Objection.objects.create(
        citizen=world.citizen,
        target=ObjectionTarget.SECTOR,
        sector=Sector.HOSPITAL,
        note="Ønsker det ikke",
        recorded_by=world.users["gp_a"],
    )

    assert reason(actor("hospital_nurse"), world.citizen) is None
    assert reason(actor("gp_a"), world.citizen) == "gp_clinic"


# --- the work lists only show citizens inside the gate ---------------------------------------------


def test_work_lists_forget_the_citizen_when_the_team_access_ends(world, actor, gp_actor, plan):
    participant = careteam_add(
        actor=gp_actor, plan=plan, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE
    )
    activity_create(
        actor=gp_actor,
        plan=plan,
        description="Blodtryksmåling i hjemmet",
        responsible_organisation=world.municipality_b,
        due_date=timezone.localdate(),
    )
    threshold_set(actor=gp_actor, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="x", yellow_high=150)
    from careplans.monitoring import schedule_create

    schedule_create(
        actor=gp_actor,
        citizen=world.citizen,
        code=ObservationCode.BLOOD_PRESSURE,
        every_hours=24,
        monitoring_organisation=world.municipality_b,
    )
    observation_record(actor=gp_actor, citizen=world.citizen, reading=blood_pressure("160", "80"))
    homecare_b = actor("homecare_b")
    assert len(alerts_worklist(actor=homecare_b)) == 1
    assert len(handoffs_incoming(actor=homecare_b)) == 1

    careteam_end(actor=gp_actor, participant=participant)
    with freeze_time(timezone.now() + datetime.timedelta(days=1)):
        assert alerts_worklist(actor=homecare_b) == []
        assert handoffs_incoming(actor=homecare_b) == []
        assert today_list(actor=homecare_b) == []


# --- the care-team rows: every participant of an open plan has one ---------------------------------


def team_rows(plan) -> set:
    return set(
        CareRelationship.objects.filter(
            kind=RelationshipKind.CARE_TEAM, source_id__in=[str(p.pk) for p in plan.participants.all()]
        ).values_list("organisation_id", "valid_to")
    )


def test_every_participant_has_a_row_for_its_period(world, actor, gp_actor, plan):
    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_a, role=CareTeamRole.HOME_CARE)
    careteam_add(actor=gp_actor, plan=plan, organisation=world.department, role=CareTeamRole.HOSPITAL)

    assert {org for org, _ in team_rows(plan)} == {world.clinic_a.pk, world.municipality_a.pk, world.department.pk}
    assert not relationships_recompute()


def test_a_move_keeps_the_old_municipalitys_team_access(world, actor, gp_actor, plan):
    """Odense stays on the team when the citizen moves away: the membership becomes its way in."""
    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_a, role=CareTeamRole.HOME_CARE)
    citizen_update(actor=gp_actor, citizen=world.citizen, municipality=world.municipality_b)

    assert reason(actor("homecare_a"), world.citizen) == "care_team"
    assert reason(actor("homecare_b"), world.citizen) == "municipality"
    assert not relationships_recompute()


def test_a_new_gp_clinic_keeps_the_old_clinics_team_access_and_moving_back_restores_the_reason(
    world, actor, gp_actor, plan
):
    homecare_a = actor("homecare_a")
    citizen_update(actor=homecare_a, citizen=world.citizen, gp_clinic=world.clinic_b)

    assert reason(gp_actor, world.citizen) == "care_team"

    world.citizen.gp_clinic = world.clinic_a
    world.citizen.save()  # any save, not only the service's (the admin, a shell)
    assert reason(gp_actor, world.citizen) == "gp_clinic"
    assert not relationships_recompute()


def test_ending_a_participation_and_closing_the_plan_end_the_rows(world, actor, gp_actor, plan):
    participant = careteam_add(actor=gp_actor, plan=plan, organisation=world.department, role=CareTeamRole.HOSPITAL)
    careteam_end(actor=gp_actor, participant=participant)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert (world.department.pk, local_midnight(tomorrow)) in team_rows(plan)
    assert not relationships_recompute()

    careplan_set_status(actor=gp_actor, plan=plan, status=CarePlanStatus.COMPLETED)
    assert reason(actor("hospital_nurse"), world.citizen) is None
    assert not CareRelationship.objects.filter(live(timezone.now()), kind=RelationshipKind.CARE_TEAM).exists()
    assert not relationships_recompute()
