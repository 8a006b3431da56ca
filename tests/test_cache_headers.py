"""Health data is never kept in a cache: every response with citizen data says
``Cache-Control: no-store, private`` (pages, the API, CSV and FHIR exports, attachments), whatever
the app that made it; the health check and anonymous pages are left alone."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging.models import Attachment
from messaging.tests.helpers import PDF, send, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def assert_not_stored(response) -> None:
    directives = {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, response.get("Cache-Control")
    assert "public" not in directives


@pytest.fixture
def token_client(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.users['gp_a']).key}")
    return client


@pytest.fixture
def message(world, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return send(world, actor, attachments=[upload("epikrise.pdf", PDF)])


@pytest.mark.parametrize("name", ["citizens:detail", "citizens:access_report_csv", "careplans:thresholds"])
def test_citizen_pages_and_the_csv_export_are_not_stored(gp_client, world, name):
    response = gp_client.get(reverse(name, args=[world.citizen.pk]))
    assert response.status_code == 200
    assert_not_stored(response)


@pytest.mark.usefixtures("world")
def test_lists_and_the_dashboard_are_not_stored(gp_client):
    for url in (reverse("citizens:list"), reverse("careplans:alerts"), "/"):
        response = gp_client.get(url)
        assert response.status_code == 200, url
        assert_not_stored(response)


def test_the_api_is_not_stored(token_client, world):
    for url in ("/api/v1/citizens/", f"/api/v1/citizens/{world.citizen.pk}/"):
        response = token_client.get(url)
        assert response.status_code == 200, url
        assert_not_stored(response)


def test_an_api_refusal_is_not_stored_either():
    response = APIClient().get("/api/v1/citizens/")
    assert response.status_code == 403
    assert_not_stored(response)


def test_the_fhir_export_and_attachments_are_not_stored(gp_client, token_client, message):
    response = token_client.get(reverse("fhir:bundle", args=[message.pk]))
    assert response.status_code == 200
    assert_not_stored(response)
    response = gp_client.get(reverse("fhir:bundle", args=[message.pk]) + "?_format=xml&download=1")
    assert response.status_code == 200
    assert_not_stored(response)
    attachment = Attachment.objects.get(message=message)
    response = gp_client.get(reverse("messaging:attachment", args=[message.pk, attachment.pk]))
    assert response.status_code == 200
    assert_not_stored(response)


def test_the_health_check_keeps_its_own_header(client):
    health = client.get("/health/")
    assert health["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
