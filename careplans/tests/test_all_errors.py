"""A new care plan reports every problem at once, each named after its field."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from careplans.models import CarePlan
from careplans.services import careplan_create

pytestmark = pytest.mark.django_db


def test_a_new_plan_reports_every_problem_at_once(world, actor):
    with pytest.raises(ValidationError) as caught:
        careplan_create(
            actor=actor("gp_a"),
            citizen=world.citizen,
            title="",
            coordinating_organisation=world.clinic_a,
            coordinator=world.users["homecare_a"],  # not a member of the clinic
            status="completed",
            period_start=datetime.date(2030, 5, 1),
            period_end=datetime.date(2030, 4, 1),
        )
    assert sorted(caught.value.message_dict) == ["coordinator", "period_end", "status", "title"]
    assert not CarePlan.objects.exists()
