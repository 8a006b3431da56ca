"""The hospital-events page, the operations page and the notification settings: a department
records, corrects and cancels events and the municipality is notified; bad input answers 400 and
writes nothing; an administrator follows and retries the deliveries of their own organisation
only; every user chooses their e-mail notices. The outsider gets nothing anywhere."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citizens.choices import AccessAction
from citizens.models import AccessLogEntry, HospitalStay
from citizens.tests.factories import CitizenFactory
from messaging import selectors, services
from messaging.choices import DeliveryStatus, EmailMode, HospitalCode, MessageType, Revision
from messaging.models import (
    Delivery,
    DeliveryAttempt,
    EmailPreference,
    HospitalEvent,
    Message,
    Recipient,
    WebhookEndpoint,
)
from messaging.services import operations
from sectors.choices import MembershipRole
from sectors.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

EVENTS_URL = reverse("messaging_ops:hospital_events")
OPERATIONS_URL = reverse("messaging_ops:operations")
PREFERENCES_URL = reverse("messaging_ops:preferences")


def login(client, world, name: str):
    client.force_login(world.users[name])
    return client


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def hours_ago(hours: float) -> datetime.datetime:
    return (timezone.now() - datetime.timedelta(hours=hours)).replace(second=0, microsecond=0)


def record(client, citizen, code=HospitalCode.STIN, at=None):
    return client.post(
        EVENTS_URL, {"cpr": citizen.cpr_formatted, "code": code, "occurred_at": local(at or hours_ago(2))}
    )


# --- hospital events ---------------------------------------------------------------------------


def test_department_records_admission_and_the_municipality_is_notified(
    client, world, actor, django_capture_on_commit_callbacks
):
    login(client, world, "hospital_nurse")
    page = client.get(EVENTS_URL)
    assert page.status_code == 200
    assert 'type="datetime-local"' in page.content.decode()
    at = hours_ago(2)
    with django_capture_on_commit_callbacks(execute=True):
        response = record(client, world.citizen, at=at)
    assert response.status_code == 302
    event = HospitalEvent.objects.get()
    assert (event.citizen, event.department, event.code, event.occurred_at) == (
        world.citizen,
        world.department,
        HospitalCode.STIN,
        at,
    )
    assert event.stay.discharged_at is None
    receivers = set(Recipient.objects.filter(message=event.message).values_list("organisation_id", "role"))
    assert receivers == {(world.municipality_a.pk, "primary"), (world.clinic_a.pk, "cc")}
    inbox = list(selectors.inbox(actor=actor("homecare_a")))
    assert [(r.message.hospital_code, r.message.revision) for r in inbox] == [("STIN", Revision.NEW)]
    # The message names the code, not the citizen: the look-up and the write are logged.
    followed = client.get(response.url)
    assert "STIN" in followed.content.decode()
    assert AccessLogEntry.objects.filter(
        citizen=world.citizen, user=world.users["hospital_nurse"], action=AccessAction.SEARCH
    ).exists()
    assert AccessLogEntry.objects.filter(
        citizen=world.citizen, user=world.users["hospital_nurse"], action=AccessAction.UPDATE
    ).exists()
    # The list shows the event and logs the citizen shown.
    listed = followed.content.decode()
    assert 'data-code="STIN"' in listed and world.citizen.cpr_formatted in listed
    assert AccessLogEntry.objects.filter(citizen=world.citizen, action=AccessAction.LIST).exists()


def test_the_cpr_may_be_typed_without_a_hyphen(client, world, django_capture_on_commit_callbacks):
    login(client, world, "hospital_nurse")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            EVENTS_URL, {"cpr": world.citizen.cpr, "code": HospitalCode.STAA, "occurred_at": local(hours_ago(1))}
        )
    assert response.status_code == 302
    assert HospitalEvent.objects.get().code == HospitalCode.STAA


def test_correct_and_cancel_through_the_page(client, world, actor, django_capture_on_commit_callbacks):
    login(client, world, "hospital_nurse")
    with django_capture_on_commit_callbacks(execute=True):
        record(client, world.citizen, at=hours_ago(3))
    event = HospitalEvent.objects.get()
    page = client.get(EVENTS_URL).content.decode()
    assert reverse("messaging_ops:hospital_event_correct", args=[event.pk]) in page
    assert reverse("messaging_ops:hospital_event_cancel", args=[event.pk]) in page

    corrected_at = hours_ago(4)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("messaging_ops:hospital_event_correct", args=[event.pk]), {"occurred_at": local(corrected_at)}
        )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.superseded
    correction = HospitalEvent.objects.get(revision=Revision.CORRECTION)
    assert correction.revises == event and correction.occurred_at == corrected_at
    assert HospitalStay.objects.get(citizen=world.citizen).admitted_at == corrected_at
    page = client.get(EVENTS_URL).content.decode()
    assert 'data-code="RE_STIN"' in page
    # The superseded event offers no actions any more.
    assert reverse("messaging_ops:hospital_event_correct", args=[event.pk]) not in page
    again = client.post(
        reverse("messaging_ops:hospital_event_correct", args=[event.pk]), {"occurred_at": local(hours_ago(5))}
    )
    assert again.status_code == 400
    assert HospitalEvent.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging_ops:hospital_event_cancel", args=[correction.pk]))
    assert response.status_code == 302
    cancellation = HospitalEvent.objects.get(revision=Revision.CANCELLATION)
    assert cancellation.revises == correction and cancellation.message.hospital_code_label == "AN_STIN"
    assert not HospitalStay.objects.filter(citizen=world.citizen).exists()
    labels = [r.message.hospital_code_label for r in selectors.inbox(actor=actor("homecare_a"))]
    assert sorted(labels) == ["AN_STIN", "RE_STIN", "STIN"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cpr": "010203-9999", "code": "STIN"}, "cpr"),  # a real date, but nobody registered
        ({"cpr": "12345", "code": "STIN"}, "cpr"),
        ({"code": "STIN", "occurred_at": ""}, "occurred_at"),
        ({"code": "STIN", "occurred_at": "tomorrow"}, "occurred_at"),
        ({"code": "STIN", "future": True}, "occurred_at"),
        ({"code": "XXXX"}, "code"),
        ({"code": "SLHJ"}, "code"),  # no current stay to end
    ],
)
def test_bad_input_answers_400_and_writes_nothing(client, world, data, field, django_capture_on_commit_callbacks):
    login(client, world, "hospital_nurse")
    post = {"cpr": world.citizen.cpr_formatted, "occurred_at": local(hours_ago(1))}
    if data.pop("future", False):
        post["occurred_at"] = local(timezone.now() + datetime.timedelta(hours=2))
    post.update(data)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(EVENTS_URL, post)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert not HospitalEvent.objects.exists()
    assert not Message.objects.exists()
    assert not HospitalStay.objects.exists()


def test_only_hospital_departments_use_the_page(client, world):
    for name in ("gp_a", "homecare_a", "unit_physician"):
        login(client, world, name)
        assert client.get(EVENTS_URL).status_code == 403
        assert record(client, world.citizen).status_code == 403
    assert not HospitalEvent.objects.exists()


def test_another_department_cannot_revise_or_see_the_event(client, world, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = services.hospital_event_record(
            actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=hours_ago(2)
        )
    login(client, world, "other_hospital")
    page = client.get(EVENTS_URL)
    assert page.status_code == 200
    assert world.citizen.cpr_formatted not in page.content.decode()
    correct = client.post(
        reverse("messaging_ops:hospital_event_correct", args=[event.pk]), {"occurred_at": local(hours_ago(3))}
    )
    cancel = client.post(reverse("messaging_ops:hospital_event_cancel", args=[event.pk]))
    assert (correct.status_code, cancel.status_code) == (404, 404)
    event.refresh_from_db()
    assert not event.superseded and HospitalEvent.objects.count() == 1


def test_a_refused_cancellation_is_shown_with_400(client, world, actor, django_capture_on_commit_callbacks):
    nurse = actor("hospital_nurse")
    with django_capture_on_commit_callbacks(execute=True):
        admitted = services.hospital_event_record(
            actor=nurse, citizen=world.citizen, code=HospitalCode.STIN, occurred_at=hours_ago(5)
        )
        services.hospital_event_record(
            actor=nurse, citizen=world.citizen, code=HospitalCode.STOR, occurred_at=hours_ago(4)
        )
    login(client, world, "hospital_nurse")
    response = client.post(reverse("messaging_ops:hospital_event_cancel", args=[admitted.pk]))
    assert response.status_code == 400
    assert "Only the latest event" in response.content.decode()
    assert HospitalEvent.objects.count() == 2


def test_events_list_query_count_does_not_grow(
    client, world, actor, django_assert_num_queries, django_capture_on_commit_callbacks
):
    nurse = actor("hospital_nurse")

    def admit(citizen):
        with django_capture_on_commit_callbacks(execute=True):
            services.hospital_event_record(
                actor=nurse, citizen=citizen, code=HospitalCode.STIN, occurred_at=hours_ago(1)
            )

    admit(world.citizen)
    login(client, world, "hospital_nurse")
    client.get(EVENTS_URL)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(EVENTS_URL).status_code == 200
    for _ in range(3):
        admit(CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a))
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(EVENTS_URL)
    assert len(response.context["events"]) == 4


# --- operations ----------------------------------------------------------------------------------


@pytest.fixture
def admin_a(world):
    return MembershipFactory(organisation=world.clinic_a, role=MembershipRole.ORGANISATION_ADMIN).user


def failed_delivery(world, actor, capture, *, error="SMTP 550 mailbox unavailable") -> Delivery:
    """A message from clinic A whose first delivery failed for good."""
    with capture(execute=True):
        message = services.message_send(
            actor=actor("gp_a"), citizen=world.citizen, receiver=world.municipality_a, category="nursing", text="Hej"
        )
    delivery = Delivery.objects.filter(message=message).order_by("pk").first()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=error, attempts=3)
    DeliveryAttempt.objects.create(delivery=delivery, outcome="permanent", error=error)
    delivery.refresh_from_db()
    return delivery


def test_admin_sees_and_retries_failed_deliveries(
    client, world, actor, admin_a, django_capture_on_commit_callbacks, monkeypatch
):
    delivery = failed_delivery(world, actor, django_capture_on_commit_callbacks)
    WebhookEndpoint.objects.create(organisation=world.clinic_a, url="https://clinic-a.example/hook")
    client.force_login(admin_a)
    page = client.get(OPERATIONS_URL)
    assert page.status_code == 200
    rows = page.context["deliveries"]
    assert [d.pk for d in rows] == [delivery.pk]  # failed only, by default
    html = page.content.decode()
    assert "SMTP 550 mailbox unavailable" in html
    assert reverse("messaging:thread", args=[delivery.message.thread_id]) in html
    assert "https://clinic-a.example/hook" in html
    everything = client.get(OPERATIONS_URL, {"show": "all"}).context["deliveries"]
    assert len(everything) == Delivery.objects.count() > 1

    # Keep the retried delivery pending (no worker runs) to see the state the retry leaves.
    monkeypatch.setattr(operations, "_enqueue", lambda deliveries: None)
    response = client.post(reverse("messaging_ops:delivery_retry", args=[delivery.pk]))
    assert response.status_code == 302 and response.url == OPERATIONS_URL
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    again = client.post(reverse("messaging_ops:delivery_retry", args=[delivery.pk]))
    assert again.status_code == 400
    assert "Only failed deliveries" in again.content.decode()


def test_non_admins_get_403(client, world, actor, django_capture_on_commit_callbacks):
    delivery = failed_delivery(world, actor, django_capture_on_commit_callbacks)
    for name in ("gp_a", "homecare_a", "hospital_nurse"):
        login(client, world, name)
        assert client.get(OPERATIONS_URL).status_code == 403
        assert client.post(reverse("messaging_ops:delivery_retry", args=[delivery.pk])).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_outsider_admin_sees_nothing_of_organisation_a(client, world, actor, django_capture_on_commit_callbacks):
    delivery = failed_delivery(world, actor, django_capture_on_commit_callbacks)
    WebhookEndpoint.objects.create(organisation=world.clinic_a, url="https://clinic-a.example/hook")
    login(client, world, "admin_b")
    for query in ({}, {"show": "all"}):
        page = client.get(OPERATIONS_URL, query)
        assert page.status_code == 200
        assert list(page.context["deliveries"]) == []
        assert "clinic-a.example" not in page.content.decode()
    assert client.post(reverse("messaging_ops:delivery_retry", args=[delivery.pk])).status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_operations_query_count_does_not_grow(
    client, world, actor, admin_a, django_assert_num_queries, django_capture_on_commit_callbacks
):
    failed_delivery(world, actor, django_capture_on_commit_callbacks)
    client.force_login(admin_a)
    client.get(OPERATIONS_URL)
    with CaptureQueriesContext(connection) as one:
        client.get(OPERATIONS_URL, {"show": "all"})
    for _ in range(3):
        failed_delivery(world, actor, django_capture_on_commit_callbacks)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(OPERATIONS_URL, {"show": "all"})
    assert len(response.context["deliveries"]) > 4


# --- notification settings ------------------------------------------------------------------------


def test_preferences_default_to_immediately_and_are_saved(client, world):
    user = world.users["homecare_a"]
    client.force_login(user)
    page = client.get(PREFERENCES_URL)
    assert page.status_code == 200
    assert page.context["form"].initial == {
        MessageType.CARE_COMMUNICATION: EmailMode.IMMEDIATELY,
        MessageType.HOSPITAL_NOTIFICATION: EmailMode.IMMEDIATELY,
        MessageType.NOTIFICATION: EmailMode.IMMEDIATELY,
    }
    response = client.post(
        PREFERENCES_URL,
        {
            MessageType.CARE_COMMUNICATION: EmailMode.DIGEST,
            MessageType.HOSPITAL_NOTIFICATION: EmailMode.OFF,
            MessageType.NOTIFICATION: EmailMode.IMMEDIATELY,
        },
    )
    assert response.status_code == 302
    saved = dict(EmailPreference.objects.filter(user=user).values_list("message_type", "mode"))
    assert saved == {
        MessageType.CARE_COMMUNICATION: EmailMode.DIGEST,
        MessageType.HOSPITAL_NOTIFICATION: EmailMode.OFF,
        MessageType.NOTIFICATION: EmailMode.IMMEDIATELY,
    }
    assert client.get(PREFERENCES_URL).context["form"].initial[MessageType.HOSPITAL_NOTIFICATION] == EmailMode.OFF
    # Another user's settings are their own.
    assert not EmailPreference.objects.filter(user=world.users["gp_b"]).exists()


def test_an_invalid_mode_answers_400_and_saves_nothing(client, world):
    client.force_login(world.users["homecare_a"])
    response = client.post(
        PREFERENCES_URL,
        {
            MessageType.CARE_COMMUNICATION: "weekly",
            MessageType.HOSPITAL_NOTIFICATION: EmailMode.OFF,
            MessageType.NOTIFICATION: EmailMode.OFF,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors[MessageType.CARE_COMMUNICATION]
    assert not EmailPreference.objects.exists()


def test_pages_require_sign_in(client):
    for url in (EVENTS_URL, OPERATIONS_URL, PREFERENCES_URL):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url


def test_a_superuser_acting_for_another_organisation_sees_nothing_of_a(
    client, world, actor, django_capture_on_commit_callbacks
):
    failed_delivery(world, actor, django_capture_on_commit_callbacks)
    user = world.users["gp_b"]
    user.is_superuser = True
    user.save()
    client.force_login(user)
    page = client.get(OPERATIONS_URL)
    assert page.status_code == 200
    assert list(page.context["deliveries"]) == []


def test_a_correction_to_the_future_answers_400(client, world, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = services.hospital_event_record(
            actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=hours_ago(2)
        )
    login(client, world, "hospital_nurse")
    future = local(timezone.now() + datetime.timedelta(days=1))
    for value in (future, "", "noon"):
        response = client.post(reverse("messaging_ops:hospital_event_correct", args=[event.pk]), {"occurred_at": value})
        assert response.status_code == 400
        assert "invalid-feedback" in response.content.decode() or "event-error" in response.content.decode()
    event.refresh_from_db()
    assert not event.superseded and HospitalEvent.objects.count() == 1


def test_navigation_links(client, world, admin_a):
    login(client, world, "hospital_nurse")
    html = client.get(PREFERENCES_URL).content.decode()
    assert 'data-testid="nav-hospital-events"' in html and 'data-testid="nav-operations"' not in html
    assert 'data-testid="nav-notification-settings"' in html
    client.force_login(admin_a)
    html = client.get(PREFERENCES_URL).content.decode()
    assert 'data-testid="nav-operations"' in html and 'data-testid="nav-hospital-events"' not in html


def test_pages_render_in_danish(client, world, admin_a):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    login(client, world, "hospital_nurse")
    assert client.get(EVENTS_URL).status_code == 200
    assert client.get(PREFERENCES_URL).status_code == 200
    client.force_login(admin_a)
    assert client.get(OPERATIONS_URL).status_code == 200
