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
