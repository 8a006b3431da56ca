"""Request bodies: a whole message with its attachments (50 MB) where messages arrive, Django's
2.5 MB everywhere else, and a clear 413 instead of a 500 or a silent read of anything larger."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging.choices import Category, Priority
from messaging.models import Message

from . import fixtures_fhir as fx
from .helpers import PDF, send, upload

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BIG_PDF = PDF + b"\n%" + b"0" * (10 * MB)  # a 10 MB attachment


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def big_json(size: int) -> bytes:
    return json.dumps({"text": "x" * size}).encode()


@pytest.fixture
def message(world, actor, django_capture_on_commit_callbacks):
    """From the GP to the municipality, delivered."""
    with django_capture_on_commit_callbacks(execute=True):
        return send(world, actor, category=Category.NURSING, text="Borgeren har fået ny medicin.")


def test_the_global_limit_is_djangos_default():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    assert settings.MESSAGING_MAX_REQUEST_BYTES == 51 * MB


@pytest.mark.parametrize(
    "url",
    ["/api/v1/hospital-events/", "/api/v1/messages/{pk}/handled/", "/api/v1/messages/{pk}/forward/"],
)
def test_a_3mb_json_body_to_an_endpoint_without_attachments_is_refused(world, message, url):
    client = api(world.users["homecare_a"])
    response = client.post(url.format(pk=message.pk), big_json(3 * MB), content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"detail": "The request is larger than 2.5\xa0MB. Send less at a time."}


@pytest.mark.parametrize(
    "headers", [{"HTTP_ACCEPT": "text/html,application/xhtml+xml"}, {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT": "*/*"}]
)
def test_a_3mb_form_to_a_page_without_attachments_is_refused_with_a_page(client, world, message, headers):
    client.force_login(world.users["homecare_a"])
    response = client.post(reverse("messaging:handled", args=[message.pk]), {"note": "x" * (3 * MB)}, **headers)

    assert response.status_code == 413
    html = response.content.decode()
    assert "The request is larger than 2.5\xa0MB. Send less at a time." in html
    assert f'href="{reverse("dashboard")}"' in html


def test_a_10mb_attachment_is_sent_through_the_api(world):
    payload = {
        "citizen": str(world.citizen.pk),
        "receiver": world.municipality_a.pk,
        "category": Category.NURSING,
        "text": "Epikrise vedlagt.",
        "attachments": [upload("epikrise.pdf", BIG_PDF)],
    }
    response = api(world.users["gp_a"]).post("/api/v1/messages/", payload, format="multipart")

    assert response.status_code == 201, response.content[:500]
    assert response.json()["attachments"][0]["size"] == len(BIG_PDF)


def test_a_10mb_attachment_is_a_reply_through_the_api(world, message):
    response = api(world.users["homecare_a"]).post(
        f"/api/v1/messages/{message.pk}/reply/",
        {"text": "Se bilag.", "attachments": [upload("svar.pdf", BIG_PDF)]},
        format="multipart",
    )

    assert response.status_code == 201, response.content[:500]


def test_a_10mb_attachment_is_sent_from_the_compose_page(client, world):
    client.force_login(world.users["gp_a"])
    response = client.post(
        reverse("messaging:compose"),
        {
            "citizen": str(world.citizen.pk),
            "receiver": str(world.municipality_a.pk),
            "category": Category.NURSING,
            "priority": Priority.ROUTINE,
            "topic": "",
            "text": "Epikrise vedlagt.",
            "attachments": upload("epikrise.pdf", BIG_PDF),
        },
    )

    assert response.status_code == 302
    assert Message.objects.get(text="Epikrise vedlagt.").attachments.get().file.size == len(BIG_PDF)


def test_a_10mb_attachment_is_a_reply_from_the_thread_page(client, world, message):
    client.force_login(world.users["homecare_a"])
    response = client.post(
        reverse("messaging:reply", args=[message.pk]),
        {"text": "Tak, vi følger op.", "attachments": upload("svar.pdf", BIG_PDF)},
    )

    assert response.status_code == 302
    assert Message.objects.get(parent=message).attachments.get().file.size == len(BIG_PDF)


def test_a_message_above_the_message_limit_is_refused(world, settings):
    settings.MESSAGING_MAX_REQUEST_BYTES = 3 * MB
    payload = {
        "citizen": str(world.citizen.pk),
        "receiver": world.municipality_a.pk,
        "category": Category.NURSING,
        "text": "Epikrise vedlagt.",
        "attachments": [upload("epikrise.pdf", PDF + b"0" * (4 * MB))],
    }
    response = api(world.users["gp_a"]).post("/api/v1/messages/", payload, format="multipart")

    assert response.status_code == 413
    assert response.json() == {"detail": "The request is larger than 3.0\xa0MB. Send less at a time."}
    assert not Message.objects.filter(text="Epikrise vedlagt.").exists()


def _process_message(client, world, body: bytes):
    token = Token.objects.get_or_create(user=world.users["gp_a"])[0].key
    return client.post(
        "/fhir/$process-message",
        data=body,
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )


def test_a_bundle_with_a_10mb_attachment_is_processed(client, world):
    bundle = fx.care_communication(
        sender=world.clinic_a,
        receiver=world.municipality_a,
        cpr=world.citizen.cpr,
        cc=[],
        attachments=[("Epikrise", "application/pdf", BIG_PDF)],
    )
    body = json.dumps(bundle).encode()
    assert len(body) > 13 * MB  # base64

    response = _process_message(client, world, body)

    assert response.status_code == 200
    assert Message.objects.get(pk=fx.header_of(bundle)["id"]).attachments.get().file.size == len(BIG_PDF)


def test_a_bundle_above_the_message_limit_is_an_operation_outcome(client, world, settings):
    settings.MESSAGING_MAX_REQUEST_BYTES = 3 * MB

    response = _process_message(client, world, big_json(4 * MB))

    assert response.status_code == 413
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "too-long"
