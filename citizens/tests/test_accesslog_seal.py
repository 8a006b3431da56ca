"""The access log off the hot path: a request only inserts its entries (one INSERT, no lock on the
chain's head), the sealer chains them in the background, and ``verify_access_log`` still finds
an entry altered, removed or inserted, while counting unsealed entries as just that."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citizens.accesslog import GENESIS, access_log_record, access_log_seal, access_log_verify, entry_digest
from citizens.choices import AccessAction, AccessReason
from citizens.models import AccessLogEntry, AccessLogHead
from citizens.selectors import citizen_get, citizen_page
from citizens.services import break_glass_open
from citizens.tasks import access_log_seal_task
from citizens.tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db

ENTRY_TABLE = AccessLogEntry._meta.db_table
HEAD_TABLE = AccessLogHead._meta.db_table
FORGE_SEAL = "UPDATE citizens_accesslogentry SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s"


def _append(actor, citizen, n=1, detail=""):
    for _ in range(n):
        access_log_record(actor=actor, citizens=citizen, action=AccessAction.VIEW, detail=detail)


def _chain():
    return list(AccessLogEntry.objects.filter(seq__isnull=False).order_by("seq"))


def _raw(sql, params=()):
    """Tamper behind the application's back, past the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks, or ALTER refuses
            cursor.execute(f"ALTER TABLE {ENTRY_TABLE} DISABLE TRIGGER citizens_accesslog_append_only")
        cursor.execute(sql, params)


# --- appending ---------------------------------------------------------------------------------------


def test_a_logged_list_is_one_insert_and_never_touches_the_head(world, actor):
    gp = actor("gp_a")
    CitizenFactory.create_batch(3, gp_clinic=world.clinic_a)
    outsider = CitizenFactory(gp_clinic=world.clinic_b, municipality=world.municipality_b)
    break_glass_open(actor=gp, cpr=outsider.cpr, reason="Akut indlagt, skal bruge medicinlisten")
    access_log_seal()

    with CaptureQueriesContext(connection) as queries:
        page = citizen_page(actor=gp, filters={}, page_size=10)

    statements = [q["sql"] for q in queries.captured_queries]
    inserts = [sql for sql in statements if sql.startswith(f'INSERT INTO "{ENTRY_TABLE}"')]
    assert len(inserts) == 1
    assert not [sql for sql in statements if "FOR UPDATE" in sql or HEAD_TABLE in sql]
    logged = AccessLogEntry.objects.filter(action=AccessAction.LIST, seq__isnull=True)
    assert {e.citizen_id: e.reason for e in logged} == {
        c.pk: AccessReason.BREAK_THE_GLASS if c.pk == outsider.pk else AccessReason.GP_CLINIC for c in page.object_list
    }


def test_an_overview_read_never_touches_the_head(world, actor):
    with CaptureQueriesContext(connection) as queries:
        citizen_get(actor=actor("gp_a"), pk=world.citizen.pk)

    assert not [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"] or HEAD_TABLE in q["sql"]]


def test_an_appended_entry_is_unsealed_until_the_sealer_runs(world, actor):
    _append(actor("gp_a"), world.citizen)
    entry = AccessLogEntry.objects.get()
    assert (entry.seq, entry.prev_hash, entry.hash) == (None, None, None)
    assert AccessLogHead.objects.get().count == 0


def test_who_has_seen_my_data_shows_an_entry_before_it_is_sealed(client, world, actor):
    _append(actor("homecare_a"), world.citizen, detail="overview")
    client.force_login(world.users["gp_a"])

    response = client.get(reverse("citizens:access_report", args=[world.citizen.pk]))

    assert response.status_code == 200
    assert world.municipality_a.name in [g.organisation_name for g in response.context["groups"]]
    assert AccessLogEntry.objects.filter(seq__isnull=True).count() == 2  # the home-care read and this report


# --- sealing ------------------------------------------------------------------------------------------


def test_the_sealer_chains_entries_in_id_order_and_moves_the_head(world, actor):
    _append(actor("gp_a"), world.citizen, 2)
    _append(actor("homecare_a"), world.citizen, 2)

    assert access_log_seal() == 4

    chain = _chain()
    assert [e.pk for e in chain] == sorted(e.pk for e in chain)
    assert [e.seq for e in chain] == [1, 2, 3, 4]
    assert chain[0].prev_hash == GENESIS
    for before, entry in zip([None, *chain], chain, strict=False):
        prev = before.hash if before else GENESIS
        assert entry.prev_hash == prev and entry.hash == entry_digest(entry, prev)
    head = AccessLogHead.objects.get()
    assert (head.count, head.last_hash) == (4, chain[-1].hash)


def test_sealing_again_changes_nothing(world, actor):
    _append(actor("gp_a"), world.citizen, 3)
    access_log_seal()
    before = [(e.pk, e.seq, e.hash) for e in _chain()]

    assert access_log_seal() == 0

    assert [(e.pk, e.seq, e.hash) for e in _chain()] == before
    assert AccessLogHead.objects.get().count == 3


def test_later_entries_continue_the_chain(world, actor):
    _append(actor("gp_a"), world.citizen, 2)
    access_log_seal()
    _append(actor("gp_a"), world.citizen, 2)

    assert access_log_seal() == 2

    chain = _chain()
    assert [e.seq for e in chain] == [1, 2, 3, 4]
    assert chain[2].prev_hash == chain[1].hash
    assert access_log_verify().ok


def test_an_entry_committed_late_joins_the_chain_after_those_already_sealed(world, actor):
    """A request that took its id before another but committed after it was sealed: the chain's
    order is the order of sealing, so nothing is lost or reordered."""
    late, early = access_log_record(actor=actor("gp_a"), citizens=[world.citizen] * 2, action=AccessAction.VIEW)
    _raw("DELETE FROM citizens_accesslogentry WHERE id = %s", [late.pk])  # not committed yet: the sealer cannot see it
    assert access_log_seal() == 1
    AccessLogEntry.objects.bulk_create([late])  # now it commits, with the lower id

    assert access_log_seal() == 1

    assert [(e.pk, e.seq) for e in _chain()] == [(early.pk, 1), (late.pk, 2)]
    assert access_log_verify().ok


def test_a_run_stops_at_its_limit_and_the_next_run_goes_on(world, actor):
    _append(actor("gp_a"), world.citizen, 5)

    assert access_log_seal(batch_size=2, limit=3) == 3
    assert AccessLogEntry.objects.filter(seq__isnull=True).count() == 2
    assert access_log_verify().ok
    assert access_log_seal(batch_size=2, limit=3) == 2
    assert [e.seq for e in _chain()] == [1, 2, 3, 4, 5]


def test_the_beat_task_seals(world, actor):
    _append(actor("gp_a"), world.citizen, 2)
    access_log_seal_task.delay()
    assert AccessLogEntry.objects.filter(seq__isnull=True).count() == 0


def test_beat_runs_the_sealer_every_few_seconds():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == access_log_seal_task.name)
    assert entry["schedule"].total_seconds() <= 10


def test_the_app_cannot_seal_through_update(world, actor):
    _append(actor("gp_a"), world.citizen)
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.update(seq=1, prev_hash=GENESIS, hash="0" * 64)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only")
def test_the_database_lets_only_the_chain_fields_of_an_unsealed_entry_be_filled_in(world, actor):
    from django.db import DatabaseError, transaction

    _append(actor("gp_a"), world.citizen, 2)
    access_log_seal()
    _append(actor("gp_a"), world.citizen)
    sealed, unsealed = _chain()[0], AccessLogEntry.objects.get(seq__isnull=True)
    refused = [
        ("UPDATE {t} SET detail = 'x' WHERE id = %s", unsealed.pk),
        ("UPDATE {t} SET detail = 'x', seq = 9, prev_hash = 'a', hash = 'b' WHERE id = %s", unsealed.pk),
        ("UPDATE {t} SET seq = 9, prev_hash = 'a', hash = 'b' WHERE id = %s", sealed.pk),
        ("DELETE FROM {t} WHERE id = %s", unsealed.pk),
    ]
    for sql, pk in refused:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.format(t=ENTRY_TABLE), [pk])


# --- two sealers at once (PostgreSQL: real row locks between connections) -----------------------------


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks between connections need PostgreSQL"
)


@pytest.fixture
def committed_head(transactional_db):
    AccessLogHead.objects.get_or_create(id=1)  # a transactional test's flush removed it


def _in_thread(target):
    def run():
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@postgresql_only
def test_a_second_sealer_returns_at_once_while_one_holds_the_head(committed_head, world, actor):
    from django.db import transaction

    _append(actor("gp_a"), world.citizen, 3)
    holding, release = threading.Event(), threading.Event()

    def first_sealer():
        with transaction.atomic():
            AccessLogHead.objects.select_for_update().get(id=1)
            holding.set()
            release.wait(10)

    thread = _in_thread(first_sealer)
    assert holding.wait(10)
    started = time.monotonic()
    try:
        assert access_log_seal() == 0
    finally:
        release.set()
        thread.join()
    assert time.monotonic() - started < 2  # it did not wait for the lock
    assert AccessLogEntry.objects.filter(seq__isnull=True).count() == 3
    assert access_log_seal() == 3


@postgresql_only
def test_two_sealers_at_once_make_one_chain(committed_head, world, actor):
    access_log_record(actor=actor("gp_a"), citizens=[world.citizen] * 60, action=AccessAction.LIST)
    counts: list[int] = []
    threads = [_in_thread(lambda: counts.append(access_log_seal(batch_size=5))) for _ in range(2)]
    for thread in threads:
        thread.join()

    access_log_seal()  # whatever the second one skipped
    assert [e.seq for e in _chain()] == list(range(1, 61))
    assert access_log_verify().ok
    assert sum(counts) <= 60


# --- verifying ----------------------------------------------------------------------------------------


def test_unsealed_entries_are_counted_not_reported_as_tampering(world, actor):
    _append(actor("gp_a"), world.citizen, 2)
    access_log_seal()
    _append(actor("gp_a"), world.citizen, 3)

    report = access_log_verify()

    assert report.ok and report.checked == 2 and report.unsealed == 3


def test_a_forged_entry_inserted_among_sealed_ones_is_detected(world, actor):
    """The forger links a new entry to the second one, with a correct hash, moves the later entries
    one place on and the head with them: the third entry's link no longer holds."""
    _append(actor("gp_a"), world.citizen, 4)
    access_log_seal()
    second, third = _chain()[1:3]
    forged = access_log_record(actor=actor("gp_b"), citizens=world.citizen, action=AccessAction.VIEW)[0]
    for entry in reversed(_chain()[2:]):
        _raw("UPDATE citizens_accesslogentry SET seq = seq + 1 WHERE id = %s", [entry.pk])
    forged.prev_hash = second.hash
    _raw(FORGE_SEAL, [3, second.hash, entry_digest(forged, second.hash), forged.pk])
    AccessLogHead.objects.filter(id=1).update(count=5)

    report = access_log_verify()

    assert not report.ok
    assert report.broken_at == third.pk
    assert report.problem == "an earlier entry was removed, altered or inserted"


def test_a_forged_entry_past_the_head_is_detected(world, actor):
    _append(actor("gp_a"), world.citizen, 2)
    access_log_seal()
    last = _chain()[-1]
    forged = access_log_record(actor=actor("gp_b"), citizens=world.citizen, action=AccessAction.VIEW)[0]
    _raw(FORGE_SEAL, [3, last.hash, entry_digest(forged, last.hash), forged.pk])

    report = access_log_verify()

    assert not report.ok
    assert report.broken_at == forged.pk
    assert "past the head" in report.problem


def test_a_head_that_does_not_match_the_chain_is_detected(world, actor):
    _append(actor("gp_a"), world.citizen, 3)
    access_log_seal()
    AccessLogHead.objects.filter(id=1).update(last_hash="f" * 64)

    report = access_log_verify()

    assert not report.ok
    assert report.broken_at == _chain()[-1].pk
    assert "head" in report.problem
