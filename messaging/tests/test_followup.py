"""A hospital notification as its receivers see it (inbox row, thread) and as the department sees
its events: the label of the event, what happens to the visits, whom to call, and whether the
care plan's coordinator has been told; the inbox's query count does not grow with its rows."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplans.tests.helpers import active_plan
from messaging.choices import HospitalCode, MessageType
from messaging.services import hospital_event_cancel, hospital_event_correct, hospital_event_record
from sectors.choices import MembershipRole
from sectors.models import Organisation

from .helpers import admit, member

pytestmark = pytest.mark.django_db

INBOX = reverse("messaging:inbox")
EVENTS = reverse("messaging_ops:hospital_events")


@pytest.fixture
def phones(world):
    Organisation.objects.filter(pk=world.department.pk).update(phone="+45 65 41 00 00")
    Organisation.objects.filter(pk=world.clinic_b.pk).update(phone="+45 66 12 34 56")


def _get(client, world, name, url):
    client.force_login(world.users[name])
    response = client.get(url)
    assert response.status_code == 200
    return response


def _testid(html: str, testid: str) -> str:
    """The text of the first element with this data-testid (without its markup)."""
    start = html.index(f'data-testid="{testid}"')
    start = html.index(">", start) + 1
    tag = re.search(r"<(\w+)[^<]*$", html[:start]).group(1)
    end = html.index(f"</{tag}>", start)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html[start:end])).strip()


def test_an_admission_says_visits_paused_coordinator_told_and_whom_to_call(client, world, actor, deliver, phones):
    coordinator = member(
        world.clinic_b,
        MembershipRole.GP,
        user__first_name="Karen",
        user__last_name="Holm",
        user__phone="+45 20 30 40 50",
    )
    active_plan(
        world, actor("gp_a"), title="KOL-forløb", coordinating_organisation=world.clinic_b, coordinator=coordinator
    )
    event = deliver(admit, world, actor)

    for url in (INBOX, reverse("messaging:thread", args=[event.message.thread_id])):
        html = _get(client, world, "homecare_a", url).content.decode()
        assert _testid(html, "followup-visits") == "Visits paused"
        assert _testid(html, "followup-coordinator-told") == "The plan's coordinator has been told"
        assert _testid(html, "followup-department") == f"Department: {world.department.name} · +45 65 41 00 00"
        assert _testid(html, "followup-coordinator") == (
            f"Coordinator of “KOL-forløb”: {world.clinic_b.name} · +45 66 12 34 56 · Karen Holm · +45 20 30 40 50"
        )
        assert "Visits resume" not in html


def test_a_discharge_says_visits_resume(client, world, actor, deliver):
    active_plan(world, actor("gp_a"))  # coordinated by the GP clinic: told by its copy of the notification
    deliver(admit, world, actor, hours_ago=30)
    discharged = deliver(
        hospital_event_record,
        actor=actor("hospital_nurse"),
        citizen=world.citizen,
        code=HospitalCode.SLHJ,
        occurred_at=discharged_at(),
    )
    html = _get(client, world, "gp_a", reverse("messaging:thread", args=[discharged.message.thread_id])).content
    html = html.decode()
    assert _testid(html, "followup-visits") == "Visits resume"
    assert _testid(html, "followup-coordinator-told") == "The plan's coordinator has been told"


def discharged_at():
    return timezone.now() - datetime.timedelta(hours=1)


def test_without_an_open_plan_nobody_is_said_to_be_told(client, world, actor, deliver, phones):
    deliver(admit, world, actor)
    html = _get(client, world, "homecare_a", INBOX).content.decode()
    assert _testid(html, "followup-visits") == "Visits paused"
    assert 'data-testid="followup-coordinator-told"' not in html
    assert 'data-testid="followup-coordinator"' not in html


def test_a_coordinator_not_told_is_not_said_to_be_told(client, world, actor, deliver):
    deliver(admit, world, actor)
    # A plan opened after the event, coordinated elsewhere: that coordinator was not told of it.
    active_plan(world, actor("gp_a"), coordinating_organisation=world.clinic_b)
    html = _get(client, world, "homecare_a", INBOX).content.decode()
    assert 'data-testid="followup-coordinator"' in html
    assert 'data-testid="followup-coordinator-told"' not in html


def test_a_cancelled_admission_is_labelled_so_everywhere(client, world, actor, deliver):
    event = deliver(admit, world, actor)
    cancelled = deliver(hospital_event_cancel, actor=actor("hospital_nurse"), event=event)

    html = _get(client, world, "homecare_a", INBOX).content.decode()
    assert "AN_STIN Cancelled: admission" in html
    assert html.count("Admitted") == 1  # the original admission's row
    html = _get(client, world, "homecare_a", reverse("messaging:thread", args=[event.message.thread_id])).content
    html = html.decode()
    labels = [_testid(part, "event-label") for part in html.split('data-testid="thread-message"')[1:]]
    assert labels == ["Admitted", "Cancelled: admission"]
    assert _testid(html.split(f'id="message-{cancelled.message_id}"')[1], "followup-visits") == "Visits resume"


def test_the_department_sees_its_revised_events_labelled_with_what_follows(client, world, actor, deliver):
    nurse = actor("hospital_nurse")
    admitted = deliver(admit, world, actor, hours_ago=30)
    corrected = deliver(hospital_event_correct, actor=nurse, event=admitted, occurred_at=admitted.occurred_at)
    discharged = deliver(
        hospital_event_record, actor=nurse, citizen=world.citizen, code=HospitalCode.SLHJ, occurred_at=discharged_at()
    )
    cancelled = deliver(hospital_event_cancel, actor=nurse, event=discharged)

    response = _get(client, world, "hospital_nurse", EVENTS)
    labels = {event.pk: event.label for event in response.context["events"]}
    assert labels == {
        admitted.pk: "Admitted",
        corrected.pk: "Corrected: admission",
        discharged.pk: "Discharged home",
        cancelled.pk: "Cancelled: discharge",
    }
    html = response.content.decode()
    expected = {corrected: "Visits paused", discharged: "Visits resume", cancelled: "Visits paused"}
    for event, visits in expected.items():
        row = html.split(f'id="event-{event.pk}"')[1].split("</tr>")[0]
        assert _testid(row, "event-label") == event.label
        assert _testid(row, "followup-visits") == visits
        assert 'data-testid="followup-department"' not in row  # the department's own page


def test_the_inbox_query_count_does_not_grow_with_hospital_notifications(client, world, actor, deliver):
    active_plan(world, actor("gp_a"), coordinating_organisation=world.clinic_b)
    client.force_login(world.users["homecare_a"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(INBOX).status_code == 200
        return len(ctx.captured_queries)

    deliver(admit, world, actor, hours_ago=50)
    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    one = queries()
    deliver(hospital_event_record, actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.SLHJ,
            occurred_at=discharged_at() - datetime.timedelta(hours=20))  # fmt: skip
    deliver(admit, world, actor, hours_ago=10)
    rows = client.get(INBOX).context["rows"]
    assert [row.message.type for row in rows] == [MessageType.HOSPITAL_NOTIFICATION] * 3
    assert all(row.message.followup.contacts for row in rows)
    assert queries() == one
