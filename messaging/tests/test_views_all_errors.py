"""The message pages show the service's errors together with the form's own: while a field of
the form is wrong, the rules on the fields that were read still run (issue 11)."""

from __future__ import annotations

import pytest

from messaging.choices import Category, MessageType, Priority
from messaging.models import KeptUpload, Message

from .helpers import PDF, PNG, send, upload
from .test_views import COMPOSE, action_url, compose_data, login, media  # noqa: F401 - media: an autouse fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(world, actor, deliver):
    """A care communication from GP clinic A to municipality A."""
    return deliver(send, world, actor, topic="Ny medicin")


def _errors(response) -> dict:
    return {field: list(messages) for field, messages in response.context["form"].errors.items()}


def test_compose_without_text_reports_the_missing_topic_too(client, world):
    login(client, world, "gp_a")
    response = client.post(COMPOSE, compose_data(world, category=Category.OTHER, topic="", text=""))
    assert response.status_code == 400
    assert _errors(response) == {
        "text": ["Write a message."],
        "topic": ["A topic is required when the category is 'other'."],
    }
    assert not Message.objects.filter(type=MessageType.CARE_COMMUNICATION).exists()


def test_compose_without_a_category_reports_the_receiver_that_cannot_receive(client, world):
    login(client, world, "gp_a")
    data = compose_data(world, category="", priority=Priority.ASAP, receiver=str(world.clinic_b.pk))
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    # 'As soon as possible' needs the category, which is not read: that rule waits for it.
    assert _errors(response) == {
        "category": ["This field is required."],
        "receiver": [
            f"{world.clinic_b} has no care relationship with the citizen and cannot receive messages about them."
        ],
    }
    html = response.content.decode()
    assert "has no care relationship with the citizen" in html and "This field is required." in html


def test_compose_without_a_category_reports_a_message_too_large(client, world, settings):
    settings.MESSAGING_MAX_MESSAGE_BYTES = 1024 * 1024
    login(client, world, "gp_a")
    big = upload("scan.pdf", PDF + b"\0" * (1024 * 1024))
    response = client.post(COMPOSE, compose_data(world, category="", attachments=big))
    assert response.status_code == 400
    assert _errors(response) == {"category": ["This field is required."], "attachments": ["A message is at most 1 MB."]}
    assert KeptUpload.objects.count() == 1  # the file of an allowed type is kept for the next attempt


def test_compose_without_a_category_reports_a_forbidden_file_once(client, world):
    login(client, world, "gp_a")
    data = compose_data(world, category="", text="", attachments=[upload("x.pdf", b"no pdf"), upload("a.png", PNG)])
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    assert _errors(response) == {
        "category": ["This field is required."],
        "text": ["Write a message."],
        "attachments": ["x.pdf is not a PDF, PNG, JPEG or GIF file."],
    }
    assert [kept.filename for kept in KeptUpload.objects.all()] == ["a.png"]


def test_reply_without_text_reports_the_sender_that_cannot_receive(client, world, sent):
    world.clinic_a.is_active = False
    world.clinic_a.save(update_fields=["is_active"])
    login(client, world, "homecare_a")
    response = client.post(action_url("reply", sent), {"text": " "})
    assert response.status_code == 400
    form = response.context["items"][0].reply_form
    assert form.errors == {"text": ["Write a message."], "__all__": [f"{world.clinic_a} is not active."]}
    assert f"{world.clinic_a} is not active." in response.content.decode()
    assert not Message.objects.filter(parent=sent).exists()


def test_reply_without_text_reports_a_message_too_large(client, world, sent, settings):
    settings.MESSAGING_MAX_MESSAGE_BYTES = 1024 * 1024
    login(client, world, "homecare_a")
    big = upload("scan.pdf", PDF + b"\0" * (1024 * 1024))
    response = client.post(action_url("reply", sent), {"text": "", "attachments": big})
    assert response.status_code == 400
    form = response.context["items"][0].reply_form
    assert form.errors == {"text": ["Write a message."], "attachments": ["A message is at most 1 MB."]}


def test_forward_without_a_receiver_reports_the_copy_that_cannot_receive(client, world, sent):
    login(client, world, "homecare_a")
    response = client.post(action_url("forward", sent), {"cc_codes": world.clinic_b.sor_code})
    assert response.status_code == 400
    form = response.context["items"][0].forward_form
    assert form.errors == {
        "receiver": [
            "Choose a receiver.",
            f"{world.clinic_b} has no care relationship with the citizen and cannot receive messages about them.",
        ]
    }
    assert "has no care relationship with the citizen" in response.content.decode()
    assert not Message.objects.filter(parent=sent).exists()
