"""A hand-off card says what is handed over, so the receiver does not accept blind: how often or
by when, from when, the named person, a goal's target, who asks (with their phone) and the plan's
coordinator; the list's query count does not grow with its cards."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats
from freezegun import freeze_time

from careplans.choices import ThresholdCode
from careplans.services import activity_create, goal_create

from .helpers import active_plan

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime.date(2026, 3, 11)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-03-11 08:00:00", tick=False):
        yield


def short(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


@pytest.fixture
def plan(world, actor):
    world.clinic_a.phone = "+45 66 11 22 33"
    world.clinic_a.save(update_fields=["phone"])
    return active_plan(world, actor("gp_a"), coordinator=world.users["gp_a"])


def weight_goal(gp, plan, organisation, **fields):
    return goal_create(
        actor=gp,
        plan=plan,
        responsible_organisation=organisation,
        target_code=ThresholdCode.BODY_WEIGHT,
        target_unit="kg",
        **fields,
    )


def incoming(client, world) -> str:
    client.force_login(world.users["homecare_a"])
    response = client.get(reverse("careplans:handoffs"))
    assert response.status_code == 200
    return response.content.decode()


def card(content: str, testid: str) -> str:
    start = content.index(f'data-testid="{testid}"')
    return content[start : content.index("</dd>", start)]


def test_an_activity_card_says_how_often_from_when_by_whom_and_who_coordinates(client, world, actor, plan):
    nurse = world.users["homecare_a"]
    activity_create(
        actor=actor("gp_a"),
        plan=plan,
        description="Blodtryksmåling i hjemmet",
        responsible_organisation=world.municipality_a,
        responsible_person=nurse,
        weekdays="MO,TH",
        starts_on=WEDNESDAY + datetime.timedelta(days=5),
        ends_on=WEDNESDAY + datetime.timedelta(days=60),
    )
    content = incoming(client, world)
    assert "Every week on Monday, Thursday" in card(content, "handoff-frequency")
    assert card(content, "handoff-start").endswith(
        f"{short(WEDNESDAY + datetime.timedelta(days=5))} – {short(WEDNESDAY + datetime.timedelta(days=60))}"
    )
    assert nurse.get_full_name() in card(content, "handoff-person")
    gp = world.users["gp_a"]
    coordinator = card(content, "handoff-coordinator")
    assert f"{gp.get_full_name()} · {world.clinic_a.name}" in coordinator and 'href="tel:+4566112233"' in coordinator
    sender = card(content, "handoff-from")
    assert world.clinic_a.name in sender and 'href="tel:+4566112233"' in sender and "+45 66 11 22 33" in sender
    assert 'data-testid="handoff-target"' not in content and 'data-testid="handoff-due"' not in content


def test_a_goal_card_says_its_measurable_target_and_due_date(client, world, actor, plan):
    weight_goal(
        actor("gp_a"),
        plan,
        world.municipality_a,
        description="Vægten holdes stabil",
        due_date=WEDNESDAY + datetime.timedelta(days=90),
        target_comparator="<=",
        target_value=Decimal("82.5"),
    )
    content = incoming(client, world)
    assert card(content, "handoff-target").endswith("Body weight &lt;= 82.5 kg")
    assert card(content, "handoff-due").endswith(short(WEDNESDAY + datetime.timedelta(days=90)))
    assert 'data-testid="handoff-frequency"' not in content and 'data-testid="handoff-person"' not in content


def test_a_one_off_activity_says_its_due_date_and_a_plan_without_a_named_coordinator_its_organisation(
    client, world, actor
):
    plan = active_plan(world, actor("gp_a"))
    activity_create(
        actor=actor("gp_a"),
        plan=plan,
        description="Sårskift",
        responsible_organisation=world.municipality_a,
        due_date=WEDNESDAY + datetime.timedelta(days=2),
    )
    content = incoming(client, world)
    assert card(content, "handoff-due").endswith(short(WEDNESDAY + datetime.timedelta(days=2)))
    assert card(content, "handoff-coordinator").endswith(f">{world.clinic_a.name}")
    assert 'data-testid="handoff-from-phone"' not in content  # the clinic has no phone number here


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("tab", ["incoming", "sent"])
def test_the_hand_off_query_count_does_not_grow_with_cards(client, world, actor, plan, tab, django_assert_num_queries):
    gp, nurse = actor("gp_a"), world.users["homecare_a"]

    def add(n):
        for i in range(n):
            fields = {"responsible_person": nurse, "weekdays": "MO", "starts_on": WEDNESDAY}
            activity_create(
                actor=gp, plan=plan, description=f"Besøg {i}", responsible_organisation=world.municipality_a, **fields
            )
            weight_goal(
                gp,
                plan,
                world.municipality_a,
                description=f"Mål {i}",
                target_comparator="<",
                target_value=Decimal("90"),
            )

    add(1)
    client.force_login(world.users["homecare_a" if tab == "incoming" else "gp_a"])
    url = reverse("careplans:handoffs") + ("?tab=sent" if tab == "sent" else "")
    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    queries_for_2 = _queries(client, url)
    add(4)
    with django_assert_num_queries(queries_for_2):
        response = client.get(url)
    assert len(response.context["handoffs"]) == 10
