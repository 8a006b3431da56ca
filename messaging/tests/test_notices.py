"""The portal's own notices: a raised alert is an e-mail notice through the outbox, never an inbox
message; a hospital event tells the coordinating organisation of the citizen's open care plans,
once per event; a hospital event has one label everywhere."""

from __future__ import annotations

import datetime
import smtplib
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from freezegun import freeze_time

from careplans.choices import ThresholdCode
from careplans.models import Alert
from careplans.monitoring import observation_record, threshold_set
from careplans.services import activity_create, handoffs_flag_overdue
from careplans.tests.helpers import active_plan, blood_pressure
from messaging import choices, selectors
from messaging.choices import AttemptOutcome, Channel, DeliveryStatus, EmailMode, MessageType, NoticeKind
from messaging.delivery import delivery_run
from messaging.labels import hospital_event_label
from messaging.models import Delivery, EmailNotice, Message, Recipient
from messaging.services import (
    care_events_dispatch,
    email_preference_set,
    hospital_event_cancel,
    hospital_event_correct,
    message_reply,
    notice_send,
)
from sectors.choices import MembershipRole

from .helpers import admit, member, notices

pytestmark = pytest.mark.django_db


# --- labels --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "revision", "label"),
    [
        (choices.HospitalCode.STIN, choices.Revision.NEW, "Admitted"),
        (choices.HospitalCode.STIN, choices.Revision.CANCELLATION, "Cancelled: admission"),
        (choices.HospitalCode.STIN, choices.Revision.CORRECTION, "Corrected: admission"),
        (choices.HospitalCode.SLHJ, choices.Revision.NEW, "Discharged home"),
        (choices.HospitalCode.SLHJ, choices.Revision.CANCELLATION, "Cancelled: discharge"),
        (choices.HospitalCode.MORS, choices.Revision.CORRECTION, "Corrected: death"),
    ],
)
def test_a_hospital_event_is_labelled_by_its_code_and_revision(code, revision, label):
    assert hospital_event_label(code, revision) == label


def test_a_revised_admission_is_called_so_in_the_message_and_the_reply_topic(world, actor, deliver):
    event = deliver(admit, world, actor)
    corrected = deliver(
        hospital_event_correct, actor=actor("hospital_nurse"), event=event, occurred_at=event.occurred_at
    )
    assert (corrected.label, str(corrected.message)) == ("Corrected: admission", "RE_STIN Corrected: admission")
    reply = deliver(message_reply, actor=actor("homecare_a"), message=corrected.message, text="Modtaget.")
    assert reply.topic == "RE_STIN Corrected: admission"
    cancelled = deliver(hospital_event_cancel, actor=actor("hospital_nurse"), event=corrected)
    assert (cancelled.label, str(cancelled.message)) == ("Cancelled: admission", "AN_STIN Cancelled: admission")


# --- alerts: e-mail only -------------------------------------------------------------------------


def _raise_red_alert(world, actor):
    gp = actor("gp_a")
    active_plan(world, gp)  # coordinated by clinic A: the alert goes to clinic A
    threshold_set(
        actor=gp, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="Mål < 140", yellow_high=150, red_high=170
    )
    observation_record(actor=gp, citizen=world.citizen, reading=blood_pressure("190", "85"))
    alert = Alert.objects.get()
    assert (alert.severity, alert.organisation) == ("red", world.clinic_a)
    return alert


def test_a_red_alert_is_no_inbox_message_but_an_e_mail_notice_for_who_wants_it(
    world, actor, deliver, mailoutbox, settings
):
    settings.SMARTCARE_BASE_URL = "https://smartcare.example.org"
    wants = world.users["gp_a"]
    quiet = world.users["nurse_a"]
    email_preference_set(user=quiet, message_type=MessageType.NOTIFICATION, mode=EmailMode.OFF)
    _raise_red_alert(world, actor)
    messages_before = Message.objects.count()

    assert deliver(care_events_dispatch) == 1
    assert deliver(care_events_dispatch) == 0

    assert Message.objects.count() == messages_before
    assert not Message.objects.filter(type=MessageType.NOTIFICATION).exists()
    assert not Recipient.objects.filter(message__type=MessageType.NOTIFICATION).exists()
    notice = EmailNotice.objects.get()
    assert (notice.organisation, notice.kind) == (world.clinic_a, NoticeKind.ALERT_RAISED)
    delivery = Delivery.objects.get(channel=Channel.EMAIL_NOTICE)
    assert (delivery.user, delivery.email_notice, delivery.status) == (wants, notice, DeliveryStatus.DELIVERED)
    assert [attempt.outcome for attempt in delivery.attempt_log.all()] == [AttemptOutcome.OK]
    assert [mail.to for mail in mailoutbox] == [[wants.email]]
    mail = mailoutbox[0]
    with translation.override(getattr(wants, "language", None) or settings.LANGUAGE_CODE):  # the user's language
        subject = gettext("SmartCare: new alert for %(org)s") % {"org": world.clinic_a.name}
    assert mail.subject == subject
    assert "https://smartcare.example.org/care/alerts/" in mail.body
    content = f"{mail.subject}\n{mail.body}"
    citizen = world.citizen
    for secret in (citizen.cpr, citizen.first_name, citizen.last_name, "190", "Red", "red alert", "Systolic"):
        assert secret not in content
    for name in ("gp_a", "nurse_a"):
        assert selectors.inbox(actor=actor(name)).count() == 0
        assert selectors.unread_count(actor=actor(name)) == 0


def test_an_alert_e_mail_notice_is_retried_and_recorded(world, actor, django_capture_on_commit_callbacks):
    _raise_red_alert(world, actor)
    with mock.patch("messaging.transports.mail.send_mail", side_effect=smtplib.SMTPServerDisconnected("gone")):
        with django_capture_on_commit_callbacks(execute=False):
            care_events_dispatch()
        delivery = Delivery.objects.get(channel=Channel.EMAIL_NOTICE, user=world.users["gp_a"])
        outcome = delivery_run(delivery.pk)
    assert outcome.status == DeliveryStatus.PENDING and outcome.retry_in == 30
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert [a.outcome for a in delivery.attempt_log.all()] == [AttemptOutcome.TRANSIENT]
    # The organisation's administrators follow it on the operations page; another organisation does not.
    assert delivery in selectors.deliveries(actor=actor("gp_a"))
    assert delivery not in selectors.deliveries(actor=actor("gp_b"))


def test_alert_notices_already_in_the_inbox_are_not_listed_nor_counted(world, actor, deliver):
    old, handoff = (
        deliver(notice_send, organisation=world.clinic_a, citizen=world.citizen, kind=kind, text=text, key=key)
        for kind, text, key in [
            (NoticeKind.ALERT_RAISED, "New alert: ", "care-event:old"),
            (NoticeKind.HANDOFF_REQUESTED, "Kommunen beder jer overtage: Blodtryksmåling", "care-event:handoff"),
        ]
    )
    assert Recipient.objects.get(message=old).received_at is not None
    gp = actor("gp_a")
    assert [row.message for row in selectors.inbox(actor=gp)] == [handoff]
    assert selectors.unread_count(actor=gp) == 1
    assert selectors.citizen_messages(actor=gp, citizen=world.citizen) == [handoff]


# --- hospital events: the care plans' coordinators --------------------------------------------------


def test_a_hospital_event_tells_a_coordinator_outside_the_receivers_once_per_event(world, actor, deliver):
    coordinator = member(world.clinic_b, MembershipRole.GP, user__phone="+45 11 22 33 44")
    plan = active_plan(world, actor("gp_a"), coordinating_organisation=world.clinic_b, coordinator=coordinator)

    event = deliver(admit, world, actor)

    notice = notices(world.clinic_b, NoticeKind.HOSPITAL_EVENT).get()
    assert notice.sender == world.department
    assert notice.link == f"/care/plans/{plan.pk}/"
    assert notice.recipients.get().assigned_to == coordinator
    assert notice.text.startswith(f"Admitted at {world.department.name}, ")
    assert notice.text.endswith("You coordinate the citizen's care plan.")
    assert notice.source_key == f"hospital-coordinator:{event.message_id}:{world.clinic_b.pk}"
    # The municipality and the GP clinic have the notification itself: no second notice.
    for told in (world.municipality_a, world.clinic_a):
        assert not notices(told, NoticeKind.HOSPITAL_EVENT).exists()
    assert [row.message for row in selectors.inbox(actor=actor("gp_b"))] == [notice]

    corrected = deliver(
        hospital_event_correct, actor=actor("hospital_nurse"), event=event, occurred_at=event.occurred_at
    )
    texts = list(notices(world.clinic_b, NoticeKind.HOSPITAL_EVENT).order_by("sent_at").values_list("text", flat=True))
    assert len(texts) == 2 and texts[1].startswith("Corrected: admission at ")
    assert corrected.message.source_key is None


def test_no_notice_when_the_coordinator_is_a_receiver_or_there_is_no_open_plan(world, actor, deliver):
    active_plan(world, actor("gp_a"))  # coordinated by the GP clinic, which gets a copy
    deliver(admit, world, actor)
    assert not Message.objects.filter(notice_kind=NoticeKind.HOSPITAL_EVENT).exists()


# --- hand-offs stay in the inbox, and say what they are about ------------------------------------


def test_an_overdue_request_notice_names_the_care_plan(world, actor, deliver):
    gp = actor("gp_a")
    start = timezone.now()
    with freeze_time(start):
        plan = active_plan(world, gp, title="Hjertesvigt-forløb")
        activity_create(
            actor=gp, plan=plan, description="Besøg", responsible_organisation=world.municipality_b, weekdays="MO"
        )
        deliver(care_events_dispatch)
    with freeze_time(start + datetime.timedelta(hours=73)):
        assert handoffs_flag_overdue() == 1
        deliver(care_events_dispatch)
    notice = notices(world.clinic_a, NoticeKind.HANDOFF_OVERDUE).get()
    assert (
        notice.text == f"{world.municipality_b.name} has not answered your request about “Hjertesvigt-forløb” in time."
    )
    assert notice in [row.message for row in selectors.inbox(actor=gp)]


def test_a_failed_alert_e_mail_is_listed_for_the_organisations_admin_and_sent_again(
    client, world, actor, django_capture_on_commit_callbacks
):
    admin = member(world.clinic_a, MembershipRole.ORGANISATION_ADMIN)
    _raise_red_alert(world, actor)
    refused = smtplib.SMTPRecipientsRefused({world.users["gp_a"].email: (550, b"no such user")})
    with (
        mock.patch("messaging.transports.mail.send_mail", side_effect=refused),
        django_capture_on_commit_callbacks(execute=True),
    ):
        care_events_dispatch()
    failed = Delivery.objects.get(channel=Channel.EMAIL_NOTICE, user=world.users["gp_a"])
    assert failed.status == DeliveryStatus.FAILED

    client.force_login(admin)
    page = client.get(reverse("messaging_ops:operations"), {"status": "failed"})
    assert page.status_code == 200
    every = set(Delivery.objects.filter(channel=Channel.EMAIL_NOTICE).values_list("pk", flat=True))
    assert len(every) == 3  # gp_a, nurse_a and the administrator want alerts by e-mail
    assert {d.pk for d in page.context["deliveries"]} == every
    row = page.content.decode().split(f'id="delivery-{failed.pk}"')[1].split("</tr>")[0]
    assert world.clinic_a.name in row and "Alert raised" in row
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging_ops:delivery_retry", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.DELIVERED

    client.force_login(world.users["admin_b"])  # another organisation's administrator
    assert client.post(reverse("messaging_ops:delivery_retry", args=[failed.pk])).status_code == 404
