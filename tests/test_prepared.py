"""``smartcare.prepared.PreparedQuery``: the statement is compiled once per database and then run
with the real values, giving what the ORM gives; what it cannot prove it leaves to the ORM."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from citizens.models import Citizen
from citizens.tests.factories import CitizenFactory
from sectors.models import Organisation
from smartcare.prepared import PreparedQuery

pytestmark = pytest.mark.django_db

UUIDS = (uuid.UUID(int=1), uuid.UUID(int=2))


def by_municipality(municipality_id, last_name):
    return (
        Citizen.objects.filter(municipality_id=municipality_id, last_name=last_name)
        .select_related("municipality", "gp_clinic")
        .annotate(clinic_name=F("gp_clinic__name"))
        .order_by("cpr")
    )


def test_rows_are_what_the_orm_reads_and_the_statement_is_compiled_once(clinic, other_clinic, monkeypatch):
    for n, municipality in enumerate([clinic.municipality, clinic.municipality, other_clinic.municipality]):
        CitizenFactory(municipality=municipality, gp_clinic=clinic if n else None, last_name="Holm")
    query = PreparedQuery(by_municipality, [(1, 2), ("a", "b")])
    compiled = []
    original = PreparedQuery._statement
    monkeypatch.setattr(PreparedQuery, "_statement", lambda self, *a: compiled.append(a) or original(self, *a))

    for municipality in (clinic.municipality, other_clinic.municipality, clinic.municipality):
        expected = list(by_municipality(municipality.pk, "Holm"))
        with CaptureQueriesContext(connection) as ctx:
            found = query.rows(municipality.pk, "Holm")
        assert found == expected and found
        assert [(c.municipality, c.gp_clinic, c.clinic_name) for c in found] == [
            (c.municipality, c.gp_clinic, c.clinic_name) for c in expected
        ]
        assert len(ctx.captured_queries) == 1
    assert len(compiled) == 3  # once, and once more for each value to find its place
    assert query.rows(clinic.municipality.pk, "Jensen") == []


def test_a_uuid_value_is_placed_as_the_database_takes_it(clinic):
    citizen = CitizenFactory(gp_clinic=clinic)
    query = PreparedQuery(lambda pk: Citizen.objects.filter(pk=pk), [UUIDS])
    assert query.rows(citizen.pk) == [citizen]
    assert query.rows(uuid.uuid4()) == []


def test_a_statement_that_changes_with_the_value_is_left_to_the_orm(clinic):
    """Here the number of values changes the statement (``IN`` with as many placeholders), so
    nothing is prepared and each call is the ORM's own."""
    query = PreparedQuery(lambda n: Organisation.objects.filter(pk__in=list(range(1, n + 1))), [(1, 2)])
    assert query.rows(clinic.pk + 5) == list(Organisation.objects.filter(pk__lte=clinic.pk + 5))
    assert next(iter(query._compiled.values())) is None


# --- prepared on the server (PostgreSQL), outside a transaction --------------------------------------

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PREPARE is PostgreSQL's")


@postgresql
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_statement_is_prepared_on_the_server_once_per_connection(clinic):
    from smartcare.prepared import _server_names

    citizens = [CitizenFactory(municipality=clinic.municipality, last_name="Holm") for _ in range(2)]
    query = PreparedQuery(by_municipality, [(1, 2), ("a", "b")])
    expected = list(by_municipality(clinic.municipality.pk, "Holm"))
    with CaptureQueriesContext(connection) as first:
        assert query.rows(clinic.municipality.pk, "Holm") == expected
    with CaptureQueriesContext(connection) as second:
        assert query.rows(clinic.municipality.pk, "Holm") == expected
        assert query.rows(clinic.municipality.pk, "Jensen") == []
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["PREPARE", "EXECUTE"]
    assert [q["sql"].split()[0] for q in second.captured_queries] == ["EXECUTE", "EXECUTE"]
    # A new connection prepares again; the old names are not taken for granted.
    connection.close()
    assert query.rows(clinic.municipality.pk, "Holm") == expected and len(citizens) == 2
    assert sum(1 for names in _server_names.values() for name in names.values() if name) >= 1


@postgresql
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_a_new_statement_runs_as_it_is_and_a_prepared_one_is_executed(clinic):
    from django.db import transaction

    query = PreparedQuery(lambda pk: Citizen.objects.filter(gp_clinic_id=pk).order_by("pk"), [(1, 2)])
    with transaction.atomic(), CaptureQueriesContext(connection) as inside:
        assert query.rows(clinic.pk) == []
    assert [q["sql"].split()[0] for q in inside.captured_queries] == ["SELECT"]
    query.rows(clinic.pk)  # prepared now, outside
    citizen = CitizenFactory(gp_clinic=clinic)
    with transaction.atomic(), CaptureQueriesContext(connection) as again:
        assert query.rows(clinic.pk) == [citizen]
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["EXECUTE"]


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_statement_postgresql_will_not_prepare_runs_as_it_is():
    from smartcare.prepared import fetch_all

    # The type of a parameter compared with NULL alone cannot be determined: PREPARE refuses it.
    sql = "SELECT 1 WHERE %s IS NULL"
    assert fetch_all("default", sql, [None]) == [(1,)]
    with CaptureQueriesContext(connection) as again:
        assert fetch_all("default", sql, [None]) == [(1,)]
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["SELECT"]
    assert fetch_all("default", "SELECT %s::int + 1, '100%%'", [1]) == [(2, "100%")]
    assert fetch_all("default", "SELECT %s::int + 1, '100%%'", [2]) == [(3, "100%")]
