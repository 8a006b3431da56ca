"""The demo messages (``messaging.demo``): made through the services, delivered, idempotent."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from citizens.access import Actor
from messaging.choices import Activity, Category, DeliveryStatus, HospitalCode, MessageType, Priority
from messaging.demo import messaging_demo_load
from messaging.models import Delivery, DeliveryAttempt, HospitalEvent, Message, ReadMark, Recipient, Thread
from messaging.selectors import inbox, sent_box
from sectors.acting import resolve
from sectors.models import User
from sectors.reference import reference_data_load


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Every demo loader (``SMARTCARE_DEMO_LOADERS``, as ``load_demo_data`` runs them) once for the
    module, in a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        reference_data_load()
        counts = {path: import_string(path)() for path in settings.SMARTCARE_DEMO_LOADERS}
        yield counts["messaging.demo.messaging_demo_load"]
        transaction.set_rollback(True)


def persona(email: str) -> Actor:
    user = User.objects.get(email=email)
    return Actor(user=user, acting=resolve(user, None))


def test_the_demo_data_has_the_care_relationships_of_its_facts(demo, db):
    from citizens.relationships import relationships_recompute

    assert not relationships_recompute()


def test_the_odense_home_care_nurse_has_correspondence_and_hospital_notifications(demo, db):
    nurse = persona("homecare.odense@smartcare.example")
    rows = list(inbox(actor=nurse))
    types = Counter(r.message.type for r in rows)

    assert types[MessageType.CARE_COMMUNICATION] >= 5
    assert types[MessageType.HOSPITAL_NOTIFICATION] == 3
    codes = [r.message.hospital_code for r in rows if r.message.type == MessageType.HOSPITAL_NOTIFICATION]
    assert codes == [HospitalCode.STAA, HospitalCode.SLHJ, HospitalCode.STIN]  # newest first
    unread = [r for r in rows if not r.is_read]
    handled = [r for r in rows if r.handled_at]
    assert 2 <= len(unread) < len(rows)
    assert 2 <= len(handled) < len(rows)
    assert any(r.message.priority == Priority.ASAP and not r.is_read and not r.handled_at for r in rows)
    assert len(inbox(actor=nurse, filters={"unread": "1"})) == len(unread)
    assert {r.message.sender for r in rows} == {
        persona("gp@smartcare.example").organisation,
        persona("nurse.ouh@smartcare.example").organisation,
    }


def test_the_story_is_spread_over_the_last_days(demo, db):
    nurse = persona("homecare.odense@smartcare.example")
    rows = list(inbox(actor=nurse))
    now = timezone.now()

    assert all(now - datetime.timedelta(days=6) < r.received_at < now for r in rows)
    assert rows[0].received_at > now - datetime.timedelta(hours=4)  # the acute ambulant start
    assert rows[-1].received_at < now - datetime.timedelta(days=4)  # the change of medicine, five days ago
    categories = {r.message.category for r in rows if r.message.type == MessageType.CARE_COMMUNICATION}
    assert len(categories) >= 4
    for row in rows:
        assert row.acknowledged_at is not None and row.acknowledged_at >= row.received_at
    reads = ReadMark.objects.filter(user=nurse.user).select_related("message")
    assert reads and all(mark.read_at >= mark.message.sent_at for mark in reads)


def test_the_gp_clinic_sent_threads_that_were_answered(demo, db):
    gp = persona("gp@smartcare.example")
    sent = list(sent_box(actor=gp))
    threads = {m.thread_id for m in sent}
    replies = Message.objects.filter(thread_id__in=threads, activity=Activity.REPLY).exclude(sender=gp.organisation)

    assert len([m for m in sent if m.activity == Activity.NEW]) >= 4
    assert replies.exists()
    answered = replies.values_list("thread_id", flat=True).first()
    handled = Recipient.objects.filter(message__thread_id=answered, message__sender=gp.organisation)
    assert handled.filter(handled_at__isnull=False).exists()  # the reply-and-handled thread
    # the GP answered the municipality's questions too, and was copied on the hospital's notices
    assert Message.objects.filter(sender=gp.organisation, activity=Activity.REPLY).count() >= 2
    gp_inbox = list(inbox(actor=gp))
    assert sum(r.message.type == MessageType.HOSPITAL_NOTIFICATION for r in gp_inbox) == 3
    assert any(m.category == Category.REGARDING_REFERRAL and m.priority == Priority.ASAP for m in sent)


def test_hospital_events_keep_the_stays_in_step(demo, db):
    ward = persona("nurse.ouh@smartcare.example")
    events = HospitalEvent.objects.filter(department=ward.organisation).select_related("stay")
    by_code = {e.code: e for e in events}

    assert set(by_code) == {HospitalCode.STIN, HospitalCode.SLHJ, HospitalCode.STAA}
    assert by_code[HospitalCode.STIN].citizen_id == by_code[HospitalCode.SLHJ].citizen_id
    assert by_code[HospitalCode.STIN].stay.discharged_at == by_code[HospitalCode.SLHJ].occurred_at
    assert by_code[HospitalCode.STAA].stay.discharged_at is None
    assert all(e.recorded_at > e.occurred_at for e in events)
    assert all(e.citizen.gp_clinic_id and e.citizen.municipality.municipality_code == "0461" for e in events)
    # the municipality answered the admission: the ward has that in its inbox
    assert [r.message.category for r in inbox(actor=ward)] == [Category.CARECOORDINATION]


def test_the_other_demo_inboxes_are_not_empty(demo, db):
    assert inbox(actor=persona("homecare.svendborg@smartcare.example")).exists()
    assert inbox(actor=persona("gp2@smartcare.example")).exists()


def test_every_delivery_was_delivered(demo, db):
    assert Delivery.objects.exists()
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert DeliveryAttempt.objects.count() == Delivery.objects.count()
    assert not Recipient.objects.filter(received_at=None).exists()
    assert not Recipient.objects.filter(acknowledged_at=None, message__type=MessageType.CARE_COMMUNICATION).exists()
    assert demo["deliveries"] == Delivery.objects.count()


def test_a_second_run_creates_nothing(demo, db):
    models = (Thread, Message, Recipient, Delivery, DeliveryAttempt, HospitalEvent, ReadMark)
    counts = [m.objects.count() for m in models]

    assert messaging_demo_load() == Counter()
    assert [m.objects.count() for m in models] == counts


def test_refuses_to_run_in_production(db, settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="production"):
        messaging_demo_load()
