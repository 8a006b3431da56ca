"""A new care plan reports every problem at once, each named after its field."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from careplans.choices import CarePlanStatus
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


def _create_page(client, world, **overrides):
    data = {
        "title": "KOL-forløb",
        "intent": "plan",
        "period_start": "2030-05-01",
        "coordinating_organisation": world.clinic_a.pk,
        "status": CarePlanStatus.DRAFT,
    }
    data.update(overrides)
    client.force_login(world.users["gp_a"])
    return client.post(reverse("careplans:create", args=[world.citizen.pk]), data)


def test_the_create_page_without_a_title_reports_the_period_too(client, world):
    response = _create_page(client, world, title="", period_end="2030-04-01")
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "title": ["This field is required."],
        "period_end": ["The end cannot be before the start."],
    }
    assert "The end cannot be before the start." in response.content.decode()
    assert not CarePlan.objects.exists()


def test_the_create_page_with_an_unknown_status_reports_the_plans_dates_and_coordinator(client, world):
    response = _create_page(
        client, world, status="completed", period_start="2199-01-01", coordinator=world.users["homecare_a"].pk
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["status"] == ["Select a valid choice. completed is not one of the available choices."]
    assert errors["period_start"] == ["The date cannot be more than 10 years ahead."]
    assert sorted(errors) == ["coordinator", "period_start", "status"]
    assert not CarePlan.objects.exists()


def test_the_create_page_does_not_check_what_it_could_not_read(client, world):
    # No start: the end is not compared with a start the page never read (nor with today).
    response = _create_page(client, world, title="", period_start="31-31-2030", period_end="2000-01-01")
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "title": ["This field is required."],
        "period_start": ["Enter a valid date."],
    }
