"""The daily digest goes through the delivery outbox: one row per user and day (the beat task may
run twice), enqueued on commit, retried on SMTP errors with backoff, listed on the operations page
when it failed and sent again from there."""

from __future__ import annotations

import smtplib
from unittest import mock

import pytest
from django.core.mail import send_mail as real_send_mail
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from messaging.choices import AttemptOutcome, Channel, DeliveryStatus, EmailMode, MessageType
from messaging.delivery import delivery_run
from messaging.models import Delivery, DigestRun
from messaging.services import email_preference_set
from messaging.tasks import digests_send_task
from sectors.choices import MembershipRole

from .helpers import member, send

pytestmark = pytest.mark.django_db

OPERATIONS_URL = reverse("messaging_ops:operations")


def digest_user(world, name="homecare_a"):
    user = world.users[name]
    email_preference_set(user=user, message_type=MessageType.CARE_COMMUNICATION, mode=EmailMode.DIGEST)
    return user


def failing_once(error: Exception):
    calls = []

    def send_mail(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise error
        return real_send_mail(*args, **kwargs)

    return send_mail


def test_an_smtp_error_is_retried_and_the_digest_is_sent_once(
    world, actor, django_capture_on_commit_callbacks, mailoutbox
):
    user = digest_user(world)
    with freeze_time(timezone.now()) as frozen:
        with django_capture_on_commit_callbacks(execute=True):
            send(world, actor)
        mailoutbox.clear()
        patched = failing_once(smtplib.SMTPServerDisconnected("connection lost"))
        with mock.patch("messaging.transports.mail.send_mail", side_effect=patched):
            assert digests_send_task() == 1
            delivery = Delivery.objects.get(channel=Channel.EMAIL_DIGEST)
            assert (delivery.status, delivery.attempts, delivery.user) == (DeliveryStatus.PENDING, 1, user)
            assert "connection lost" in delivery.last_error
            assert mailoutbox == []
            assert delivery_run(delivery.pk) is None  # not due yet
            frozen.move_to(delivery.next_attempt_at)
            assert delivery_run(delivery.pk).status == DeliveryStatus.DELIVERED
            assert delivery_run(delivery.pk) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.DELIVERED, 2, "")
    assert [a.outcome for a in delivery.attempt_log.all()] == [AttemptOutcome.TRANSIENT, AttemptOutcome.OK]
    assert [mail.to for mail in mailoutbox] == [[user.email]]
    assert "1" in mailoutbox[0].subject


def test_running_twice_the_same_day_makes_one_delivery_per_user(
    world, actor, django_capture_on_commit_callbacks, mailoutbox
):
    first, second = digest_user(world), digest_user(world, "assistant_a")
    with freeze_time(timezone.now()):
        with django_capture_on_commit_callbacks(execute=True):
            send(world, actor)
        mailoutbox.clear()
        with mock.patch("messaging.transports.mail.send_mail", side_effect=smtplib.SMTPServerDisconnected("down")):
            assert digests_send_task() == 2
            assert digests_send_task() == 0
    rows = Delivery.objects.filter(channel=Channel.EMAIL_DIGEST)
    assert sorted(rows.values_list("user_id", flat=True)) == sorted([first.pk, second.pk])
    assert DigestRun.objects.count() == 2
    assert mailoutbox == []


def test_no_unread_messages_means_no_delivery(world, mailoutbox):
    digest_user(world)
    assert digests_send_task() == 0
    assert not Delivery.objects.filter(channel=Channel.EMAIL_DIGEST).exists()
    assert DigestRun.objects.get().messages == 0
    assert mailoutbox == []


def test_a_failed_digest_is_shown_on_operations_and_retried(
    client, world, actor, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.MESSAGING_MAX_ATTEMPTS = 1
    user = digest_user(world)
    with django_capture_on_commit_callbacks(execute=True):
        send(world, actor)
    mailoutbox.clear()
    with mock.patch("messaging.transports.mail.send_mail", side_effect=smtplib.SMTPServerDisconnected("relay down")):
        digests_send_task()
    delivery = Delivery.objects.get(channel=Channel.EMAIL_DIGEST)
    assert delivery.status == DeliveryStatus.FAILED

    # the administrators of the user's organisation see it; another organisation's do not
    client.force_login(world.users["admin_b"])
    assert list(client.get(OPERATIONS_URL).context["deliveries"]) == []
    assert client.post(reverse("messaging_ops:delivery_retry", args=[delivery.pk])).status_code == 404
    admin = member(world.municipality_a, MembershipRole.ORGANISATION_ADMIN)
    client.force_login(admin)
    page = client.get(OPERATIONS_URL)
    assert page.status_code == 200
    assert [d.pk for d in page.context["deliveries"]] == [delivery.pk]
    html = page.content.decode()
    assert "relay down" in html and user.email in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging_ops:delivery_retry", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [mail.to for mail in mailoutbox] == [[user.email]]


def test_the_api_lists_a_digest_delivery_without_a_message(
    api_client, world, actor, settings, django_capture_on_commit_callbacks
):
    settings.MESSAGING_MAX_ATTEMPTS = 1
    digest_user(world)
    with django_capture_on_commit_callbacks(execute=True):
        send(world, actor)
    with mock.patch("messaging.transports.mail.send_mail", side_effect=smtplib.SMTPServerDisconnected("relay down")):
        digests_send_task()
    admin = member(world.municipality_a, MembershipRole.ORGANISATION_ADMIN)
    api_client.force_authenticate(admin)
    response = api_client.get("/api/v1/deliveries/", {"channel": Channel.EMAIL_DIGEST})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["channel"], row["message"], row["receiver"], row["status"]) == (
        Channel.EMAIL_DIGEST,
        None,
        None,
        DeliveryStatus.FAILED,
    )


def test_the_admin_lists_and_opens_a_digest_delivery(
    client, world, actor, settings, django_capture_on_commit_callbacks, mailoutbox
):
    from sectors.tests.factories import UserFactory

    settings.MFA_REQUIRED_FOR_ADMINS = False
    user = digest_user(world)
    with django_capture_on_commit_callbacks(execute=True):
        send(world, actor)
    digests_send_task()
    delivery = Delivery.objects.get(channel=Channel.EMAIL_DIGEST)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/admin/messaging/delivery/", {"channel__exact": Channel.EMAIL_DIGEST})
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/admin/messaging/delivery/{delivery.pk}/change/" in html and str(user) in html
    assert client.get(f"/admin/messaging/delivery/{delivery.pk}/change/").status_code == 200
