"""Registering a CPR number that is already registered outside the user's scope says nothing about
the citizen, tells the user whom to ask, and is logged."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from citizens.choices import AccessAction
from citizens.models import AccessLogEntry, Citizen
from citizens.services import citizen_create

pytestmark = pytest.mark.django_db

ASK = "Ask the organisation that has the citizen in its care"


def _fields(world) -> dict:
    return {
        "first_name": "Inge",
        "last_name": "Prøve",
        "municipality": world.municipality_b,
        "gp_clinic": world.clinic_b,
    }


def attempts(citizen) -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.filter(citizen=citizen, action=AccessAction.REGISTER_ATTEMPT))


def test_outside_the_scope_the_answer_says_whom_to_ask_and_the_attempt_is_logged(world, actor):
    with pytest.raises(ValidationError) as exc:
        citizen_create(actor=actor("gp_b"), cpr=world.citizen.cpr, **_fields(world))
    message = exc.value.message_dict["cpr"][0]
    assert ASK in message and "already registered" not in message
    assert world.citizen.last_name not in message and world.citizen.first_name not in message
    assert getattr(exc.value, "citizen_pk", None) is None
    [entry] = attempts(world.citizen)
    assert (entry.user, entry.organisation) == (world.users["gp_b"], world.clinic_b)
    world.citizen.refresh_from_db()
    assert world.citizen.gp_clinic == world.clinic_a


def test_inside_the_scope_it_is_already_registered_and_not_an_attempt(world, actor):
    with pytest.raises(ValidationError) as exc:
        citizen_create(actor=actor("gp_a"), cpr=world.citizen.cpr, first_name="X", last_name="Y",
                       municipality=world.municipality_a, gp_clinic=world.clinic_a)  # fmt: skip
    assert "already registered" in exc.value.message_dict["cpr"][0]
    assert exc.value.citizen_pk == world.citizen.pk
    assert attempts(world.citizen) == []


def test_the_page_shows_nothing_of_the_citizen_and_logs_the_attempt(world, client):
    client.force_login(world.users["gp_b"])
    data = {
        "cpr": world.citizen.cpr, "first_name": "Inge", "last_name": "Prøve",
        "municipality": world.municipality_b.pk, "gp_clinic": world.clinic_b.pk,
        "conditions-TOTAL_FORMS": "0", "conditions-INITIAL_FORMS": "0",
        "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = client.post(reverse("citizens:create"), data)
    page = response.content.decode()
    assert response.status_code == 400
    # no link to the citizen and not their name (a colleague's random name may share the last name)
    assert ASK in page and reverse("citizens:detail", args=[world.citizen.pk]) not in page
    assert world.citizen.full_name not in page
    assert 'data-testid="already-registered"' not in page
    assert len(attempts(world.citizen)) == 1


def test_the_api_shows_nothing_of_the_citizen_and_logs_the_attempt(world):
    api = APIClient()
    api.force_authenticate(world.users["gp_b"])
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = {"cpr": world.citizen.cpr, "first_name": "Inge", "last_name": "Prøve",
            "municipality": world.municipality_b.pk, "gp_clinic": world.clinic_b.pk}  # fmt: skip
    response = api.post("/api/v1/citizens/", body, format="json")
    assert response.status_code == 400
    assert ASK in response.json()["cpr"][0] and "existing" not in response.json()
    assert str(world.citizen.pk) not in response.content.decode()
    assert len(attempts(world.citizen)) == 1
    assert Citizen.objects.count() == 1


def test_the_api_links_a_citizen_inside_the_scope(world):
    api = APIClient()
    api.force_authenticate(world.users["gp_a"])
    body = {"cpr": world.citizen.cpr, "first_name": "X", "last_name": "Y",
            "municipality": world.municipality_a.pk, "gp_clinic": world.clinic_a.pk}  # fmt: skip
    response = api.post("/api/v1/citizens/", body, format="json")
    assert response.status_code == 400
    assert response.json()["existing"] == [f"http://testserver/api/v1/citizens/{world.citizen.pk}/"]
