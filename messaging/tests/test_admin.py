"""The messaging admin: superusers see every row, other staff only what their organisation sent or
received about citizens inside the access gate; messages are read-only; a failed delivery can be
retried from the changelist."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citizens.choices import AccessAction
from citizens.models import AccessLogEntry
from citizens.tests.factories import CitizenFactory
from messaging.choices import Channel, DeliveryStatus, HospitalCode
from messaging.models import Delivery, DeliveryAttempt, EmailPreference, HospitalEvent, Message, WebhookEndpoint
from messaging.services import email_preference_set, hospital_event_record, message_reply, message_send
from sectors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = ["message", "thread", "delivery", "deliveryattempt", "hospitalevent", "webhookendpoint", "emailpreference"]


@pytest.fixture(autouse=True)
def no_mfa_for_admins(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = False


def staff(user):
    """A member of an organisation who may open the messaging admin (view only)."""
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="messaging", codename__startswith="view_")
    )
    return user


class GoneResponse:
    status_code = 410
    text = "gone"


def gone():
    """Municipality A's own system answers every message with 410 Gone (never the network)."""
    return mock.patch("messaging.transports.webhook.requests.post", return_value=GoneResponse())


@pytest.fixture
def mail(world, actor, django_capture_on_commit_callbacks):
    """Clinic A and municipality A write about the world's citizen (a reply, a hospital stay);
    municipality A's own system refuses its copy of the first message (a failed delivery). Clinic
    B writes to municipality B about its own citizen."""
    WebhookEndpoint.objects.create(organisation=world.municipality_a, url="https://kommune-a.example/hook")
    outsider_citizen = CitizenFactory(municipality=world.municipality_b, gp_clinic=world.clinic_b, last_name="Udenfor")
    with gone(), django_capture_on_commit_callbacks(execute=True):
        first = message_send(
            actor=actor("gp_a"), citizen=world.citizen, receiver=world.municipality_a, category="medicine",
            topic="Insiderdosis", text="Furix 80 mg fra i dag.",
        )  # fmt: skip
        reply = message_reply(actor=actor("homecare_a"), message=first, text="Noteret.")
        event = hospital_event_record(
            actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN,
            occurred_at=timezone.now() - datetime.timedelta(hours=2),
        )  # fmt: skip
        between = message_send(
            actor=actor("homecare_a"), citizen=world.citizen, receiver=world.department, category="carecoordination",
            topic="Kun kommune og hospital", text="Hjemmeplejen er sat i bero.",
        )  # fmt: skip
        theirs = message_send(
            actor=actor("gp_b"), citizen=outsider_citizen, receiver=world.municipality_b, category="nursing",
            topic="Outsiderbesked", text="Sårpleje.",
        )  # fmt: skip
    email_preference_set(user=world.users["homecare_a"], message_type="care-communication", mode="digest")
    failed = Delivery.objects.get(message=first, channel=Channel.WEBHOOK)
    assert failed.status == DeliveryStatus.FAILED, failed.last_error
    return {"first": first, "reply": reply, "event": event, "between": between, "theirs": theirs, "failed": failed}


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def test_every_changelist_opens_for_the_superuser_in_a_fixed_number_of_queries(
    client, superuser, mail, world, actor, django_capture_on_commit_callbacks
):
    client.force_login(superuser)
    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    before = {model: queries(client, f"/admin/messaging/{model}/") for model in MODELS}
    with gone(), django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            message_send(
                actor=actor("gp_a"), citizen=world.citizen, receiver=world.municipality_a, category="nursing",
                topic=f"Mere {n}", text="Mere.",
            )  # fmt: skip

    after = {model: queries(client, f"/admin/messaging/{model}/") for model in MODELS}

    assert after == before  # more rows, no more queries
    assert max(after.values()) <= 20
    page = client.get("/admin/messaging/message/").content.decode()
    assert "Insiderdosis" in page and "Outsiderbesked" in page and "Kun kommune og hospital" in page


def test_every_change_page_opens_for_the_superuser(client, superuser, mail):
    client.force_login(superuser)
    first = mail["first"]
    pages = {
        "message": first.pk,
        "thread": first.thread_id,
        "delivery": mail["failed"].pk,
        "deliveryattempt": DeliveryAttempt.objects.filter(delivery=mail["failed"]).get().pk,
        "hospitalevent": mail["event"].pk,
        "webhookendpoint": WebhookEndpoint.objects.get().pk,
        "emailpreference": EmailPreference.objects.get().pk,
    }

    for model, pk in pages.items():
        assert client.get(f"/admin/messaging/{model}/{pk}/change/").status_code == 200, model
    message_page = client.get(f"/admin/messaging/message/{first.pk}/change/").content.decode()
    assert "Furix 80 mg" in message_page and "HTTP 410" in message_page  # the text and the failed delivery
    thread_page = client.get(f"/admin/messaging/thread/{first.thread_id}/change/").content.decode()
    assert "Reply" in thread_page


def test_messages_are_read_only_even_for_the_superuser(client, superuser, mail):
    client.force_login(superuser)
    first = mail["first"]

    assert client.get("/admin/messaging/message/add/").status_code == 403
    assert client.post(f"/admin/messaging/message/{first.pk}/change/", {"text": "X"}).status_code == 403
    assert client.post(f"/admin/messaging/message/{first.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/messaging/hospitalevent/{mail['event'].pk}/delete/", {"post": "yes"}).status_code == 403
    first.refresh_from_db()
    assert first.text == "Furix 80 mg fra i dag."


def test_search_by_message_id(client, superuser, mail):
    client.force_login(superuser)

    page = client.get("/admin/messaging/message/", {"q": str(mail["theirs"].pk)}).content.decode()
    deliveries = client.get("/admin/messaging/delivery/", {"q": str(mail["theirs"].pk)}).content.decode()

    assert "Outsiderbesked" in page and "Insiderdosis" not in page
    assert "Outsiderbesked" in deliveries and "Insiderdosis" not in deliveries


def test_search_by_a_message_header_id_in_any_fhir_form(client, superuser, mail):
    """A received message's MessageHeader id is any FHIR id (issue #14): searched as written."""
    Message.objects.filter(pk=mail["theirs"].pk).update(header_id="medcom-msg.2026-12-07.0001")
    client.force_login(superuser)

    page = client.get("/admin/messaging/message/", {"q": "medcom-msg.2026-12-07.0001"}).content.decode()

    assert "Outsiderbesked" in page and "Insiderdosis" not in page


def test_failed_deliveries_are_counted_and_filtered(client, superuser, mail):
    failed = set(Delivery.objects.filter(status=DeliveryStatus.FAILED))
    assert mail["failed"] in failed and len(failed) < Delivery.objects.count()
    client.force_login(superuser)

    page = client.get("/admin/messaging/delivery/").content.decode()
    listed = client.get("/admin/messaging/delivery/", {"status": "failed"})

    assert f"Failed ({len(failed)})" in page
    assert set(listed.context["cl"].result_list) == failed


def test_the_retry_action_puts_a_failed_delivery_back_in_the_queue(client, superuser, mail):
    failed = mail["failed"]
    delivered = Delivery.objects.filter(message=mail["first"], channel=Channel.IN_APP).get()
    client.force_login(superuser)

    response = client.post(
        "/admin/messaging/delivery/",
        {"action": "retry_failed", "_selected_action": [failed.pk, delivered.pk]},
        follow=True,
    )

    failed.refresh_from_db()
    delivered.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING and failed.claimed_at is None
    assert delivered.status == DeliveryStatus.DELIVERED
    shown = [str(m) for m in response.context["messages"]]
    assert "1 delivery will be sent again." in shown
    assert "1 delivery was not retried: only failed deliveries can be." in shown


def test_staff_see_only_what_their_organisation_sent_or_received_about_citizens_it_may_see(client, world, mail):
    gp = staff(world.users["gp_a"])
    client.force_login(gp)

    for model in MODELS:
        response = client.get(f"/admin/messaging/{model}/")
        assert response.status_code == 200, model
        assert "Outsider" not in response.content.decode(), model
        assert "Udenfor" not in response.content.decode(), model
    shown = set(client.get("/admin/messaging/message/").context["cl"].result_list)
    assert {mail["first"], mail["reply"], mail["event"].message} <= shown
    assert mail["between"] not in shown  # about its citizen, but between the municipality and the hospital
    assert all(m.citizen_id == world.citizen.pk for m in shown)
    hidden = {
        "message": mail["theirs"].pk,
        "thread": mail["theirs"].thread_id,
        "delivery": Delivery.objects.filter(message=mail["theirs"]).first().pk,
    }
    for model, pk in hidden.items():
        assert client.get(f"/admin/messaging/{model}/{pk}/change/").status_code == 302, model  # "does not exist"
    assert client.get(f"/admin/messaging/message/{mail['first'].pk}/change/").status_code == 200
    # the municipality's own thread with the hospital is not clinic A's to see
    assert client.get(f"/admin/messaging/thread/{mail['between'].thread_id}/change/").status_code == 302


def test_staff_changelists_take_a_fixed_number_of_queries(
    client, world, mail, actor, django_capture_on_commit_callbacks
):
    client.force_login(staff(world.users["gp_a"]))
    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    pages = ["message", "thread", "delivery", "deliveryattempt", "hospitalevent"]
    before = {model: queries(client, f"/admin/messaging/{model}/") for model in pages}
    with gone(), django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            other = CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a)
            message_send(
                actor=actor("gp_a"), citizen=other, receiver=world.municipality_a, category="nursing",
                topic=f"Mere {n}", text="Mere.",
            )  # fmt: skip

    after = {model: queries(client, f"/admin/messaging/{model}/") for model in pages}

    assert after == before and max(after.values()) <= 25


def test_the_outsider_sees_nothing(client, world, mail):
    outsider = staff(world.users["homecare_b"])
    client.force_login(outsider)

    shown = list(client.get("/admin/messaging/message/").context["cl"].result_list)

    assert {m.citizen_id for m in shown} <= {mail["theirs"].citizen_id}
    assert mail["first"] not in shown and mail["event"].message not in shown
    assert client.get(f"/admin/messaging/message/{mail['first'].pk}/change/").status_code == 302
    assert not client.get("/admin/messaging/hospitalevent/").context["cl"].result_list


def test_staff_without_an_organisation_see_nothing(client, mail):
    user = staff(UserFactory())
    client.force_login(user)

    for model in ("message", "thread", "delivery", "hospitalevent"):
        assert not client.get(f"/admin/messaging/{model}/").context["cl"].result_list, model


def test_only_administrators_get_the_retry_action(client, world, mail):
    client.force_login(staff(world.users["homecare_a"]))
    page = client.get("/admin/messaging/delivery/").content.decode()
    assert "retry_failed" not in page

    response = client.post(
        "/admin/messaging/delivery/", {"action": "retry_failed", "_selected_action": [mail["failed"].pk]}
    )
    mail["failed"].refresh_from_db()
    assert response.status_code == 200 and mail["failed"].status == DeliveryStatus.FAILED


def test_admin_reads_are_logged(client, world, mail):
    gp = staff(world.users["gp_a"])
    client.force_login(gp)
    before = AccessLogEntry.objects.count()

    client.get("/admin/messaging/message/")
    client.get(f"/admin/messaging/message/{mail['first'].pk}/change/")

    entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert [(e.action, e.citizen_id, e.user_id) for e in entries] == [
        (AccessAction.LIST, world.citizen.pk, gp.pk),
        (AccessAction.VIEW, world.citizen.pk, gp.pk),
    ]


def test_hospital_events_are_listed_with_their_code(client, superuser, mail):
    client.force_login(superuser)

    page = client.get("/admin/messaging/hospitalevent/").content.decode()

    assert "STIN" in page and HospitalEvent.objects.count() == 1


def test_superuser_adds_a_webhook_https_only_in_production(client, superuser, world, settings):
    settings.MESSAGING_WEBHOOK_REQUIRE_HTTPS = True
    client.force_login(superuser)

    refused = client.post(
        "/admin/messaging/webhookendpoint/add/",
        {"organisation": world.clinic_b.pk, "url": "http://clinic-b.example/hook", "active": "on"},
    )
    assert refused.status_code == 200 and "https://" in str(refused.context["adminform"].form.errors["url"])
    saved = client.post(
        "/admin/messaging/webhookendpoint/add/",
        {"organisation": world.clinic_b.pk, "url": "https://clinic-b.example/hook", "active": "on"},
    )
    assert saved.status_code == 302
    webhook = WebhookEndpoint.objects.get(organisation=world.clinic_b)
    assert len(webhook.secret) > 20
    page = client.get(f"/admin/messaging/webhookendpoint/{webhook.pk}/change/").content.decode()
    assert webhook.secret in page and 'name="secret"' not in page  # shown, never edited


def test_an_organisation_administrator_manages_only_its_own_webhook(client, world, mail):
    admin_b = staff(world.users["admin_b"])
    admin_b.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="messaging", codename__in=["add_webhookendpoint", "change_webhookendpoint"]
        )
    )
    client.force_login(admin_b)

    assert not client.get("/admin/messaging/webhookendpoint/").context["cl"].result_list  # municipality A's
    refused = client.post(
        "/admin/messaging/webhookendpoint/add/",
        {"organisation": world.municipality_a.pk, "url": "https://x.example/", "active": "on"},
    )
    assert refused.status_code == 200 and "organisation" in refused.context["adminform"].form.errors
    saved = client.post(
        "/admin/messaging/webhookendpoint/add/",
        {"organisation": world.clinic_b.pk, "url": "https://clinic-b.example/hook", "active": "on"},
    )
    assert saved.status_code == 302 and WebhookEndpoint.objects.filter(organisation=world.clinic_b).exists()
    # a colleague who is not an administrator only looks
    gp_b = staff(world.users["gp_b"])
    client.force_login(gp_b)
    assert client.get("/admin/messaging/webhookendpoint/add/").status_code == 403
