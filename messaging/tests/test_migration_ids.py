"""Migrations 0012 to 0014 (issue #14): the UUID columns holding MessageHeader and Bundle ids
become text, every message gets its MessageHeader id, all in the form ``str(uuid)`` gives (the
form the portal exported and compared ids in), on SQLite as on PostgreSQL; and back."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from citizens.tests.factories import CitizenFactory
from messaging.ids import message_key
from sectors.tests.factories import GPClinicFactory

BEFORE = [("messaging", "0011_message_bundle_index")]
AFTER = [("messaging", "0014_message_header_id_required")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _message(apps, *, citizen, sender, bundle_id: uuid.UUID, message_id: uuid.UUID | None = None, **fields):
    Thread = apps.get_model("messaging", "Thread")
    Message = apps.get_model("messaging", "Message")
    thread = Thread.objects.create(citizen_id=citizen.pk)
    return Message.objects.create(
        id=message_id or uuid.uuid4(),
        type="care_communication",
        thread=thread,
        citizen_id=citizen.pk,
        sender_id=sender.pk,
        category="nursing",
        text="Hej",
        bundle_id=bundle_id,
        sent_at=timezone.now(),
        **fields,
    )


@pytest.mark.django_db(transaction=True)
def test_existing_ids_are_kept_in_the_form_the_portal_wrote_and_can_go_back():
    clinic, citizen = GPClinicFactory(), CitizenFactory()
    try:
        old = _migrate(BEFORE)
        message_id, bundle_id = uuid.uuid4(), uuid.uuid4()
        _message(old, citizen=citizen, sender=clinic, bundle_id=bundle_id, message_id=message_id)
        old.get_model("messaging", "FhirReceipt").objects.create(
            bundle_id=str(bundle_id), header_id=message_id, sender_id=clinic.pk, message_id=message_id,
            ack_code="ok", ack_bundle={}, received_at=timezone.now(),
        )  # fmt: skip

        new = _migrate(AFTER)
        Message = new.get_model("messaging", "Message")
        message = Message.objects.get(pk=message_id)
        assert (message.header_id, message.bundle_id) == (str(message_id), str(bundle_id))
        assert Message.objects.get(header_id=str(message_id)).pk == message_id  # found by the string
        receipt = new.get_model("messaging", "FhirReceipt").objects.get()
        assert receipt.header_id == str(message_id)

        # a message that came with ids of another form, then back to UUID columns
        received = _message(
            new, citizen=citizen, sender=clinic, message_id=message_key("medcom.1"), header_id="medcom.1",
            bundle_id="medcom-bundle.1",
        )  # fmt: skip
        old = _migrate(BEFORE)
        Message = old.get_model("messaging", "Message")
        assert Message.objects.get(pk=message_id).bundle_id == bundle_id
        assert Message.objects.get(pk=received.pk).bundle_id == message_key("medcom-bundle.1")
        assert old.get_model("messaging", "FhirReceipt").objects.get().header_id == message_id
    finally:
        _latest()
