"""A care plan read with prepared statements (``careplans/plan_detail.py``) is what the ORM's
``select_related`` and ``prefetch_related`` read, attached the same way."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from careplans.choices import CareTeamRole
from careplans.models import CarePlan
from careplans.plan_detail import careplan_read
from careplans.selectors import _plan_queryset
from careplans.services import activity_create, careteam_add, goal_create
from citizens.models import Condition

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_plan(world, gp_actor, plan):
    """Two conditions, a team member besides the coordinator, two goals and three activities of
    two organisations (the order of each list is the point)."""
    plan.conditions.set(Condition.objects.filter(icd10_code__in=["J44", "E11"]))
    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_a, role=CareTeamRole.HOME_CARE)
    today = timezone.localdate()
    for days, text in ((30, "Rygestop"), (7, "Vægt under 90 kg")):
        goal_create(
            actor=gp_actor,
            plan=plan,
            description=text,
            responsible_organisation=world.clinic_a,
            due_date=today + datetime.timedelta(days=days),
        )
    for organisation, days in ((world.clinic_a, 3), (world.municipality_a, 1), (world.clinic_a, 2)):
        activity_create(
            actor=gp_actor,
            plan=plan,
            description=f"Besøg om {days} dage",
            responsible_organisation=organisation,
            due_date=today + datetime.timedelta(days=days),
        )
    return plan


def test_the_plan_and_its_lists_are_what_the_orm_reads(full_plan):
    expected = _plan_queryset().get(pk=full_plan.pk)
    with CaptureQueriesContext(connection) as ctx:
        plan = careplan_read(str(full_plan.pk))
    assert len(ctx.captured_queries) == 5  # the plan with its citizen, then the four lists

    with CaptureQueriesContext(connection) as ctx:
        assert plan == expected
        assert (plan.citizen, plan.citizen.municipality, plan.citizen.gp_clinic) == (
            expected.citizen,
            expected.citizen.municipality,
            expected.citizen.gp_clinic,
        )
        assert plan.coordinating_organisation == expected.coordinating_organisation
        for name in ("conditions", "participants", "goals", "activitys"):
            found, wanted = list(getattr(plan, name).all()), list(getattr(expected, name).all())
            assert found == wanted and found, name
        assert [c.icd10_code for c in plan.conditions.all()] == ["E11", "J44"]
        assert {goal.care_plan for goal in plan.goals.all()} == {plan}
        assert [(p.organisation.name, p.person) for p in plan.participants.all()] == [
            (p.organisation.name, p.person) for p in expected.participants.all()
        ]
        assert [(a.responsible_organisation.name, a.due_date) for a in plan.activitys.all()] == [
            (a.responsible_organisation.name, a.due_date) for a in expected.activitys.all()
        ]
    assert ctx.captured_queries == []  # everything was attached


def test_no_such_plan_and_not_an_id_are_none_and_a_change_is_read(plan):
    assert careplan_read("not-a-uuid") is None
    assert careplan_read(uuid.uuid4()) is None
    CarePlan.objects.filter(pk=plan.pk).update(title="Ny titel")
    assert careplan_read(plan.pk).title == "Ny titel"  # the statement is kept, never the rows
