"""Messaging services: routing, threads, inbox state, acknowledgements, resends, escalation,
care-plan events and digests (eager, in-process)."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import CareEventKind
from careplans.models import CareEvent
from careplans.services import activity_create
from careplans.tests.helpers import active_plan
from citizens.tests.factories import HospitalStayFactory
from messaging import services
from messaging.choices import (
    AckCode,
    Activity,
    AttemptOutcome,
    Category,
    Channel,
    DeliveryStatus,
    EmailMode,
    MessageType,
    NoticeKind,
    Priority,
    RecipientRole,
)
from messaging.delivery import delivery_run
from messaging.models import Attachment, Delivery, DigestRun, Message, Recipient
from messaging.selectors import inbox, thread_messages
from messaging.services import (
    care_events_dispatch,
    email_preference_set,
    message_assign,
    message_forward,
    message_mark_handled,
    message_mark_read,
    message_receive,
    message_reply,
    unacknowledged_resend,
    unhandled_escalate,
)
from messaging.tasks import digests_send_task
from sectors.choices import MembershipRole

from .helpers import (
    GIF,
    JPEG,
    PDF,
    PNG,
    acknowledgements,
    admit,
    deliveries,
    in_app,
    member,
    notices,
    recipient,
    send,
    upload,
    webhook,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def stay(world):
    """A current stay at the hospital department: a third organisation with a relationship."""
    return HospitalStayFactory(citizen=world.citizen, department=world.department)


@pytest.fixture
def ok_post():
    with mock.patch("messaging.transports.webhook.requests.post") as post:
        post.return_value = mock.Mock(status_code=200, text="ok")
        yield post


def fields_of(exc: ValidationError) -> set[str]:
    return set(exc.value.message_dict)


# --- routing ---------------------------------------------------------------------------------------


def test_send_routes_in_app_email_and_webhook_per_receiver(
    world, actor, stay, ok_post, django_capture_on_commit_callbacks, mailoutbox
):
    users = world.users
    email_preference_set(user=users["assistant_a"], message_type=MessageType.CARE_COMMUNICATION, mode=EmailMode.OFF)
    digest_user = member(world.municipality_a, MembershipRole.HOME_CARE_NURSE)
    email_preference_set(user=digest_user, message_type=MessageType.CARE_COMMUNICATION, mode=EmailMode.DIGEST)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    former = member(world.municipality_a, MembershipRole.HOME_CARE_NURSE, end_date=yesterday)
    # an off preference for another message type changes nothing
    email_preference_set(user=users["hospital_nurse"], message_type=MessageType.NOTIFICATION, mode=EmailMode.OFF)
    webhook(world.municipality_a)
    endpoint = webhook(world.department)
    endpoint.active = False
    endpoint.save()

    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, actor, cc=[world.department])

    assert sorted(Recipient.objects.filter(message=message).values_list("organisation", "role")) == sorted(
        [(world.municipality_a.pk, RecipientRole.PRIMARY), (world.department.pk, RecipientRole.CC)]
    )
    for org in (world.municipality_a, world.department):
        assert deliveries(message, org, Channel.IN_APP).count() == 1
    assert [d.user for d in deliveries(message, world.municipality_a, Channel.EMAIL)] == [users["homecare_a"]]
    assert [d.user for d in deliveries(message, world.department, Channel.EMAIL)] == [users["hospital_nurse"]]
    assert deliveries(message, world.municipality_a, Channel.WEBHOOK).count() == 1
    assert not deliveries(message, world.department, Channel.WEBHOOK).exists()
    assert ok_post.call_count == 1

    recipients_mailed = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients_mailed == sorted([users["homecare_a"].email, users["hospital_nurse"].email])
    for absent in (users["assistant_a"], digest_user, former):
        assert absent.email not in recipients_mailed
    assert not Delivery.objects.filter(message=message).exclude(status=DeliveryStatus.DELIVERED).exists()


def test_no_webhook_delivery_without_an_endpoint(world, actor):
    message = send(world, actor)
    assert deliveries(message).filter(channel=Channel.WEBHOOK).count() == 0
    assert deliveries(message).filter(channel=Channel.IN_APP).count() == 1


def test_receiver_without_care_relationship_is_refused(world, actor):
    with pytest.raises(ValidationError) as exc:
        send(world, actor, receiver=world.municipality_b)
    assert "receiver" in fields_of(exc)
    with pytest.raises(ValidationError) as exc:
        send(world, actor, cc=[world.department])  # no stay: no relationship
    assert "receiver" in fields_of(exc)
    assert not Message.objects.exists()


def test_sender_without_access_is_refused(world, actor):
    with pytest.raises(PermissionDenied):
        send(world, actor, sender="homecare_b")
    assert not Message.objects.exists()


def test_own_organisation_is_refused_as_receiver(world, actor):
    with pytest.raises(ValidationError) as exc:
        send(world, actor, receiver=world.clinic_a)
    assert "receiver" in fields_of(exc)


def test_an_organisation_named_twice_as_copy_is_refused(world, actor, stay):
    with pytest.raises(ValidationError) as exc:
        send(world, actor, cc=[world.department, world.department])
    assert "cc" in fields_of(exc)
    assert not Message.objects.exists()


def test_asap_only_regarding_a_referral(world, actor):
    with pytest.raises(ValidationError) as exc:
        send(world, actor, category=Category.NURSING, priority=Priority.ASAP)
    assert "priority" in fields_of(exc)
    message = send(world, actor, category=Category.REGARDING_REFERRAL, priority=Priority.ASAP)
    assert message.priority == Priority.ASAP


def test_topic_required_for_other(world, actor):
    with pytest.raises(ValidationError) as exc:
        send(world, actor, category=Category.OTHER, topic="  ")
    assert "topic" in fields_of(exc)
    message = send(world, actor, category=Category.OTHER, topic="Nøglesystem")
    assert message.topic == "Nøglesystem"
    assert message.thread.topic == "Nøglesystem"


def test_text_and_category_required(world, actor):
    with pytest.raises(ValidationError) as exc:
        send(world, actor, text="   ")
    assert "text" in fields_of(exc)
    with pytest.raises(ValidationError) as exc:
        send(world, actor, category="gossip")
    assert "category" in fields_of(exc)


def test_pdf_png_jpeg_and_gif_attachments_are_accepted(world, actor):
    files = [upload("brev.pdf", PDF), upload("foto.png", PNG), upload("scan.jpg", JPEG), upload("tegning.gif", GIF)]
    message = send(world, actor, attachments=files)
    stored = list(Attachment.objects.filter(message=message).values_list("filename", "content_type", "size"))
    assert stored == [
        ("brev.pdf", "application/pdf", len(PDF)),
        ("foto.png", "image/png", len(PNG)),
        ("scan.jpg", "image/jpeg", len(JPEG)),
        ("tegning.gif", "image/gif", len(GIF)),
    ]


@pytest.mark.parametrize(
    ("name", "content", "stored"),
    [
        ("scan.png", PDF, "scan.pdf"),
        ("foto.pdf", PNG, "foto.png"),
        ("brev.docx", PDF, "brev.pdf"),
        ("billede.GIF", JPEG, "billede.jpg"),
        ("tegning.jpg", GIF, "tegning.gif"),
        ("Epikrise", PDF, "Epikrise.pdf"),
        ("Brev fra dr. Hansen", PDF, "Brev fra dr. Hansen.pdf"),
        ("SCAN.PDF", PDF, "SCAN.PDF"),
        ("foto.jpeg", JPEG, "foto.jpeg"),
        (".png", PDF, "attachment.pdf"),
        ("x" * 300 + ".png", PDF, "x" * 251 + ".pdf"),
    ],
)
def test_an_attachment_is_named_after_its_content(world, actor, name, content, stored):
    """A name whose extension contradicts the content would open in the wrong program: the
    stored name carries the extension of the type read from the content."""
    message = send(world, actor, attachments=[upload(name, content)])
    assert Attachment.objects.get(message=message).filename == stored


def test_a_text_file_named_pdf_is_refused(world, actor):
    with pytest.raises(ValidationError) as exc:
        send(world, actor, attachments=[upload("x.pdf", b"just some text, not a PDF at all")])
    assert "attachments" in fields_of(exc)
    assert not Message.objects.exists()


def test_message_size_limit(world, actor, settings):
    settings.MESSAGING_MAX_MESSAGE_BYTES = 1024 * 1024
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError) as exc:
        send(world, actor, attachments=[upload("stor.pdf", big)])
    assert "attachments" in fields_of(exc)
    assert not Message.objects.exists()
    assert send(world, actor, attachments=[upload("lille.pdf", PDF)])


# --- threads ---------------------------------------------------------------------------------------


def test_reply_goes_to_the_sender_in_the_same_thread(world, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, actor, category=Category.REGARDING_REFERRAL, topic="Henvisning", priority=Priority.ASAP)
        reply = message_reply(actor=actor("homecare_a"), message=message, text="Vi kommer i morgen.")

    assert reply.type == MessageType.CARE_COMMUNICATION
    assert (reply.thread, reply.parent, reply.activity) == (message.thread, message, Activity.REPLY)
    assert (reply.category, reply.topic, reply.priority) == (
        Category.REGARDING_REFERRAL,
        "Henvisning",
        Priority.ASAP,
    )
    assert reply.sender == world.municipality_a
    assert [(r.organisation, r.role) for r in reply.recipients.all()] == [(world.clinic_a, RecipientRole.PRIMARY)]
    assert [row.message for row in inbox(actor=actor("gp_a"))] == [reply]


def test_only_a_receiver_can_reply(world, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, actor)
    with pytest.raises(ValidationError):
        message_reply(actor=actor("nurse_a"), message=message, text="Til mig selv")  # the sender's side
    with pytest.raises(PermissionDenied):
        message_reply(actor=actor("homecare_b"), message=message, text="Hej")  # an outsider
    assert Message.objects.filter(type=MessageType.CARE_COMMUNICATION).count() == 1


def test_forward_keeps_category_quotes_text_and_copies_attachments(
    world, actor, stay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(
            world, actor, category=Category.MEDICINE, topic="Dosisændring", attachments=[upload("plan.pdf", PDF)]
        )
        forward = message_forward(
            actor=actor("homecare_a"), message=message, receiver=world.department, text="Til orientering"
        )

    assert (forward.thread, forward.parent, forward.activity) == (message.thread, message, Activity.FORWARD)
    assert (forward.category, forward.topic) == (Category.MEDICINE, "Dosisændring")
    assert forward.sender == world.municipality_a
    assert forward.text.startswith("Til orientering")
    assert message.text in forward.text
    assert "Forwarded message from" in forward.text
    assert [r.organisation for r in forward.recipients.all()] == [world.department]
    original = message.attachments.get()
    copy = forward.attachments.get()
    assert (copy.filename, copy.content_type, copy.size, copy.file.name) == (
        "plan.pdf",
        "application/pdf",
        original.size,
        original.file.name,
    )
    assert [row.message for row in inbox(actor=actor("hospital_nurse"))] == [forward]


def test_forward_needs_a_receiver_with_a_relationship(world, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, actor)
    with pytest.raises(ValidationError) as exc:
        message_forward(actor=actor("homecare_a"), message=message, receiver=world.municipality_b)
    assert "receiver" in fields_of(exc)


def test_thread_shows_a_forward_receiver_only_the_forward_and_later(
    world, actor, stay, django_capture_on_commit_callbacks
):
    with freeze_time(timezone.now()) as frozen, django_capture_on_commit_callbacks(execute=True):
        message = send(world, actor)
        frozen.tick(60)
        reply = message_reply(actor=actor("homecare_a"), message=message, text="Modtaget")
        frozen.tick(60)
        forward = message_forward(actor=actor("homecare_a"), message=message, receiver=world.department)
        frozen.tick(60)
        answer = message_reply(actor=actor("hospital_nurse"), message=forward, text="Tak")

    thread = message.thread
    assert list(thread_messages(actor=actor("homecare_a"), thread=thread)) == [message, reply, forward, answer]
    assert list(thread_messages(actor=actor("hospital_nurse"), thread=thread)) == [forward, answer]
    assert list(thread_messages(actor=actor("gp_a"), thread=thread)) == [message, reply]
    assert list(thread_messages(actor=actor("homecare_b"), thread=thread)) == []


def test_reply_to_a_hospital_notification_is_a_care_coordination_message(
    world, actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = admit(world, actor).message
        reply = message_reply(actor=actor("homecare_a"), message=notification, text="Hvornår udskrives borgeren?")

    assert reply.type == MessageType.CARE_COMMUNICATION
    assert reply.category == Category.CARECOORDINATION
    assert reply.priority == Priority.ROUTINE
    assert reply.topic.startswith("STIN")
    assert (reply.thread, reply.parent) == (notification.thread, notification)
    assert [r.organisation for r in reply.recipients.all()] == [world.department]


# --- inbox state -----------------------------------------------------------------------------------


@pytest.fixture
def delivered(world, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return send(world, actor)


def test_read_is_per_user(world, actor, delivered):
    message_mark_read(actor=actor("homecare_a"), message=delivered)
    assert [row.is_read for row in inbox(actor=actor("homecare_a"))] == [True]
    assert [row.is_read for row in inbox(actor=actor("assistant_a"))] == [False]
    message_mark_read(actor=actor("homecare_a"), message=delivered, read=False)
    assert [row.is_read for row in inbox(actor=actor("homecare_a"))] == [False]


def test_handled_is_per_organisation(world, actor, delivered):
    row = message_mark_handled(actor=actor("homecare_a"), message=delivered)
    assert row.handled_by == world.users["homecare_a"]
    assert list(inbox(actor=actor("assistant_a"), filters={"unhandled": "1"})) == []
    assert [r.handled_at is not None for r in inbox(actor=actor("assistant_a"))] == [True]
    with pytest.raises(PermissionDenied):  # the sender has no inbox row to handle
        message_mark_handled(actor=actor("gp_a"), message=delivered)
    message_mark_handled(actor=actor("assistant_a"), message=delivered, handled=False)
    assert len(inbox(actor=actor("homecare_a"), filters={"unhandled": "1"})) == 1


def test_assign_only_to_a_member_of_the_own_organisation(world, actor, delivered):
    with pytest.raises(ValidationError) as exc:
        message_assign(actor=actor("homecare_a"), message=delivered, user=world.users["gp_a"])
    assert "assigned_to" in fields_of(exc)
    row = message_assign(actor=actor("homecare_a"), message=delivered, user=world.users["assistant_a"])
    assert row.assigned_to == world.users["assistant_a"]
    assert [r.message for r in inbox(actor=actor("assistant_a"), filters={"mine": "1"})] == [delivered]
    assert list(inbox(actor=actor("homecare_a"), filters={"mine": "1"})) == []


# --- acknowledgements ------------------------------------------------------------------------------


def test_in_app_delivery_acknowledges_back_to_the_sender(world, actor, django_capture_on_commit_callbacks):
    message = send(world, actor)  # the on-commit enqueue is not run: we deliver by hand
    receiver = recipient(message, world.municipality_a)
    assert receiver.received_at is None

    delivery_run(in_app(message, world.municipality_a).pk)

    receiver.refresh_from_db()
    assert receiver.received_at is not None
    ack = acknowledgements(message).get()
    assert (ack.type, ack.ack_code, ack.sender, ack.thread) == (
        MessageType.ACKNOWLEDGEMENT,
        AckCode.OK,
        world.municipality_a,
        message.thread,
    )
    assert [r.organisation for r in ack.recipients.all()] == [world.clinic_a]
    assert receiver.acknowledged_at is None  # not until the acknowledgement arrives

    delivery_run(in_app(ack, world.clinic_a).pk)

    receiver.refresh_from_db()
    assert receiver.acknowledged_at is not None
    assert receiver.ack_code == AckCode.OK
    assert acknowledgements(message).count() == 1
    # acknowledgements are not shown in the inbox
    assert list(inbox(actor=actor("gp_a"))) == []


def test_a_duplicate_arrival_is_answered_the_same_and_shown_once(world, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(world, actor)
    receiver = recipient(message, world.municipality_a)
    first_received = receiver.received_at

    receipt = message_receive(recipient=receiver)

    assert (receipt.code, receipt.duplicate) == (AckCode.OK, True)
    # a resend's delivery is recognised as the same message too
    resent = services._deliveries_for(receiver, round_=1)
    in_app_resend = next(d for d in resent if d.channel == Channel.IN_APP)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_run(in_app_resend.pk)
    in_app_resend.refresh_from_db()
    assert in_app_resend.status == DeliveryStatus.DELIVERED
    assert in_app_resend.attempt_log.get().outcome == AttemptOutcome.DUPLICATE

    receiver.refresh_from_db()
    assert receiver.duplicates == 2
    assert receiver.received_at == first_received
    assert acknowledgements(message).count() == 1
    assert [row.message for row in inbox(actor=actor("homecare_a"))] == [message]


def test_an_inactive_receiver_answers_fatal_error(world, actor, django_capture_on_commit_callbacks):
    message = send(world, actor)
    world.municipality_a.is_active = False
    world.municipality_a.save()

    with django_capture_on_commit_callbacks(execute=True):
        delivery_run(in_app(message, world.municipality_a).pk)

    ack = acknowledgements(message).get()
    assert ack.ack_code == AckCode.FATAL_ERROR
    assert ack.ack_reason
    receiver = recipient(message, world.municipality_a)
    assert receiver.received_at is None
    assert (receiver.ack_code, receiver.ack_reason) == (AckCode.FATAL_ERROR, ack.ack_reason)
    assert receiver.acknowledged_at is not None


# --- resends ---------------------------------------------------------------------------------------


def test_unacknowledged_messages_are_resent_twice_then_the_sender_is_alerted(world, actor):
    with freeze_time(timezone.now()) as frozen:
        message = send(world, actor)  # the in-app delivery never runs: no acknowledgement
        first_bundle = message.bundle_id
        first_keys = set(deliveries(message).values_list("key", flat=True))

        frozen.tick(datetime.timedelta(minutes=29))
        assert unacknowledged_resend() == {"resent": 0, "alerted": 0}

        frozen.tick(datetime.timedelta(minutes=2))
        assert unacknowledged_resend() == {"resent": 1, "alerted": 0}
        receiver = recipient(message, world.municipality_a)
        assert receiver.resends == 1
        message.refresh_from_db()
        assert message.bundle_id != first_bundle
        second_bundle = message.bundle_id
        keys = set(deliveries(message).values_list("key", flat=True))
        new_keys = keys - first_keys
        assert len(new_keys) == 1  # a new in-app delivery of the same message
        assert deliveries(message, channel=Channel.IN_APP).count() == 2

        frozen.tick(datetime.timedelta(minutes=10))
        assert unacknowledged_resend() == {"resent": 0, "alerted": 0}  # the clock restarted

        frozen.tick(datetime.timedelta(minutes=21))
        assert unacknowledged_resend() == {"resent": 1, "alerted": 0}
        message.refresh_from_db()
        assert message.bundle_id not in (first_bundle, second_bundle)
        assert recipient(message, world.municipality_a).resends == 2
        assert deliveries(message, channel=Channel.IN_APP).count() == 3
        assert len(set(deliveries(message).values_list("key", flat=True))) == deliveries(message).count()

        frozen.tick(datetime.timedelta(minutes=31))
        assert unacknowledged_resend() == {"resent": 0, "alerted": 1}
        assert deliveries(message, channel=Channel.IN_APP).count() == 3
        alert = notices(world.clinic_a, NoticeKind.NOT_ACKNOWLEDGED).get()
        assert alert.citizen == world.citizen

        frozen.tick(datetime.timedelta(hours=2))
        assert unacknowledged_resend() == {"resent": 0, "alerted": 0}
        assert notices(world.clinic_a, NoticeKind.NOT_ACKNOWLEDGED).count() == 1
        assert Message.objects.filter(pk=message.pk).count() == 1


def test_a_resend_that_arrives_settles_the_receiver(world, actor, django_capture_on_commit_callbacks):
    with freeze_time(timezone.now()) as frozen:
        message = send(world, actor)
        frozen.tick(datetime.timedelta(minutes=31))
        with django_capture_on_commit_callbacks(execute=True):
            assert unacknowledged_resend()["resent"] == 1
        receiver = recipient(message, world.municipality_a)
        assert receiver.acknowledged_at is not None
        frozen.tick(datetime.timedelta(hours=3))
        assert unacknowledged_resend() == {"resent": 0, "alerted": 0}


def test_an_acknowledged_message_is_never_resent(world, actor, django_capture_on_commit_callbacks):
    with freeze_time(timezone.now()) as frozen:
        with django_capture_on_commit_callbacks(execute=True):
            message = send(world, actor)
        assert recipient(message, world.municipality_a).acknowledged_at is not None
        count = Delivery.objects.count()
        frozen.tick(datetime.timedelta(hours=5))
        assert unacknowledged_resend() == {"resent": 0, "alerted": 0}
        assert Delivery.objects.count() == count
        assert not notices(world.clinic_a, NoticeKind.NOT_ACKNOWLEDGED).exists()


# --- escalation ------------------------------------------------------------------------------------


def test_unhandled_hospital_notifications_and_asap_messages_remind_coordinators_once(
    world, actor, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.MESSAGING_ESCALATE_AFTER_HOURS = 4
    coordinator = member(world.municipality_a)
    with freeze_time(timezone.now()) as frozen:
        with django_capture_on_commit_callbacks(execute=True):
            notification = admit(world, actor).message
            asap = send(world, actor, category=Category.REGARDING_REFERRAL, priority=Priority.ASAP)
            routine = send(world, actor)
        message_mark_handled(actor=actor("gp_a"), message=notification)  # the clinic's copy is handled

        frozen.tick(datetime.timedelta(hours=3, minutes=59))
        assert unhandled_escalate() == 0

        frozen.tick(datetime.timedelta(minutes=2))
        with django_capture_on_commit_callbacks(execute=True):
            fresh = send(world, actor, category=Category.REGARDING_REFERRAL, priority=Priority.ASAP)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert unhandled_escalate() == 2

        reminders = notices(world.municipality_a, NoticeKind.UNHANDLED_REMINDER)
        assert reminders.count() == 2
        assert {r.source_key for r in reminders} == {
            f"unhandled:{recipient(notification, world.municipality_a).pk}",
            f"unhandled:{recipient(asap, world.municipality_a).pk}",
        }
        assert all(r.recipients.get().assigned_to == coordinator for r in reminders)
        assert sorted(address for mail in mailoutbox for address in mail.to) == [coordinator.email] * 2
        assert not notices(world.clinic_a, NoticeKind.UNHANDLED_REMINDER).exists()
        for quiet in (routine, fresh):
            assert recipient(quiet, world.municipality_a).escalated_at is None

        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert unhandled_escalate() == 0
        frozen.tick(datetime.timedelta(hours=5))
        with django_capture_on_commit_callbacks(execute=True):
            assert unhandled_escalate() == 1  # only the message that was fresh before
        assert notices(world.municipality_a, NoticeKind.UNHANDLED_REMINDER).count() == 3
        assert len(mailoutbox) == 1


# --- care-plan events ------------------------------------------------------------------------------


def test_care_events_become_one_notification_each(world, actor, django_capture_on_commit_callbacks):
    gp = actor("gp_a")
    plan = active_plan(world, gp)
    activity_create(
        actor=gp,
        plan=plan,
        description="Blodtryksmåling i hjemmet",
        responsible_organisation=world.municipality_b,
        weekdays="MO,TH",
    )
    event = CareEvent.objects.get(kind=CareEventKind.HANDOFF_REQUESTED)
    assert event.processed_at is None

    with django_capture_on_commit_callbacks(execute=True):
        assert care_events_dispatch() == 1

    notice = notices(world.municipality_b).get()
    assert notice.notice_kind == NoticeKind.HANDOFF_REQUESTED
    assert notice.citizen == world.citizen
    assert notice.source_key == f"care-event:{event.pk}"
    assert notice.link.endswith(f"/{plan.pk}/") or str(plan.pk) in notice.link
    assert world.clinic_a.name in notice.text
    event.refresh_from_db()
    assert event.processed_at is not None
    assert [row.message for row in inbox(actor=actor("homecare_b"))] == [notice]

    assert care_events_dispatch() == 0
    assert Message.objects.filter(type=MessageType.NOTIFICATION).count() == 1


# --- digests ---------------------------------------------------------------------------------------


def test_digest_counts_unread_messages_once_a_day_without_health_data(
    world, actor, settings, django_capture_on_commit_callbacks, mailoutbox
):
    homecare = world.users["homecare_a"]
    email_preference_set(user=homecare, message_type=MessageType.CARE_COMMUNICATION, mode=EmailMode.DIGEST)
    with freeze_time(timezone.now()):
        with django_capture_on_commit_callbacks(execute=True):
            first = send(world, actor, category=Category.MEDICINE, text="Ny dosis Marevan")
            send(world, actor, category=Category.MEDICINE, text="Husk INR-måling")
            send(world, actor, category=Category.MEDICINE, text="Tredje besked")
        assert homecare.email not in [address for mail in mailoutbox for address in mail.to]
        message_mark_read(actor=actor("homecare_a"), message=first)
        mailoutbox.clear()

        assert digests_send_task() == 1
        assert digests_send_task() == 0

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [homecare.email]
    content = f"{mail.subject}\n{mail.body}"
    assert "2" in mail.subject
    citizen = world.citizen
    for secret in (citizen.cpr, citizen.cpr[:6], citizen.first_name, citizen.last_name, "Marevan", "INR"):
        assert secret not in content
    for category in ("medicine", "Medicin", "Medicine"):
        assert category not in content
    assert DigestRun.objects.get(user=homecare).messages == 2


def test_digest_next_day_runs_again(world, actor, django_capture_on_commit_callbacks, mailoutbox):
    homecare = world.users["homecare_a"]
    email_preference_set(user=homecare, message_type=MessageType.CARE_COMMUNICATION, mode=EmailMode.DIGEST)
    with freeze_time(timezone.now()) as frozen:
        with django_capture_on_commit_callbacks(execute=True):
            send(world, actor)
        mailoutbox.clear()
        digests_send_task()
        frozen.tick(datetime.timedelta(hours=20))
        with django_capture_on_commit_callbacks(execute=True):
            send(world, actor)
        frozen.tick(datetime.timedelta(hours=5))
        assert digests_send_task() == 1
    assert [mail.to for mail in mailoutbox if mail.to == [homecare.email]] == [[homecare.email]] * 2
    assert DigestRun.objects.filter(user=homecare).count() == 2
