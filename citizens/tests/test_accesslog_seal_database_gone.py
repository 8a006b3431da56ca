"""The sealer losing the database mid-run (PostgreSQL restarting): the batches sealed before stay
sealed, the one cut off is rolled back whole, the chain still verifies, and the next beat seals
the rest. No retry is needed: the task runs every few seconds."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

from citizens.accesslog import _write_seals, access_log_record, access_log_seal, access_log_verify
from citizens.choices import AccessAction
from citizens.models import AccessLogEntry, AccessLogHead
from citizens.tasks import access_log_seal_task
from tests.dberrors import database_error

pytestmark = pytest.mark.django_db


def test_a_sealer_that_lost_the_database_leaves_a_whole_chain_and_the_next_run_goes_on(world, actor, settings):
    settings.ACCESS_LOG_SEAL_BATCH = 2
    gp = actor("gp_a")
    for _ in range(5):
        access_log_record(actor=gp, citizens=world.citizen, action=AccessAction.VIEW)
    total = AccessLogEntry.objects.count()
    calls = []

    def second_batch_lost(entries):
        calls.append(len(entries))
        if len(calls) == 2:
            _write_seals(entries)  # written, then the connection goes before the head moves
            raise database_error(None)
        return _write_seals(entries)

    with mock.patch("citizens.accesslog._write_seals", side_effect=second_batch_lost), pytest.raises(OperationalError):
        access_log_seal_task.delay()

    assert AccessLogEntry.objects.filter(seq__isnull=False).count() == 2  # the first batch only
    assert AccessLogHead.objects.get().count == 2
    report = access_log_verify()
    assert report.ok and (report.checked, report.unsealed) == (2, total - 2)

    assert access_log_seal_task.delay().get() == total - 2  # the next beat
    report = access_log_verify()
    assert report.ok and (report.checked, report.unsealed) == (total, 0)
    assert access_log_seal() == 0
