"""Each filter of the message lists narrows them, on the inbox page and in the API, and the counts
of the navigation and the dashboard with them: a filter that did nothing would list every row and
fail here. The rows are chosen so that a filter that ignored the user (someone else's read state
or assignment) would fail too."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from citizens.tests.factories import CitizenFactory
from messaging import selectors
from messaging.choices import Category, MessageType
from messaging.services import message_assign, message_mark_handled, message_mark_read, message_send

from .helpers import admit, send
from .test_api import client_for

pytestmark = pytest.mark.django_db

INBOX = reverse("messaging:inbox")
SURFACES = ["page", "api"]


@pytest.fixture
def rows(world, actor, deliver):
    """Homecare A's inbox: a nursing message it read, handled and took; a medicine message about
    another citizen that a colleague read and was given; and an admission nobody touched."""
    other = CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a)
    nursing = deliver(send, world, actor)
    medicine = deliver(
        message_send, actor=actor("gp_a"), citizen=other, receiver=world.municipality_a,
        category=Category.MEDICINE, text="Dosis ændret",
    )  # fmt: skip
    admission = deliver(admit, world, actor).message
    nurse, assistant = actor("homecare_a"), actor("assistant_a")
    message_mark_read(actor=nurse, message=nursing)
    message_mark_read(actor=assistant, message=medicine)
    message_mark_handled(actor=nurse, message=nursing)
    message_assign(actor=nurse, message=nursing, user=nurse.user)
    message_assign(actor=nurse, message=medicine, user=assistant.user)
    return SimpleNamespace(other=other, nursing=nursing, medicine=medicine, admission=admission)


@pytest.fixture
def listed(world, client):
    """The ids of the messages a user's list shows for these parameters, on the page or in the API."""

    def listed(surface: str, name: str, params: dict[str, str]) -> set[str]:
        if surface == "api":
            response = client_for(world.users[name]).get("/api/v1/messages/", params)
            assert response.status_code == 200, response.content
            return {item["id"] for item in response.json()["results"]}
        client.force_login(world.users[name])
        response = client.get(INBOX, params)
        assert response.status_code == 200 and not response.context["form"].errors
        sent = params.get("box") == "sent"
        return {str(row.pk if sent else row.message.pk) for row in response.context["rows"]}

    return listed


def _yes(surface: str) -> str:
    return "true" if surface == "api" else "on"  # what each one sends for a ticked box


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("category", Category.MEDICINE, {"medicine"}),
        ("citizen", "other", {"medicine"}),
        ("type", MessageType.HOSPITAL_NOTIFICATION, {"admission"}),
        ("unhandled", "yes", {"medicine", "admission"}),
        ("mine", "yes", {"nursing"}),
        ("unread", "yes", {"medicine", "admission"}),
    ],
)
def test_each_inbox_filter_narrows_the_inbox(rows, listed, surface, name, value, expected):
    value = {"other": str(rows.other.pk), "yes": _yes(surface)}.get(value, value)
    everything = listed(surface, "homecare_a", {})
    assert everything == {str(rows.nursing.pk), str(rows.medicine.pk), str(rows.admission.pk)}

    shown = listed(surface, "homecare_a", {name: value})

    assert shown == {str(getattr(rows, key).pk) for key in expected}


@pytest.mark.parametrize("surface", SURFACES)
def test_the_filters_combine(rows, listed, surface):
    assert listed(surface, "homecare_a", {"unread": _yes(surface), "category": Category.MEDICINE}) == {
        str(rows.medicine.pk)
    }
    assert listed(surface, "homecare_a", {"mine": _yes(surface), "unhandled": _yes(surface)}) == set()


@pytest.mark.parametrize("name", ["unhandled", "mine", "unread"])
def test_an_only_filter_set_to_false_lists_everything(rows, listed, name):
    assert len(listed("api", "homecare_a", {name: "false"})) == 3


def test_mine_and_unread_are_the_users_own(rows, listed):
    assert listed("api", "assistant_a", {"mine": "true"}) == {str(rows.medicine.pk)}
    assert listed("api", "assistant_a", {"unread": "true"}) == {str(rows.nursing.pk), str(rows.admission.pk)}


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(("name", "value"), [("category", Category.MEDICINE), ("citizen", "other")])
def test_each_sent_box_filter_narrows_the_sent_box(rows, listed, surface, name, value):
    value = str(rows.other.pk) if value == "other" else value
    assert listed(surface, "gp_a", {"box": "sent"}) == {str(rows.nursing.pk), str(rows.medicine.pk)}

    assert listed(surface, "gp_a", {"box": "sent", name: value}) == {str(rows.medicine.pk)}


@pytest.mark.parametrize("surface", SURFACES)
def test_the_inbox_filters_leave_the_sent_box_alone(rows, listed, surface):
    """They are the receiver's state ("(inbox)" in the API's documentation)."""
    params = {"box": "sent", "unhandled": _yes(surface), "mine": _yes(surface), "unread": _yes(surface)}

    assert listed(surface, "gp_a", params) == {str(rows.nursing.pk), str(rows.medicine.pk)}


def test_the_counts_narrow_like_the_lists(rows, actor):
    nurse = actor("homecare_a")

    assert selectors.unread_count(actor=nurse) == 2
    assert selectors.inbox_count(actor=nurse, filters={"unhandled": "on"}) == 2
    assert selectors.inbox_count(actor=nurse, filters={"mine": "on"}) == 1
    assert selectors.inbox_count(actor=nurse, filters={}) == 3
