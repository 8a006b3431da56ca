"""A received message is a care relationship of the receiver for MESSAGE_RELATIONSHIP_DAYS after the
thread's last message, and
hospital events keep the stays' relationships; ``relationships_check`` agrees after each."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from freezegun import freeze_time

from citizens.access import access_reason, organisation_sees
from citizens.choices import AccessReason, ObjectionTarget, RelationshipKind
from citizens.models import CareRelationship
from citizens.relationships import live, relationships_recompute
from citizens.services import citizen_update, objection_record
from messaging.choices import HospitalCode
from messaging.services import message_receive, message_reply

from .helpers import admit, recipient, send

pytestmark = pytest.mark.django_db


def test_receiving_a_message_writes_a_row_for_the_receiver(world, actor):
    message = send(world, actor)
    message_receive(recipient=recipient(message, world.municipality_a))

    row = CareRelationship.objects.get(kind=RelationshipKind.RECEIVED_MESSAGE)
    assert (row.organisation_id, row.citizen_id, row.created_via) == (
        world.municipality_a.pk,
        world.citizen.pk,
        "message",
    )
    assert row.valid_to - row.valid_from == datetime.timedelta(days=90)
    assert not relationships_recompute()

    # After a move the receiver keeps the relationship for the rest of the window, not beyond.
    citizen_update(actor=actor("gp_a"), citizen=world.citizen, municipality=world.municipality_b)
    homecare_a = actor("homecare_a")
    assert access_reason(homecare_a, world.citizen)[0] == AccessReason.RECEIVED_MESSAGE
    # ... which lets it see the citizen, not receive more messages about them.
    assert not organisation_sees(world.municipality_a, world.citizen)
    with freeze_time(row.valid_to + datetime.timedelta(seconds=1)):
        assert access_reason(homecare_a, world.citizen) is None
    assert not relationships_recompute()


def test_a_conversation_that_goes_on_keeps_the_receivers_relationship(world, actor):
    """The relationship ends MESSAGE_RELATIONSHIP_DAYS after the thread's last message, not after
    the first one: the municipality that received the question keeps it while the thread lives."""
    start = timezone.now()
    message = send(world, actor)
    message_receive(recipient=recipient(message, world.municipality_a))
    with freeze_time(start + datetime.timedelta(days=60)):
        reply = message_reply(actor=actor("homecare_a"), message=message, text="Vi kigger på det.")
        message_receive(recipient=recipient(reply, world.clinic_a))
    first = CareRelationship.objects.get(kind=RelationshipKind.RECEIVED_MESSAGE, organisation=world.municipality_a)
    assert first.valid_to - start >= datetime.timedelta(days=150)
    assert first.valid_from - start < datetime.timedelta(minutes=1)
    assert not relationships_recompute()
    citizen_update(actor=actor("gp_a"), citizen=world.citizen, municipality=world.municipality_b)
    with freeze_time(start + datetime.timedelta(days=120)):
        assert access_reason(actor("homecare_a"), world.citizen)[0] == AccessReason.RECEIVED_MESSAGE


def test_an_objection_removes_the_message_relationship(world, actor):
    message = send(world, actor)
    message_receive(recipient=recipient(message, world.municipality_a))
    citizen_update(actor=actor("gp_a"), citizen=world.citizen, municipality=world.municipality_b)
    objection_record(
        actor=actor("gp_a"),
        citizen=world.citizen,
        target=ObjectionTarget.ORGANISATION,
        organisation=world.municipality_a,
    )
    assert access_reason(actor("homecare_a"), world.citizen) is None


def test_hospital_events_keep_the_stays_rows(world, actor):
    event = admit(world, actor)
    assert access_reason(actor("hospital_nurse"), world.citizen)[0] == AccessReason.HOSPITAL_STAY
    assert not relationships_recompute()
    admit(world, actor, code=HospitalCode.SLHJ, hours_ago=1)
    assert access_reason(actor("hospital_nurse"), world.citizen)[0] == AccessReason.HOSPITAL_RECENT
    assert not relationships_recompute()
    assert event.stay_id is not None
    assert CareRelationship.objects.filter(live(timezone.now()), kind=RelationshipKind.HOSPITAL_STAY).count() == 1
