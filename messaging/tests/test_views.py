"""The messaging pages: inbox and sent box, the thread and its actions, attachments, writing a new
message, the navigation badge and the citizen overview's section. The outsider (another clinic
or municipality, no relationship with the citizen) gets nothing anywhere, and the list pages'
query counts do not grow with their rows."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citizens.choices import AccessAction
from citizens.models import AccessLogEntry
from citizens.tests.factories import CitizenFactory
from messaging import selectors
from messaging.choices import Category, MessageType, Priority
from messaging.models import Attachment, Message, ReadMark, Recipient
from messaging.services import hospital_event_correct, message_send

from .helpers import PDF, PNG, admit, send, upload

pytestmark = pytest.mark.django_db

INBOX = reverse("messaging:inbox")
COMPOSE = reverse("messaging:compose")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sent(world, actor, deliver):
    """A care communication from GP clinic A to municipality A about the citizen."""
    return deliver(send, world, actor, text="Borgeren har fået ny medicin.", topic="Ny medicin")


def login(client, world, name):
    client.force_login(world.users[name])
    return client


def thread_url(message):
    return reverse("messaging:thread", args=[message.thread_id])


def action_url(name, message):
    return reverse(f"messaging:{name}", args=[message.pk])


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# --- inbox and sent box ------------------------------------------------------------------------


def test_inbox_shows_the_received_message_unread_and_the_sent_box_its_receivers(client, world, sent):
    login(client, world, "homecare_a")
    response = client.get(INBOX)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.message for row in rows] == [sent]
    html = response.content.decode()
    assert 'data-testid="unread-badge"' in html
    assert "Ny medicin" in html and world.citizen.full_name in html and world.clinic_a.name in html
    assert 'data-testid="nav-messages-count">1<' in html

    login(client, world, "gp_a")
    response = client.get(INBOX, {"box": "sent"})
    assert response.status_code == 200
    assert list(response.context["rows"]) == [sent]
    html = response.content.decode()
    assert world.municipality_a.name in html and "Received" in html  # the municipality's acknowledgement


@pytest.mark.parametrize("name", ["homecare_b", "gp_b"])
def test_the_outsider_sees_an_empty_inbox_and_sent_box(client, world, sent, name):
    login(client, world, name)
    for params in ({}, {"box": "sent"}, {"citizen": str(world.citizen.pk)}):
        response = client.get(INBOX, params)
        assert response.status_code == 200
        assert list(response.context["rows"]) == []
        assert world.citizen.full_name not in response.content.decode()


def test_inbox_lists_are_logged_for_the_citizens_shown(client, world, sent):
    login(client, world, "homecare_a")
    client.get(INBOX)
    entry = AccessLogEntry.objects.filter(citizen=world.citizen, user=world.users["homecare_a"]).latest("pk")
    assert entry.action == AccessAction.LIST


def test_inbox_filters(client, world, actor, deliver, sent):
    other = deliver(send, world, actor, category=Category.MEDICINE, text="Dosis ændret")
    deliver(admit, world, actor)
    login(client, world, "homecare_a")

    def shown(**params):
        return {row.message.pk for row in client.get(INBOX, params).context["rows"]}

    assert len(shown()) == 3
    assert shown(category=Category.MEDICINE) == {other.pk}
    assert {Message.objects.get(pk=pk).type for pk in shown(type=MessageType.HOSPITAL_NOTIFICATION)} == {
        MessageType.HOSPITAL_NOTIFICATION
    }
    assert len(shown(citizen=str(world.citizen.pk))) == 3
    bad = client.get(INBOX, {"citizen": "not-a-uuid", "category": "bogus"})
    assert bad.status_code == 200
    assert bad.context["rows"] == []  # bad filters list nothing and say why
    assert set(bad.context["form"].errors) == {"citizen", "category"}
    assert 'data-testid="filter-errors"' in bad.content.decode()
    client.get(thread_url(other))
    assert other.pk not in shown(unread="on")
    assert shown(mine="on") == set()
    Recipient.objects.filter(message=sent).update(assigned_to=world.users["homecare_a"])
    assert shown(mine="on") == {sent.pk}
    client.post(action_url("handled", sent), {"handled": "on"})
    assert sent.pk not in shown(unhandled="on")


def test_inbox_query_count_does_not_grow_with_rows(client, world, actor, deliver, django_assert_num_queries):
    def add(n):
        for i in range(n):
            citizen = CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a)
            deliver(
                message_send,
                actor=actor("gp_a"),
                citizen=citizen,
                receiver=world.municipality_a,
                category=Category.NURSING,
                text=f"Besked {i}",
            )

    add(2)
    login(client, world, "homecare_a")
    queries_for_2 = _queries(client, INBOX)
    sent_for_2 = _queries(login(client, world, "gp_a"), INBOX + "?box=sent")
    add(8)
    login(client, world, "homecare_a")
    with django_assert_num_queries(queries_for_2):
        response = client.get(INBOX)
    assert len(response.context["rows"]) == 10
    login(client, world, "gp_a")
    with django_assert_num_queries(sent_for_2):
        response = client.get(INBOX, {"box": "sent"})
    assert len(response.context["rows"]) == 10


def test_inbox_is_paginated(client, world, actor, deliver, settings):
    for i in range(27):
        deliver(send, world, actor, text=f"Besked {i}")
    login(client, world, "homecare_a")
    first = client.get(INBOX)
    assert len(first.context["rows"]) == 25
    second = client.get(INBOX, {"page": 2})
    assert len(second.context["rows"]) == 2
    assert client.get(INBOX, {"page": "x"}).status_code == 200


def test_the_inbox_needs_a_sign_in(client):
    response = client.get(INBOX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the thread --------------------------------------------------------------------------------


def test_opening_the_thread_reads_it_and_logs_the_view(client, world, sent):
    login(client, world, "homecare_a")
    response = client.get(thread_url(sent))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Borgeren har fået ny medicin." in html and world.clinic_a.name in html
    assert ReadMark.objects.filter(message=sent, user=world.users["homecare_a"]).exists()
    entry = AccessLogEntry.objects.filter(citizen=world.citizen, user=world.users["homecare_a"]).latest("pk")
    assert (entry.action, entry.detail) == (AccessAction.VIEW, "message thread")
    assert 'data-testid="nav-messages-count"' not in client.get(INBOX).content.decode()
    # A colleague's inbox still shows it as new: read state is per user.
    assert 'data-testid="unread-badge"' in login(client, world, "assistant_a").get(INBOX).content.decode()


def test_the_sender_sees_the_receivers_acknowledgements(client, world, sent):
    login(client, world, "gp_a")
    response = client.get(thread_url(sent))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="receiver"' in html and "Received" in html and world.municipality_a.name in html
    assert not ReadMark.objects.filter(message=sent).exists()  # the sender reads nothing it received
    assert 'data-testid="reply-toggle"' not in html  # no reply to one's own message


@pytest.mark.parametrize("name", ["gp_b", "homecare_b", "other_hospital"])
def test_the_outsider_gets_404_for_the_thread_and_its_actions(client, world, sent, name):
    login(client, world, name)
    assert client.get(thread_url(sent)).status_code == 404
    for action in ("reply", "forward", "handled", "unread", "assign"):
        assert client.post(action_url(action, sent), {"text": "x"}).status_code == 404
    assert not AccessLogEntry.objects.filter(user=world.users[name]).exists()


def test_an_unknown_thread_is_404(client, world):
    login(client, world, "homecare_a")
    assert client.get(reverse("messaging:thread", args=["00000000-0000-4000-8000-000000000000"])).status_code == 404


def test_a_hospital_notification_shows_its_code_and_event_time(client, world, actor, deliver):
    event = deliver(admit, world, actor)
    corrected = deliver(
        hospital_event_correct, actor=actor("hospital_nurse"), event=event, occurred_at=event.occurred_at.replace(
            minute=0
        )
    )  # fmt: skip
    login(client, world, "homecare_a")
    response = client.get(thread_url(corrected.message))
    html = response.content.decode()
    assert response.status_code == 200
    assert "RE_STIN" in html and ">STIN<" in html and 'data-testid="event-time"' in html
    assert world.department.name in html


# --- the thread's actions ----------------------------------------------------------------------


def test_reply_goes_back_to_the_sender(client, world, sent, django_capture_on_commit_callbacks):
    login(client, world, "homecare_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            action_url("reply", sent), {"text": "Tak, vi følger op.", "attachments": upload("a.png", PNG)}
        )
    reply = Message.objects.get(parent=sent)
    assert response.status_code == 302 and response["Location"].startswith(thread_url(sent))
    assert reply.text == "Tak, vi følger op." and reply.attachments.count() == 1
    login(client, world, "gp_a")
    assert [row.message for row in client.get(INBOX).context["rows"]] == [reply]
    assert "Tak, vi følger op." in client.get(thread_url(sent)).content.decode()


def test_a_reply_to_a_hospital_notification(client, world, actor, deliver, django_capture_on_commit_callbacks):
    notification = deliver(admit, world, actor).message
    login(client, world, "homecare_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(action_url("reply", notification), {"text": "Hvornår forventes udskrivelse?"})
    assert response.status_code == 302
    reply = Message.objects.get(parent=notification)
    assert reply.sender == world.municipality_a and reply.recipients.get().organisation == world.department


def test_reply_errors_answer_400_with_the_form(client, world, sent):
    login(client, world, "homecare_a")
    response = client.post(action_url("reply", sent), {"text": "  "})
    assert response.status_code == 400
    assert "Write a message." in response.content.decode()
    response = client.post(
        action_url("reply", sent), {"text": "Se bilag", "attachments": upload("x.pdf", b"just text")}
    )
    assert response.status_code == 400
    assert "is not a PDF, PNG, JPEG or GIF file" in response.content.decode()
    login(client, world, "gp_a")  # the sender is no receiver of its own message
    response = client.post(action_url("reply", sent), {"text": "Hej igen"})
    assert response.status_code == 400
    assert "Only a receiver of the message can reply to it." in response.content.decode()
    assert not Message.objects.filter(parent=sent).exists()


def test_forward_to_an_organisation_with_a_relationship(
    client, world, actor, deliver, sent, django_capture_on_commit_callbacks
):
    deliver(admit, world, actor)  # the department has the citizen admitted
    login(client, world, "homecare_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            action_url("forward", sent), {"receiver_code": world.department.sor_code, "text": "Til orientering"}
        )
    assert response.status_code == 302
    forward = Message.objects.get(parent=sent, activity="forward-message")
    assert forward.recipients.get().organisation == world.department
    assert "Til orientering" in forward.text and sent.text in forward.text
    # Picked from the search results (an id) works the same.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(action_url("forward", sent), {"receiver": str(world.department.pk)})
    assert response.status_code == 302


def test_forward_errors(client, world, sent):
    login(client, world, "homecare_a")
    response = client.post(action_url("forward", sent), {"receiver_code": world.clinic_b.sor_code})
    assert response.status_code == 400
    assert "has no care relationship with the citizen" in response.content.decode()
    response = client.post(action_url("forward", sent), {"receiver_code": "123"})
    assert response.status_code == 400
    assert "No organisation has the SOR code, GLN or id 123." in response.content.decode()
    response = client.post(action_url("forward", sent), {})
    assert response.status_code == 400
    assert "Choose a receiver." in response.content.decode()


def test_mark_handled_and_not_handled(client, world, sent):
    login(client, world, "homecare_a")
    response = client.post(action_url("handled", sent), {"handled": "on"})
    assert response.status_code == 302
    recipient = Recipient.objects.get(message=sent)
    assert recipient.handled_at is not None and recipient.handled_by == world.users["homecare_a"]
    assert client.post(action_url("handled", sent), {"handled": ""}).status_code == 302
    assert Recipient.objects.get(message=sent).handled_at is None
    # The sender is no receiver: it cannot mark the message handled.
    assert login(client, world, "gp_a").post(action_url("handled", sent), {"handled": "on"}).status_code == 403


def test_mark_unread(client, world, sent):
    login(client, world, "homecare_a")
    client.get(thread_url(sent))
    assert ReadMark.objects.filter(message=sent).exists()
    response = client.post(action_url("unread", sent))
    assert response.status_code == 302 and response["Location"] == INBOX
    assert not ReadMark.objects.filter(message=sent).exists()
    assert client.get(action_url("unread", sent)).status_code == 405


def test_assign_to_a_colleague(client, world, sent):
    login(client, world, "homecare_a")
    colleague = world.users["assistant_a"]
    assert client.post(action_url("assign", sent), {"assigned_to": colleague.pk}).status_code == 302
    assert Recipient.objects.get(message=sent).assigned_to == colleague
    html = client.get(thread_url(sent)).content.decode()
    assert f'<option value="{colleague.pk}" selected>' in html
    assert client.post(action_url("assign", sent), {"assigned_to": ""}).status_code == 302
    assert Recipient.objects.get(message=sent).assigned_to is None
    # Someone from another organisation is not offered and not accepted.
    response = client.post(action_url("assign", sent), {"assigned_to": world.users["gp_b"].pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert client.post(action_url("assign", sent), {"assigned_to": "x"}).status_code == 400


# --- attachments -------------------------------------------------------------------------------


def test_attachment_download_for_the_sender_and_the_receiver_only(client, world, actor, deliver):
    message = deliver(send, world, actor, attachments=[upload("epikrise.pdf", PDF)])
    attachment = Attachment.objects.get(message=message)
    url = reverse("messaging:attachment", args=[message.pk, attachment.pk])
    for name in ("homecare_a", "gp_a"):
        response = login(client, world, name).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert (
            response["Content-Disposition"].startswith("attachment;")
            and "epikrise.pdf" in response["Content-Disposition"]
        )
    for name in ("gp_b", "homecare_b"):
        assert login(client, world, name).get(url).status_code == 404
    other = deliver(send, world, actor, attachments=[upload("b.png", PNG)])
    wrong = reverse("messaging:attachment", args=[message.pk, Attachment.objects.get(message=other).pk])
    assert login(client, world, "homecare_a").get(wrong).status_code == 404


# --- writing a new message ---------------------------------------------------------------------


def compose_data(world, **overrides):
    data = {
        "citizen": str(world.citizen.pk),
        "receiver": str(world.municipality_a.pk),
        "category": Category.NURSING,
        "priority": Priority.ROUTINE,
        "topic": "",
        "text": "Borgeren har fået ny medicin.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_compose_page_with_the_citizen_preselected(client, world):
    login(client, world, "gp_a")
    response = client.get(COMPOSE, {"citizen": str(world.citizen.pk)})
    assert response.status_code == 200
    assert response.context["suggestions"] == [world.municipality_a]  # not the clinic itself
    html = response.content.decode()
    assert world.citizen.full_name in html and 'data-testid="receiver-suggestion"' in html
    assert len(response.context["form"].fields["category"].choices) == 19  # 18 MedCom categories and none


def test_compose_finds_the_citizen_first(client, world):
    login(client, world, "gp_a")
    response = client.get(COMPOSE)
    assert response.status_code == 200 and response.context["hits"] is None
    response = client.get(COMPOSE, {"q": world.citizen.last_name})
    assert world.citizen in response.context["hits"]
    assert login(client, world, "gp_b").get(COMPOSE, {"q": world.citizen.last_name}).context["hits"] == []


@pytest.mark.parametrize("name", ["gp_b", "homecare_b"])
def test_the_outsider_cannot_write_about_the_citizen(client, world, name):
    login(client, world, name)
    assert client.get(COMPOSE, {"citizen": str(world.citizen.pk)}).status_code == 404
    assert client.post(COMPOSE, compose_data(world)).status_code == 404
    assert not Message.objects.exists()


def test_compose_sends_and_opens_the_thread(client, world, django_capture_on_commit_callbacks):
    login(client, world, "gp_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            COMPOSE,
            compose_data(
                world,
                cc_codes=world.municipality_a.sor_code,  # the receiver named again as a copy is dropped
                attachments=[upload("a.pdf", PDF), upload("b.png", PNG)],
            ),
        )
    message = Message.objects.get(type=MessageType.CARE_COMMUNICATION)
    assert response.status_code == 302 and response["Location"] == thread_url(message)
    assert message.attachments.count() == 2 and message.recipients.count() == 1
    assert [row.message for row in login(client, world, "homecare_a").get(INBOX).context["rows"]] == [message]


def test_compose_with_a_receiver_code_and_a_copy(client, world, actor, deliver):
    deliver(admit, world, actor)
    login(client, world, "gp_a")
    data = compose_data(world, receiver=None, receiver_code=world.municipality_a.gln, cc=str(world.department.pk))
    response = client.post(COMPOSE, data)
    assert response.status_code == 302
    message = Message.objects.get(type=MessageType.CARE_COMMUNICATION)
    assert {r.organisation for r in message.recipients.all()} == {world.municipality_a, world.department}


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"text": ""}, "text", "Write a message."),
        ({"priority": Priority.ASAP}, "priority", "only for messages regarding a referral"),
        ({"category": Category.OTHER}, "topic", "A topic is required when the category is"),
        ({"category": ""}, "category", "This field is required."),
        ({"receiver": None}, "receiver", "Choose a receiver."),
        ({"receiver": "clinic_b"}, "receiver", "has no care relationship with the citizen"),
        ({"receiver": "clinic_a"}, "receiver", "cannot be sent to your own organisation"),
        ({"receiver_code": "99999999"}, "receiver_code", "No organisation has the SOR code, GLN or id"),
        ({"attachments": "text-as-pdf"}, "attachments", "is not a PDF, PNG, JPEG or GIF file."),
    ],
)
def test_compose_errors_answer_400_on_the_field(client, world, overrides, field, error):
    organisations = {"clinic_b": world.clinic_b, "clinic_a": world.clinic_a}
    if overrides.get("receiver") in organisations:
        overrides = {**overrides, "receiver": str(organisations[overrides["receiver"]].pk)}
    if overrides.get("attachments") == "text-as-pdf":
        overrides = {**overrides, "attachments": upload("epikrise.pdf", b"This is no PDF at all.")}
    login(client, world, "gp_a")
    response = client.post(COMPOSE, compose_data(world, **overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(error in message for message in form.errors.get(field, [])), form.errors
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not Message.objects.filter(type=MessageType.CARE_COMMUNICATION).exists()


def test_asap_is_accepted_regarding_a_referral(client, world):
    login(client, world, "gp_a")
    data = compose_data(world, priority=Priority.ASAP, category=Category.REGARDING_REFERRAL)
    assert client.post(COMPOSE, data).status_code == 302
    assert Message.objects.get(type=MessageType.CARE_COMMUNICATION).priority == Priority.ASAP


def test_compose_without_a_citizen_answers_400(client, world):
    login(client, world, "gp_a")
    response = client.post(COMPOSE, compose_data(world, citizen="nonsense"))
    assert response.status_code == 400
    assert "Choose the citizen the message is about." in response.content.decode()


def test_receiver_search(client, world):
    login(client, world, "gp_a")
    url = reverse("messaging:receivers")
    response = client.get(url, {"receiver_query": world.department.sor_code, "prefix": "compose"})
    assert response.status_code == 200
    html = response.content.decode()
    assert world.department.name in html and f'value="{world.department.pk}"' in html and 'id="compose-hit-' in html
    assert "No organisation found." in client.get(url, {"q": "zzzz-nothing"}).content.decode()
    assert 'id="receiver-hit-' in client.get(url, {"q": world.department.gln, "prefix": "<x>"}).content.decode()
    assert client.get(url).status_code == 200


# --- navigation and the citizen overview -------------------------------------------------------


def test_the_navigation_counts_unread_messages(client, world, sent):
    html = login(client, world, "homecare_a").get(reverse("dashboard")).content.decode()
    assert 'data-testid="nav-messages"' in html and 'data-testid="nav-messages-count">1<' in html
    html = login(client, world, "homecare_b").get(reverse("dashboard")).content.decode()
    assert 'data-testid="nav-messages"' in html and 'data-testid="nav-messages-count"' not in html


def test_the_citizen_overview_lists_the_messages(client, world, sent):
    login(client, world, "homecare_a")
    response = client.get(reverse("citizens:detail", args=[world.citizen.pk]))
    assert response.status_code == 200
    assert response.context["citizen_messages"] == [sent]
    html = response.content.decode()
    assert thread_url(sent) in html
    assert f"{COMPOSE}?citizen={world.citizen.pk}" in html
    # A colleague at the sending clinic sees the clinic's message; the outsider gets nothing.
    response = login(client, world, "nurse_a").get(reverse("citizens:detail", args=[world.citizen.pk]))
    assert response.context["citizen_messages"] == [sent]
    assert login(client, world, "gp_b").get(reverse("citizens:detail", args=[world.citizen.pk])).status_code == 404


def test_a_boosted_action_with_errors_keeps_the_thread_address(client, world, sent):
    login(client, world, "homecare_a")
    response = client.post(
        action_url("reply", sent), {"text": ""}, headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert response.status_code == 400
    assert response["HX-Push-Url"] == thread_url(sent)
    assert 'data-testid="reply-form"' in response.content.decode()


def test_the_pages_render_in_danish_the_default_language(client, world, sent):
    login(client, world, "homecare_a").cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    for url in (INBOX, INBOX + "?box=sent", thread_url(sent), f"{COMPOSE}?citizen={world.citizen.pk}", COMPOSE):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Language"] == "da"


def test_a_user_without_an_organisation_gets_nothing(client, world, sent):
    from sectors.tests.factories import UserFactory

    client.force_login(UserFactory())
    assert list(client.get(INBOX).context["rows"]) == []
    assert client.get(thread_url(sent)).status_code == 404
    assert client.get(COMPOSE, {"citizen": str(world.citizen.pk)}).status_code == 404
    assert client.post(action_url("reply", sent), {"text": "Hej"}).status_code == 404


def test_the_navigation_count_stops_at_the_cap(world, actor, client, monkeypatch, django_capture_on_commit_callbacks):
    """A busy inbox shows "2+" (with the cap at 2) instead of counting every unread message."""
    monkeypatch.setattr(selectors, "UNREAD_CAP", 2)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            send(world, actor)
    client.force_login(world.users["homecare_a"])

    html = client.get(INBOX).content.decode()

    assert 'data-testid="nav-messages-count">2+<' in html
    assert selectors.unread_count(actor=actor("homecare_a")) == 3  # cap + 1: enough to know there are more


def test_the_unread_badge_equals_the_inbox_when_the_citizen_leaves_the_gate(client, world, actor, sent):
    """The navigation badge counts through the same gated inbox as the list: a message about a
    citizen who objected to the municipality leaves both."""
    from citizens.choices import ObjectionTarget
    from citizens.services import objection_record

    login(client, world, "homecare_a")
    response = client.get(reverse("messaging:inbox"))
    assert len(response.context["page"].object_list) == 1 and response.context["messaging_nav"]["unread"] == 1

    gp = actor("gp_a")
    municipality = world.municipality_a
    objection_record(actor=gp, citizen=world.citizen, target=ObjectionTarget.ORGANISATION, organisation=municipality)

    response = client.get(reverse("messaging:inbox"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 0
    assert response.context["messaging_nav"]["unread"] == 0
