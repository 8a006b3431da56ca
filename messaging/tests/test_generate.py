"""Synthetic messages for the synthetic region (``generate_region`` with ``messaging.generate``)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from citizens.access import Actor
from citizens.generate import generate_region
from citizens.models import HospitalStay
from messaging.choices import Channel, DeliveryStatus, MessageType
from messaging.generate import MESSAGES_PER_CITIZEN, MessageGenerator
from messaging.models import Delivery, DeliveryAttempt, HospitalEvent, Message, Recipient, Thread
from messaging.selectors import inbox
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

CITIZENS = 300


@pytest.fixture
def region(db):
    """The messages alone (without the care plans, which take longer to make)."""
    result = generate_region(citizens=CITIZENS, seed=3, extensions=[MessageGenerator])
    assert result.extensions["messages"]["messages"] == Message.objects.count()


def test_generate_region_adds_the_messages(db, settings):
    settings.SMARTCARE_REGION_EXTENSIONS = ["messaging.generate.MessageGenerator"]
    out = StringIO()
    call_command("generate_region", citizens=20, seed=4, stdout=out)
    assert "Messages:" in out.getvalue()
    assert Message.objects.exists()


def test_the_volume_scales_with_the_citizens(region):
    messages = Message.objects.count()
    assert abs(messages - MESSAGES_PER_CITIZEN * CITIZENS) <= 3
    notifications = Message.objects.filter(type=MessageType.HOSPITAL_NOTIFICATION).count()
    stays = HospitalStay.objects.count() + HospitalStay.objects.filter(discharged_at__isnull=False).count()
    assert notifications == stays == HospitalEvent.objects.count()
    assert Message.objects.filter(type=MessageType.CARE_COMMUNICATION).count() == messages - notifications


def test_every_message_is_received_and_delivered_once(region):
    recipients = Recipient.objects.count()
    assert recipients >= Message.objects.count()
    assert Recipient.objects.filter(received_at__isnull=True).count() == 0
    assert Recipient.objects.filter(acknowledged_at__isnull=True).count() == 0
    deliveries = Delivery.objects.filter(channel=Channel.IN_APP, status=DeliveryStatus.DELIVERED)
    assert deliveries.count() == Delivery.objects.count() == recipients == DeliveryAttempt.objects.count()
    assert not Recipient.objects.values("message", "organisation").annotate(n=Count("pk")).filter(n__gt=1).exists()
    # The thread of a message is about its citizen.
    assert not Message.objects.exclude(thread__citizen_id=F("citizen_id")).exists()
    assert Thread.objects.count() <= Message.objects.count()


def test_the_messages_show_in_the_municipality_s_inbox(region):
    citizen = Recipient.objects.filter(organisation=F("message__citizen__municipality")).first().message.citizen
    membership = MembershipFactory(organisation=citizen.municipality, role=MembershipRole.HOME_CARE_NURSE)
    actor = Actor(user=membership.user, acting=resolve(membership.user, citizen.municipality.pk))
    shown = inbox(actor=actor)
    assert shown.filter(message__citizen=citizen).exists()
    assert shown.count() == Recipient.objects.filter(organisation=citizen.municipality).count()
