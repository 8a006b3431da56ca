"""Today pauses the visits of a citizen in hospital: the card says where and since when, is set
apart and greyed, and counts as overdue nowhere; after the discharge the visits resume and the
card says when the citizen came home, for TODAY_DISCHARGED_NOTICE_HOURS."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone
from freezegun import freeze_time

from careplans.today import today_visits
from citizens.models import Citizen
from citizens.services import hospital_stay_end, hospital_stay_start
from citizens.tests.factories import CitizenFactory

from .helpers import home_visit

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime.date(2026, 3, 11)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-03-11 08:00:00", tick=False) as frozen_time:
        yield frozen_time


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def short(value) -> str:
    return formats.date_format(
        timezone.localtime(value) if isinstance(value, datetime.datetime) else value, "SHORT_DATE_FORMAT"
    )


def visit_for(world, homecare_actor, street: str, due_date: datetime.date):
    citizen = CitizenFactory(
        municipality=world.municipality_a, gp_clinic=world.clinic_a, street=street, postal_code="5000"
    )
    home_visit(homecare_actor, citizen, world.municipality_a, due_date)
    return citizen


@pytest.fixture
def admitted(world, homecare_actor):
    """Algade 1 is overdue by three days and admitted since Monday; Bygade 2 is overdue at home."""
    citizen = visit_for(world, homecare_actor, "Algade 1", WEDNESDAY - datetime.timedelta(days=3))
    visit_for(world, homecare_actor, "Bygade 2", WEDNESDAY - datetime.timedelta(days=2))
    hospital_stay_start(
        citizen=citizen, department=world.department, admitted_at=at(WEDNESDAY - datetime.timedelta(days=2))
    )
    return citizen


def today_page(client, world):
    client.force_login(world.users["homecare_a"])
    response = client.get(reverse("careplans:today"))
    assert response.status_code == 200
    return response


def test_an_admitted_citizens_visit_is_paused_and_not_overdue(client, world, homecare_actor, admitted):
    listing = today_visits(actor=homecare_actor)
    assert [v.citizen.street for v in listing.visits] == ["Bygade 2"]
    assert [v.citizen.street for v in listing.paused] == ["Algade 1"]
    paused = listing.paused[0]
    assert paused.paused is True and paused.overdue is False
    assert [(a.paused, a.overdue_days) for a in paused.activities] == [(True, 0)]
    assert listing.overdue_count == 1 and listing.count == 1

    response = today_page(client, world)
    content = response.content.decode()
    assert [v.citizen.pk for v in response.context["paused_visits"]] == [admitted.pk]
    stay = f"Admitted since {short(WEDNESDAY - datetime.timedelta(days=2))}, {world.department.name}"
    assert stay in content
    paused_section = content[content.index('data-testid="paused-visits"') :]
    assert "Algade 1" in paused_section and "Bygade 2" not in paused_section
    main = content[: content.index('data-testid="paused-visits"')]
    assert "Algade 1" not in main and "Overdue 2 days" in main
    assert "Overdue 3 days" not in content
    assert 'data-testid="today-overdue-count">overdue: 1<' in content
    assert "paused, admitted: 1" in content
    assert "visit-paused" in paused_section and "is not overdue" in paused_section  # greyed, said to screen readers
    assert f'action="{reverse("careplans:activity_done", args=[paused.activities[0].pk])}"' not in content


def test_after_the_discharge_the_visits_resume_and_say_so_for_48_hours(client, world, homecare_actor, admitted, frozen):
    discharged_at = at(WEDNESDAY - datetime.timedelta(days=1), hour=9)
    hospital_stay_end(citizen=admitted, discharged_at=discharged_at)

    listing = today_visits(actor=homecare_actor)
    assert listing.paused == []
    resumed = next(v for v in listing.visits if v.citizen.pk == admitted.pk)
    # Overdue counted from the discharge day: the visits missed in hospital were not to be made.
    assert [a.overdue_days for a in resumed.activities] == [1]
    assert listing.overdue_count == 2
    content = today_page(client, world).content.decode()
    assert f"Discharged {short(discharged_at)}" in content
    assert 'data-testid="paused-visits"' not in content and "Admitted since" not in content

    frozen.move_to(discharged_at + datetime.timedelta(hours=49))
    content = today_page(client, world).content.decode()
    assert "Discharged" not in content and 'data-testid="visit-discharged"' not in content


def test_a_transfer_keeps_the_visit_paused(world, homecare_actor, admitted):
    hospital_stay_start(citizen=admitted, department=world.other_department, admitted_at=at(WEDNESDAY, hour=7))
    listing = today_visits(actor=homecare_actor)
    assert [(v.citizen.pk, v.stay.department) for v in listing.paused] == [(admitted.pk, world.other_department.name)]


def test_a_citizen_who_died_in_hospital_is_not_said_to_be_discharged(world, homecare_actor, admitted):
    died = at(WEDNESDAY, hour=6)
    hospital_stay_end(citizen=admitted, discharged_at=died)
    Citizen.objects.filter(pk=admitted.pk).update(deceased_at=died)
    listing = today_visits(actor=homecare_actor)
    assert [v.stay for v in listing.visits if v.citizen.pk == admitted.pk] == [None]


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("careplans:today")).status_code == 200
    return len(ctx.captured_queries)


def test_the_today_query_count_does_not_grow_with_admitted_citizens(
    client, world, homecare_actor, django_assert_num_queries
):
    def add(n, start):
        for i in range(start, start + n):
            citizen = visit_for(world, homecare_actor, f"Testvej {i}", WEDNESDAY - datetime.timedelta(days=i % 3))
            if i % 2:  # every other citizen is in hospital, every fourth came home yesterday
                hospital_stay_start(
                    citizen=citizen, department=world.department, admitted_at=at(WEDNESDAY - datetime.timedelta(days=3))
                )
                if i % 4 == 1:
                    hospital_stay_end(citizen=citizen, discharged_at=at(WEDNESDAY - datetime.timedelta(days=1)))

    add(2, 0)
    client.force_login(world.users["homecare_a"])
    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    client.get(reverse("careplans:today"))  # and the session, which the first page saves with the acting organisation
    queries_for_2 = _queries(client)
    add(10, 2)
    with django_assert_num_queries(queries_for_2):
        response = client.get(reverse("careplans:today"))
    assert (len(response.context["visits"]), len(response.context["paused_visits"])) == (9, 3)
