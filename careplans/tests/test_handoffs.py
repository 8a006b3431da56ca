"""Hand-offs: assigning a goal or an activity to another organisation needs that organisation's yes."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import (
    ActivityStatus,
    CareEventKind,
    CareTeamRole,
    GoalLifecycleStatus,
    HandoffStatus,
)
from careplans.models import CareEvent, Handoff, PlanChange
from careplans.services import (
    activity_create,
    activity_mark_done,
    goal_create,
    handoff_accept,
    handoff_reject,
    handoffs_flag_overdue,
    item_reassign,
)
from citizens.access import access_reason

pytestmark = pytest.mark.django_db


def assign_activity(gp_actor, plan, organisation, **fields):
    fields.setdefault("weekdays", "MO,TH")
    return activity_create(
        actor=gp_actor,
        plan=plan,
        description="Blodtryksmåling i hjemmet",
        responsible_organisation=organisation,
        **fields,
    )


def events(kind: str, organisation=None):
    qs = CareEvent.objects.filter(kind=kind)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return qs


# --- requesting ------------------------------------------------------------------------------------


def test_assigning_an_activity_to_another_organisation_requests_a_handoff(world, actor, gp_actor, plan):
    homecare_b = actor("homecare_b")
    assert access_reason(homecare_b, world.citizen) is None  # no relationship before

    activity = assign_activity(gp_actor, plan, world.municipality_b)

    assert activity.handoff_status == HandoffStatus.REQUESTED
    assert activity.awaiting_acceptance
    handoff = Handoff.objects.get()
    assert (handoff.activity, handoff.goal, handoff.status) == (activity, None, HandoffStatus.REQUESTED)
    assert (handoff.from_organisation, handoff.to_organisation) == (world.clinic_a, world.municipality_b)
    assert handoff.requested_by == world.users["gp_a"]
    # the receiver hears about it ...
    event = events(CareEventKind.HANDOFF_REQUESTED).get()
    assert event.organisation == world.municipality_b
    assert (event.citizen, event.care_plan) == (world.citizen, plan)
    assert event.payload["handoff"] == handoff.pk
    # ... and joins the care team, which lets it see the citizen and answer
    participant = plan.participants.get(organisation=world.municipality_b)
    assert participant.role == CareTeamRole.HOME_CARE
    assert participant.period_end is None
    assert access_reason(homecare_b, world.citizen)[0] == "care_team"


def test_assigning_a_goal_to_a_hospital_department_requests_a_handoff(world, gp_actor, plan):
    goal = goal_create(
        actor=gp_actor, plan=plan, description="Afklaring af hjertesvigt", responsible_organisation=world.department
    )

    assert goal.handoff_status == HandoffStatus.REQUESTED
    handoff = Handoff.objects.get(goal=goal)
    assert handoff.to_organisation == world.department
    assert events(CareEventKind.HANDOFF_REQUESTED, world.department).count() == 1
    assert plan.participants.get(organisation=world.department).role == CareTeamRole.HOSPITAL


def test_an_organisations_own_items_need_no_handoff(world, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.clinic_a)
    goal = goal_create(
        actor=gp_actor, plan=plan, description="Vægt under 90 kg", responsible_organisation=world.clinic_a
    )

    assert activity.handoff_status == goal.handoff_status == ""
    assert not Handoff.objects.exists()
    assert not CareEvent.objects.exists()


def test_a_receiver_already_on_the_team_is_not_added_twice(world, gp_actor, plan):
    assign_activity(gp_actor, plan, world.municipality_b)
    assign_activity(gp_actor, plan, world.municipality_b, weekdays="TU")

    assert plan.participants.filter(organisation=world.municipality_b).count() == 1
    assert Handoff.objects.count() == 2
    assert events(CareEventKind.HANDOFF_REQUESTED).count() == 2


# --- answering -------------------------------------------------------------------------------------


def test_accepting_an_activity(world, actor, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b)
    homecare_b = actor("homecare_b")

    handoff = handoff_accept(actor=homecare_b, handoff=activity.handoffs.get(), comment="Vi starter mandag")

    assert handoff.status == HandoffStatus.ACCEPTED
    assert handoff.answered_by == world.users["homecare_b"]
    assert handoff.answered_at is not None
    activity.refresh_from_db()
    assert activity.handoff_status == HandoffStatus.ACCEPTED
    assert activity.status == ActivityStatus.SCHEDULED
    event = events(CareEventKind.HANDOFF_ACCEPTED).get()
    assert event.organisation == world.clinic_a  # the requester is told
    change = PlanChange.objects.get(action="handoff-accepted")
    assert change.organisation == world.municipality_b
    assert change.comment == "Vi starter mandag"
    # now the receiver works on it
    activity_mark_done(actor=homecare_b, activity=activity, note="BT 132/84")
    activity.refresh_from_db()
    assert activity.last_done_on == timezone.localdate()


def test_accepting_a_goal_accepts_the_proposed_goal(world, actor, gp_actor, plan):
    goal = goal_create(
        actor=gp_actor, plan=plan, description="KOL-rehabilitering", responsible_organisation=world.department
    )

    handoff_accept(actor=actor("hospital_nurse"), handoff=goal.handoffs.get())

    goal.refresh_from_db()
    assert (goal.handoff_status, goal.lifecycle_status) == (HandoffStatus.ACCEPTED, GoalLifecycleStatus.ACCEPTED)


def test_rejecting_needs_a_reason(world, actor, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b)
    handoff = activity.handoffs.get()

    for reason in ("", "   "):
        with pytest.raises(ValidationError) as excinfo:
            handoff_reject(actor=actor("homecare_b"), handoff=handoff, reason=reason)
        assert "reason" in excinfo.value.message_dict

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REQUESTED
    assert not events(CareEventKind.HANDOFF_REJECTED).exists()


def test_rejecting_with_a_reason(world, actor, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b)

    handoff = handoff_reject(
        actor=actor("homecare_b"), handoff=activity.handoffs.get(), reason="  Borgeren bor i Kommune A  "
    )

    assert (handoff.status, handoff.reason) == (HandoffStatus.REJECTED, "Borgeren bor i Kommune A")
    activity.refresh_from_db()
    assert activity.handoff_status == HandoffStatus.REJECTED
    assert activity.status == ActivityStatus.NOT_STARTED
    event = events(CareEventKind.HANDOFF_REJECTED).get()
    assert event.organisation == world.clinic_a
    assert event.payload["reason"] == "Borgeren bor i Kommune A"
    # a rejected item is not worked on
    with pytest.raises(ValidationError):
        activity_mark_done(actor=actor("homecare_b"), activity=activity)


@pytest.mark.parametrize("who", ["gp_a", "homecare_a", "gp_b", "hospital_nurse"])
def test_only_the_receiving_organisation_answers(world, actor, gp_actor, plan, who):
    activity = assign_activity(gp_actor, plan, world.municipality_b)
    handoff = activity.handoffs.get()

    with pytest.raises(PermissionDenied):
        handoff_accept(actor=actor(who), handoff=handoff)
    with pytest.raises(PermissionDenied):
        handoff_reject(actor=actor(who), handoff=handoff, reason="Ikke vores")

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REQUESTED
    assert not CareEvent.objects.exclude(kind=CareEventKind.HANDOFF_REQUESTED).exists()


def test_a_request_is_answered_once(world, actor, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b)
    homecare_b = actor("homecare_b")
    handoff = handoff_accept(actor=homecare_b, handoff=activity.handoffs.get())

    with pytest.raises(ValidationError, match="already been answered"):
        handoff_accept(actor=homecare_b, handoff=handoff)
    with pytest.raises(ValidationError, match="already been answered"):
        handoff_reject(actor=homecare_b, handoff=handoff, reason="Fortrudt")

    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACCEPTED
    assert events(CareEventKind.HANDOFF_ACCEPTED).count() == 1
    assert not events(CareEventKind.HANDOFF_REJECTED).exists()


def test_an_item_awaiting_acceptance_is_not_worked_on(world, actor, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b)

    with pytest.raises(ValidationError, match="Accept the hand-off"):
        activity_mark_done(actor=actor("homecare_b"), activity=activity)


# --- reassigning -----------------------------------------------------------------------------------


def test_reassigning_an_open_request(world, actor, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b)
    old = activity.handoffs.get()

    new = item_reassign(actor=gp_actor, item=activity, organisation=world.municipality_a, comment="Forkert kommune")

    old.refresh_from_db()
    assert old.status == HandoffStatus.CANCELLED
    assert old.answered_by == world.users["gp_a"]
    assert (new.status, new.to_organisation) == (HandoffStatus.REQUESTED, world.municipality_a)
    activity.refresh_from_db()
    assert activity.responsible_organisation == world.municipality_a
    assert activity.handoff_status == HandoffStatus.REQUESTED
    # both the old and the new owner hear about it; the new one is asked
    reassigned = events(CareEventKind.HANDOFF_REASSIGNED)
    assert set(reassigned.values_list("organisation", flat=True)) == {world.municipality_b.pk, world.municipality_a.pk}
    assert events(CareEventKind.HANDOFF_REQUESTED, world.municipality_a).count() == 1
    change = PlanChange.objects.get(action="reassigned")
    assert change.changes == {"responsible_organisation": [str(world.municipality_b), str(world.municipality_a)]}
    assert change.comment == "Forkert kommune"
    # the old request cannot be answered any more; the new one can
    with pytest.raises(ValidationError):
        handoff_accept(actor=actor("homecare_b"), handoff=old)
    handoff_accept(actor=actor("homecare_a"), handoff=new)


def test_reassigning_an_accepted_item(world, actor, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b, responsible_person=world.users["homecare_b"])
    accepted = handoff_accept(actor=actor("homecare_b"), handoff=activity.handoffs.get())

    item_reassign(actor=gp_actor, item=activity, organisation=world.municipality_a)

    accepted.refresh_from_db()
    assert accepted.status == HandoffStatus.ACCEPTED  # history is not rewritten
    activity.refresh_from_db()
    assert activity.responsible_person is None
    assert activity.handoff_status == HandoffStatus.REQUESTED
    assert activity.handoffs.filter(status=HandoffStatus.REQUESTED).get().to_organisation == world.municipality_a


def test_reassigning_back_to_the_own_organisation_needs_no_answer(world, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b)

    assert item_reassign(actor=gp_actor, item=activity, organisation=world.clinic_a) is None

    activity.refresh_from_db()
    assert activity.handoff_status == ""
    assert not Handoff.objects.filter(status=HandoffStatus.REQUESTED).exists()


def test_reassigning_to_the_same_owner_is_refused(world, gp_actor, plan):
    activity = assign_activity(gp_actor, plan, world.municipality_b)

    with pytest.raises(ValidationError):
        item_reassign(actor=gp_actor, item=activity, organisation=world.municipality_b)
    assert activity.handoffs.get().status == HandoffStatus.REQUESTED


# --- overdue requests ------------------------------------------------------------------------------


def test_unanswered_requests_are_flagged_overdue_once(world, actor, gp_actor, plan):
    start = timezone.now()
    with freeze_time(start):
        activity = assign_activity(gp_actor, plan, world.municipality_b)
        answered = assign_activity(gp_actor, plan, world.municipality_b, weekdays="FR")
        handoff_accept(actor=actor("homecare_b"), handoff=answered.handoffs.get())

    with freeze_time(start + datetime.timedelta(hours=71)):
        assert handoffs_flag_overdue() == 0
    with freeze_time(start + datetime.timedelta(hours=73)):
        assert handoffs_flag_overdue() == 1
        assert handoffs_flag_overdue() == 0
    with freeze_time(start + datetime.timedelta(days=10)):
        assert handoffs_flag_overdue() == 0

    event = events(CareEventKind.HANDOFF_OVERDUE).get()
    assert event.organisation == world.clinic_a  # the requester follows up
    assert event.payload["handoff"] == activity.handoffs.get().pk


def test_overdue_follows_the_setting(world, gp_actor, plan, settings):
    settings.HANDOFF_OVERDUE_HOURS = 24
    start = timezone.now()
    with freeze_time(start):
        assign_activity(gp_actor, plan, world.municipality_b)

    assert handoffs_flag_overdue(now=start + datetime.timedelta(hours=23)) == 0
    assert handoffs_flag_overdue(now=start + datetime.timedelta(hours=25)) == 1
