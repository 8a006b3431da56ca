import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citizens.accesslog import GENESIS, access_log_record, access_log_seal, access_log_verify
from citizens.choices import AccessAction, AccessReason
from citizens.models import AccessLogEntry, AccessLogHead
from citizens.selectors import citizen_get, citizen_page
from citizens.tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db


def _record(actor, citizen, n=1, *, seal=True):
    for _ in range(n):
        access_log_record(actor=actor, citizens=citizen, action=AccessAction.VIEW, reason=AccessReason.GP_CLINIC)
    if seal:  # what the beat task does a few seconds later
        access_log_seal()


def _raw(sql, params=()):
    """Tamper behind the application's back (and past the append-only triggers)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS citizens_accesslog_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS citizens_accesslog_no_delete")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks, or ALTER refuses
            cursor.execute("ALTER TABLE citizens_accesslogentry DISABLE TRIGGER citizens_accesslog_append_only")
        cursor.execute(sql, params)


def test_entries_form_a_chain(world, actor):
    _record(actor("gp_a"), world.citizen, 3)
    entries = list(AccessLogEntry.objects.order_by("pk"))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert AccessLogHead.objects.get().count == 3
    assert access_log_verify().ok


def test_an_entry_records_who_for_whom_why_and_from_where(world, actor):
    gp = actor("gp_a")
    citizen = citizen_get(actor=gp, pk=world.citizen.pk)
    entry = AccessLogEntry.objects.get()
    assert entry.user == gp.user
    assert entry.organisation == world.clinic_a
    assert entry.organisation_name == world.clinic_a.name
    assert entry.role == "gp"
    assert entry.citizen == citizen
    assert entry.action == AccessAction.VIEW
    assert entry.reason == AccessReason.GP_CLINIC
    assert entry.ip_address == "127.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_one_entry_outside_a_transaction_is_one_insert(world, actor):
    """A detail read logs with a single INSERT in autocommit: no BEGIN and COMMIT around it (on
    PostgreSQL the statement is prepared on the server the first time on a connection)."""
    gp = actor("gp_a")
    access_log_record(actor=gp, citizens=world.citizen, action=AccessAction.VIEW, reason=AccessReason.GP_CLINIC)
    with CaptureQueriesContext(connection) as queries:
        entries = access_log_record(
            actor=gp, citizens=world.citizen, action=AccessAction.VIEW, reason=AccessReason.GP_CLINIC
        )
    one = "EXECUTE" if connection.vendor == "postgresql" else "INSERT"
    assert [q["sql"].split()[0] for q in queries.captured_queries] == [one]
    assert AccessLogEntry.objects.latest("pk").pk == entries[0].pk
    assert not AccessLogEntry.objects.latest("pk").seq  # unsealed, as every new entry


def test_every_row_of_a_list_page_is_logged_with_its_reason(world, actor):
    CitizenFactory.create_batch(4, gp_clinic=world.clinic_a)
    page = citizen_page(actor=actor("gp_a"), filters={}, page_size=3)
    assert len(page.object_list) == 3
    logged = AccessLogEntry.objects.filter(action=AccessAction.LIST)
    assert {e.citizen_id for e in logged} == {c.pk for c in page.object_list}
    assert {e.reason for e in logged} == {AccessReason.GP_CLINIC}


def test_the_app_cannot_change_or_delete_entries(world, actor):
    _record(actor("gp_a"), world.citizen)
    entry = AccessLogEntry.objects.get()
    entry.detail = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.update(detail="x")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only")
def test_the_database_refuses_updates_and_deletes(world, actor):
    from django.db import DatabaseError, transaction

    _record(actor("gp_a"), world.citizen)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE citizens_accesslogentry SET detail = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM citizens_accesslogentry")


def test_an_altered_entry_is_detected(world, actor):
    _record(actor("gp_a"), world.citizen, 5)
    third = AccessLogEntry.objects.order_by("pk")[2]
    _raw("UPDATE citizens_accesslogentry SET detail = %s WHERE id = %s", ["innocent", third.pk])
    report = access_log_verify()
    assert not report.ok
    assert report.broken_at == third.pk
    assert report.checked == 2


def test_a_removed_entry_is_detected(world, actor):
    _record(actor("gp_a"), world.citizen, 5)
    entries = list(AccessLogEntry.objects.order_by("pk"))
    _raw("DELETE FROM citizens_accesslogentry WHERE id = %s", [entries[1].pk])
    report = access_log_verify()
    assert not report.ok
    assert report.broken_at == entries[2].pk
    assert "removed" in report.problem


def test_removing_the_newest_entries_is_detected(world, actor):
    _record(actor("gp_a"), world.citizen, 3)
    newest = AccessLogEntry.objects.order_by("-pk").first()
    _raw("DELETE FROM citizens_accesslogentry WHERE id = %s", [newest.pk])
    report = access_log_verify()
    assert not report.ok
    assert "newest" in report.problem


# --- from where: the same client address the sign-in limits believe ------------------------------


def _read_page(client, world, **headers):
    from django.urls import reverse

    client.force_login(world.users["gp_a"])
    response = client.get(reverse("citizens:detail", args=[world.citizen.pk]), REMOTE_ADDR="10.0.0.2", **headers)
    assert response.status_code == 200
    return AccessLogEntry.objects.filter(citizen=world.citizen).latest("pk")


def test_a_spoofed_x_forwarded_for_is_not_logged(client, world, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    entry = _read_page(client, world, HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert entry.ip_address == "10.0.0.2"


def test_behind_a_trusted_proxy_the_client_address_is_logged(client, world, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    entry = _read_page(client, world, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert entry.ip_address == "198.51.100.7"


def test_a_trusted_proxy_header_is_logged(client, world, settings):
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    entry = _read_page(client, world, HTTP_X_REAL_IP="198.51.100.8", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert entry.ip_address == "198.51.100.8"
