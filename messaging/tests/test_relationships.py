"""A received message is a care relationship of the receiver for CITIZEN_ACCESS_MESSAGE_DAYS, and
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
from messaging.services import message_receive

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
    assert row.valid_to - row.valid_from == datetime.timedelta(days=30)
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
