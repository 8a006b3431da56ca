"""Invalid filter values are refused: a 400 naming the filter in the API, a form error (and no
rows) on the pages, never silently ignored so that more is listed than was asked for."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from sectors.choices import MembershipRole
from sectors.tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/alerts/", {"open": "maybe"}),
        ("/api/v1/thresholds/", {"history": "perhaps"}),
        ("/api/v1/citizens/", {"admitted_now": "perhaps"}),
        ("/api/v1/citizens/", {"receives_home_care": "x"}),
        ("/api/v1/citizens/", {"recent_stay": "perhaps"}),
        ("/api/v1/citizens/", {"municipality": "abc"}),
        ("/api/v1/organisations/", {"is_active": "x"}),
        ("/api/v1/organisations/", {"municipality": "abc"}),
        ("/api/v1/messages/", {"unread": "x"}),
        ("/api/v1/careplans/", {"status": "bogus"}),
        ("/api/v1/observations/", {"since": "notadate"}),
    ],
)
def test_an_invalid_filter_value_is_a_400_naming_the_filter(world, url, params):
    response = api(world.users["gp_a"]).get(url, params)

    assert response.status_code == 400, response.content
    assert set(response.json()) == set(params)


@pytest.mark.parametrize("value", ["true", "false", "1", "0", "True", ""])
def test_the_usual_spellings_of_a_boolean_filter_still_work(world, value):
    assert api(world.users["gp_a"]).get("/api/v1/alerts/", {"open": value}).status_code == 200


def test_a_boolean_filter_filters(world):
    client = api(world.users["gp_a"])
    assert client.get("/api/v1/citizens/", {"admitted_now": "true"}).json()["count"] == 0
    assert client.get("/api/v1/citizens/", {"admitted_now": "false"}).json()["count"] == 1
    assert client.get("/api/v1/citizens/", {"recent_stay": "true"}).json()["count"] == 0
    assert client.get("/api/v1/citizens/", {"recent_stay": "false"}).json()["count"] == 1


def test_the_directory_page_shows_an_invalid_filter_and_lists_nothing(world, client):
    client.force_login(world.users["gp_a"])
    response = client.get("/organisations/", {"municipality": "abc"})

    assert response.status_code == 200
    assert "municipality" in response.context["filterset"].errors
    assert list(response.context["page"].object_list) == []
    assert 'class="alert alert-warning"' in response.content.decode()


def test_the_operations_page_shows_an_invalid_filter_and_lists_nothing(
    world, actor, client, django_capture_on_commit_callbacks
):
    from messaging.tests.test_views_ops import failed_delivery

    delivery = failed_delivery(world, actor, django_capture_on_commit_callbacks)
    admin = MembershipFactory(organisation=world.clinic_a, role=MembershipRole.ORGANISATION_ADMIN).user
    client.force_login(admin)
    assert [d.pk for d in client.get(reverse("messaging_ops:operations")).context["deliveries"]] == [delivery.pk]

    response = client.get(reverse("messaging_ops:operations"), {"show": "bogus"})

    assert response.status_code == 200
    assert response.context["deliveries"] == []
    assert 'data-testid="filter-errors"' in response.content.decode()
