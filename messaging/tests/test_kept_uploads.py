"""Attachments survive a form error; a message reports every problem at once."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from messaging.choices import Category, MessageType, Priority
from messaging.kept import kept_uploads_sweep, uploads_kept
from messaging.models import KeptUpload, Message
from messaging.services import message_send

from .helpers import PDF, PNG, upload

# deliver, media (autouse) and sent are fixtures.
from .test_views import COMPOSE, action_url, compose_data, login, media, sent  # noqa: F401

pytestmark = pytest.mark.django_db


def _kept_tokens(content: str) -> list[str]:
    return re.findall(r'name="kept" value="([0-9a-f-]{36})"', content)


def test_compose_keeps_the_attachment_through_an_error(client, world, django_capture_on_commit_callbacks):
    login(client, world, "gp_a")
    response = client.post(COMPOSE, compose_data(world, category="", attachments=upload("epikrise.pdf", PDF)))
    content = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in content
    assert 'data-testid="kept-upload">epikrise.pdf' in content
    tokens = _kept_tokens(content)
    assert len(tokens) == 1
    assert not Message.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(COMPOSE, compose_data(world, kept=tokens))
    message = Message.objects.get(type=MessageType.CARE_COMMUNICATION)
    assert response.status_code == 302
    attachment = message.attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "epikrise.pdf",
        "application/pdf",
        len(PDF),
    )
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF
    assert not KeptUpload.objects.exists()  # sent: no longer kept


def test_a_kept_file_adds_to_a_new_one_and_an_unticked_one_is_left_out(client, world):
    login(client, world, "gp_a")
    first = client.post(COMPOSE, compose_data(world, text="", attachments=[upload("a.pdf", PDF), upload("b.png", PNG)]))
    tokens = _kept_tokens(first.content.decode())
    assert first.status_code == 400 and len(tokens) == 2
    response = client.post(COMPOSE, compose_data(world, kept=tokens[:1], attachments=upload("c.png", PNG)))
    assert response.status_code == 302
    message = Message.objects.get(type=MessageType.CARE_COMMUNICATION)
    assert sorted(a.filename for a in message.attachments.all()) == ["a.pdf", "c.png"]


def test_a_file_of_the_wrong_type_is_reported_and_not_kept(client, world):
    login(client, world, "gp_a")
    response = client.post(
        COMPOSE, compose_data(world, text="", attachments=[upload("x.pdf", b"no pdf"), upload("a.pdf", PDF)])
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "Write a message." in content and "x.pdf is not a PDF, PNG, JPEG or GIF file." in content
    assert [k.filename for k in KeptUpload.objects.all()] == ["a.pdf"]


def test_another_users_token_finds_nothing(client, world):
    login(client, world, "gp_a")
    tokens = _kept_tokens(
        client.post(COMPOSE, compose_data(world, text="", attachments=upload("a.pdf", PDF))).content.decode()
    )
    login(client, world, "nurse_a")
    response = client.post(COMPOSE, compose_data(world, kept=tokens))
    assert response.status_code == 302
    assert Message.objects.get(type=MessageType.CARE_COMMUNICATION).attachments.count() == 0
    assert uploads_kept(user=world.users["nurse_a"], tokens=[*tokens, "not-a-token"]) == []


def test_a_reply_keeps_its_attachment_through_an_error(client, world, sent):  # noqa: F811
    login(client, world, "homecare_a")
    response = client.post(action_url("reply", sent), {"text": " ", "attachments": upload("foto.png", PNG)})
    content = response.content.decode()
    assert response.status_code == 400
    assert "Write a message." in content and 'data-testid="kept-upload">foto.png' in content
    response = client.post(action_url("reply", sent), {"text": "Se foto", "kept": _kept_tokens(content)})
    assert response.status_code == 302
    assert [a.filename for a in Message.objects.get(parent=sent).attachments.all()] == ["foto.png"]


def test_the_sweep_removes_expired_kept_files(client, world, settings):
    settings.KEPT_UPLOAD_HOURS = 2
    login(client, world, "gp_a")
    client.post(COMPOSE, compose_data(world, text="", attachments=upload("a.pdf", PDF)))
    kept = KeptUpload.objects.get()
    path = kept.file.path
    now = timezone.now()
    assert kept_uploads_sweep(now=now + datetime.timedelta(hours=1)) == 0
    assert uploads_kept(user=world.users["gp_a"], tokens=[str(kept.token)]) == [kept]
    assert kept_uploads_sweep(now=now + datetime.timedelta(hours=3)) == 1
    assert not KeptUpload.objects.exists()
    import os

    assert not os.path.exists(path)


def test_message_send_reports_every_problem_at_once(world, actor):
    with pytest.raises(ValidationError) as caught:
        message_send(
            actor=actor("gp_a"),
            citizen=world.citizen,
            receiver=world.clinic_b,
            category=Category.OTHER,
            topic="",
            priority=Priority.ASAP,
            text=" ",
            attachments=[upload("x.pdf", b"no pdf")],
        )
    assert sorted(caught.value.message_dict) == ["attachments", "priority", "receiver", "text", "topic"]


def test_the_compose_page_shows_the_services_errors_together(client, world):
    login(client, world, "gp_a")
    data = compose_data(world, category=Category.OTHER, priority=Priority.ASAP, receiver=str(world.clinic_b.pk))
    response = client.post(COMPOSE, data)
    content = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 400
    assert "A topic is required when the category is 'other'." in content
    assert "only for messages regarding a referral" in content
    assert "has no care relationship with the citizen" in content
