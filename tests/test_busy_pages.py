"""A form whose transaction the database keeps giving up (a deadlock, a serialization conflict that
the services' retries did not get past) answers a 503 page that says nothing was saved and to try
again, with ``Retry-After``, never a 500; the API keeps its JSON 503 (messaging/tests/test_write_path.py)."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.conf import settings
from django.urls import reverse

from careplans.choices import CarePlanStatus, HandoffStatus
from careplans.models import Handoff
from careplans.services import activity_create, careplan_create
from messaging.choices import Category, Priority
from messaging.models import Delivery, Message
from smartcare.transactions import DEADLOCK, LOCK_NOT_AVAILABLE, SERIALIZATION_FAILURE
from tests.dberrors import database_error

pytestmark = pytest.mark.django_db

NOTHING_SAVED = "Nothing was saved"


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.TRANSACTION_RETRY_BASE_SECONDS = 0


@pytest.fixture
def signed_in(client, world, english):
    def _as(name: str):
        client.force_login(world.users[name])
        return client

    return _as


def busy_page(response, caplog) -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["Content-Type"].startswith("text/html")
    content = response.content.decode()
    assert 'data-testid="error-page"' in content and NOTHING_SAVED in content
    assert [r.getMessage() for r in caplog.records if r.name == "smartcare.pages"][0].startswith("page_busy")
    return content


@pytest.mark.django_db(transaction=True)  # outside a test's transaction, so the service is run again
def test_a_message_that_stays_deadlocked_is_a_503_page_and_sends_nothing(world, signed_in, caplog):
    data = {
        "citizen": str(world.citizen.pk),
        "receiver": str(world.municipality_a.pk),
        "category": Category.NURSING,
        "priority": Priority.ROUTINE,
        "text": "Borgeren har fået ny medicin.",
    }
    with (
        mock.patch("messaging.services.communication._log", side_effect=database_error(DEADLOCK)) as failing,
        caplog.at_level(logging.WARNING, logger="smartcare.pages"),
    ):
        response = signed_in("gp_a").post(reverse("messaging:compose"), data)

    busy_page(response, caplog)
    assert failing.call_count == settings.TRANSACTION_RETRY_ATTEMPTS  # run again, then given up
    assert not Message.objects.exists()
    assert not Delivery.objects.exists()


@pytest.fixture
def handoff(world, actor) -> Handoff:
    gp = actor("gp_a")
    plan = careplan_create(
        actor=gp, citizen=world.citizen, title="KOL-forløb", coordinating_organisation=world.clinic_a,
        status=CarePlanStatus.ACTIVE,
    )  # fmt: skip
    activity = activity_create(
        actor=gp, plan=plan, description="Blodtryksmåling i hjemmet", responsible_organisation=world.municipality_a,
        due_date=plan.created_at.date(),
    )  # fmt: skip
    return activity.handoffs.get()


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("accept", {"comment": "Vi starter"}, DEADLOCK),
        ("accept", {"comment": "Vi starter"}, LOCK_NOT_AVAILABLE),
        ("reject", {"reason": "Flyttet"}, SERIALIZATION_FAILURE),
    ],
)
def test_a_handoff_answer_that_stays_deadlocked_is_a_503_page(signed_in, handoff, caplog, name, data, code):
    error = database_error(code)
    with (
        mock.patch(f"careplans.services.handoff_{name}", side_effect=error),
        caplog.at_level(logging.WARNING, logger="smartcare.pages"),
    ):
        response = signed_in("homecare_a").post(reverse(f"careplans:handoff_{name}", args=[handoff.pk]), data)

    busy_page(response, caplog)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REQUESTED


def test_another_database_error_is_still_a_500(world, signed_in, handoff, caplog):
    client = signed_in("homecare_a")
    client.raise_request_exception = False
    with mock.patch("careplans.services.handoff_accept", side_effect=database_error("08006")):  # connection lost
        response = client.post(reverse("careplans:handoff_accept", args=[handoff.pk]), {})

    assert response.status_code == 500
    assert not response.has_header("Retry-After")
    assert not [r for r in caplog.records if r.name == "smartcare.pages"]
