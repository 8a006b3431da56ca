"""What a FHIR search costs: a search that names one citizen asks the gate once for that citizen
instead of probing it on every row, and a page that holds the last match tells the total without
a COUNT. The answers must not change: the same total, and still nothing for the outsider."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citizens.models import AccessLogEntry
from citizens.tests.factories import CitizenFactory
from citizens.tests.fhir_client import FhirClient, compiled_selects, ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def fhir(client, token):
    return lambda name="gp_a": FhirClient(client, token(name))


def captured(fhir, params, name="gp_a"):
    fhir(name).get("Patient", params)  # the token and memberships are cached from then on
    with CaptureQueriesContext(connection) as queries:
        bundle = fhir(name).get("Patient", params)
    return bundle, [q["sql"] for q in queries.captured_queries]


def test_a_search_naming_one_citizen_asks_the_gate_once_and_does_not_count(world, fhir):
    bundle, statements = captured(fhir, {"_id": str(world.citizen.pk)})
    assert ids(bundle) == [str(world.citizen.pk)] and bundle["total"] == 1
    assert not any("COUNT(" in sql for sql in statements)
    [main] = [sql for sql in statements if sql.startswith('SELECT "citizens_citizen"."id"')]
    assert "carerelationship" not in main  # no per-row probe of the gate
    entry = AccessLogEntry.objects.filter(citizen=world.citizen, detail="FHIR Patient search").latest("pk")
    assert entry.reason  # the reason came from the one lookup


def test_the_outsider_naming_the_citizen_gets_an_empty_searchset(world, fhir):
    bundle, statements = captured(fhir, {"_id": str(world.citizen.pk)}, name="gp_b")
    assert bundle["total"] == 0 and "entry" not in bundle
    assert not AccessLogEntry.objects.filter(citizen=world.citizen, detail="FHIR Patient search").exists()


def test_a_search_over_many_citizens_keeps_the_per_row_gate(world, fhir):
    _bundle, statements = captured(fhir, {"general-practitioner": str(world.clinic_a.pk)})
    [main] = [sql for sql in statements if sql.startswith('SELECT "citizens_citizen"."id"')]
    assert "carerelationship" in main


def test_the_total_is_counted_only_when_the_page_cannot_tell_it(world, fhir):
    for _ in range(4):
        CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
    everyone = fhir().get("Patient", {"general-practitioner": str(world.clinic_a.pk)})["total"]
    assert everyone >= 5
    full, statements = captured(fhir, {"general-practitioner": str(world.clinic_a.pk), "_count": 2})
    assert full["total"] == everyone and any("COUNT(" in sql for sql in statements)
    last, statements = captured(
        fhir, {"general-practitioner": str(world.clinic_a.pk), "_count": 2, "_offset": everyone - 1}
    )
    assert last["total"] == everyone and len(ids(last)) == 1
    assert not any("COUNT(" in sql for sql in statements)
    beyond, statements = captured(
        fhir, {"general-practitioner": str(world.clinic_a.pk), "_count": 2, "_offset": everyone + 5}
    )
    assert beyond["total"] == everyone and ids(beyond) == []
    assert any("COUNT(" in sql for sql in statements)


def test_the_total_above_the_cap_is_left_out_whether_counted_or_not(world, fhir, settings):
    settings.LIST_COUNT_CAP = 2
    for _ in range(3):
        CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
    counted = fhir().get("Patient", {"general-practitioner": str(world.clinic_a.pk), "_count": 1})
    assert "total" not in counted
    seen = fhir().get("Patient", {"general-practitioner": str(world.clinic_a.pk), "_count": 50})
    assert "total" not in seen and len(ids(seen)) >= 3


def test_a_patient_read_builds_no_select_statement_once_prepared(world, fhir, monkeypatch):
    """The citizen, its contact persons and replacement numbers, and the gate's lookup are
    statements prepared once per process (``smartcare.prepared``); building them cost more than
    running them."""
    other = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
    gp = fhir()
    gp.get(f"Patient/{world.citizen.pk}")
    built = compiled_selects(monkeypatch)
    patient = gp.get(f"Patient/{other.pk}")
    assert patient["id"] == str(other.pk)
    assert built == []
    fhir("gp_b").get(f"Patient/{other.pk}", status=404)


def test_a_patient_search_by_cpr_is_a_prepared_read_of_that_citizen(world, fhir, monkeypatch):
    from citizens.fhir.codes import CPR

    other = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
    gp, outsider = fhir(), fhir("gp_b")
    gp.get("Patient", {"identifier": f"{CPR}|{world.citizen.cpr}"})
    built = compiled_selects(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        bundle = gp.get("Patient", {"identifier": f"{CPR}|{other.cpr}"})
    assert ids(bundle) == [str(other.pk)] and bundle["total"] == 1 and built == []
    if connection.vendor == "postgresql":  # the citizen by its CPR number with its rows, the gate, the log
        assert len(queries.captured_queries) == 3
    assert AccessLogEntry.objects.filter(citizen=other, detail="FHIR Patient search").count() == 1
    assert gp.get("Patient", {"identifier": f"{CPR}|{other.cpr}", "_summary": "count"})["total"] == 1
    assert gp.get("Patient", {"identifier": f"{CPR}|0101010000"})["total"] == 0
    assert outsider.get("Patient", {"identifier": f"{CPR}|{other.cpr}"})["total"] == 0
    # With another parameter the search is the ordinary one, and still right.
    assert gp.get("Patient", {"identifier": f"{CPR}|{other.cpr}", "family": "Zzz-nobody"})["total"] == 0
    both = gp.get("Patient", {"identifier": f"{CPR}|{other.cpr}", "family": other.last_name})
    assert ids(both) == [str(other.pk)]
    assert AccessLogEntry.objects.filter(citizen=other, detail="FHIR Patient search").count() == 2


def test_a_patient_read_is_one_statement_for_the_citizen_its_contacts_and_numbers(world, fhir):
    """On PostgreSQL the contact persons and replacement numbers come as JSON columns of the
    citizen's statement, in their own order; the answer is the same as the ORM's."""
    from django.db import connection as db

    from citizens.models import CitizenIdentifier, ContactPerson

    citizen = world.citizen
    ContactPerson.objects.create(citizen=citizen, name="Bo", relation="son", phone="+4511111111")
    ContactPerson.objects.create(citizen=citizen, name="Ida", relation="daughter", phone="+4522222222", is_primary=True)
    ContactPerson.objects.create(citizen=citizen, name="Anne", relation="", phone="+4533333333")
    CitizenIdentifier.objects.create(citizen=citizen, system="urn:oid:1.2.208.176.1.6.1.3", value="R1")
    CitizenIdentifier.objects.create(citizen=citizen, system="urn:oid:1.2.208.176.1.6.1.1", value="R2")
    gp = fhir()
    gp.get(f"Patient/{citizen.pk}")
    with CaptureQueriesContext(db) as queries:
        patient = gp.get(f"Patient/{citizen.pk}")
    assert [c["name"]["text"] for c in patient["contact"] if "name" in c] == ["Ida", "Anne", "Bo"]
    assert [i["value"] for i in patient["identifier"]][-2:] == ["R1", "R2"]
    statements = len(queries.captured_queries)
    assert statements == (3 if db.vendor == "postgresql" else 5)  # the citizen, the gate, the log
