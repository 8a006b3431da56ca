"""The FHIR API's Patient and Organization, and what every type shares: the gate, the log,
searchsets, errors as OperationOutcomes, formats and the CapabilityStatement."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citizens.choices import AccessAction, AccessReason
from citizens.fhir import registry
from citizens.fhir.codes import CPR, GLN, SOR
from citizens.models import AccessLogEntry, CitizenIdentifier, ContactPerson
from citizens.tests.factories import CitizenFactory
from citizens.tests.fhir_client import FhirClient, ids
from sectors.models import LocationNumber
from sectors.tests.factories import GPClinicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fhir(client, token):
    """``fhir("gp_a")``: a FHIR client with that world user's token."""
    return lambda name="gp_a": FhirClient(client, token(name))


def test_read_has_cpr_gp_clinic_municipality_contacts_and_is_logged(world, fhir):
    citizen = world.citizen
    ContactPerson.objects.create(citizen=citizen, name="Ida Hansen", relation="daughter", phone="+4512345678")
    patient = fhir().get(f"Patient/{citizen.pk}")
    assert patient["identifier"][0] == {"use": "official", "system": CPR, "value": citizen.cpr}
    assert patient["generalPractitioner"][0]["reference"] == f"Organization/{world.clinic_a.pk}"
    contact_orgs = [c["organization"]["reference"] for c in patient["contact"] if "organization" in c]
    assert contact_orgs == [f"Organization/{world.municipality_a.pk}"]
    assert [c["name"]["text"] for c in patient["contact"] if "name" in c] == ["Ida Hansen"]
    assert patient["birthDate"] == citizen.birth_date.isoformat()
    assert patient["deceasedBoolean"] is False
    entry = AccessLogEntry.objects.get(citizen=citizen)
    assert (entry.action, entry.reason, entry.detail) == (
        AccessAction.API_READ,
        AccessReason.GP_CLINIC,
        "FHIR Patient read",
    )


def test_deceased_and_replacement_numbers_are_shown(world, fhir):
    citizen = world.citizen
    citizen.deceased_at = datetime.datetime(2026, 11, 2, 8, 30, tzinfo=datetime.UTC)
    citizen.save()
    CitizenIdentifier.objects.create(citizen=citizen, system="urn:oid:1.2.208.176.1.6.1.3", value="0101709AB1")
    patient = fhir().get(f"Patient/{citizen.pk}")
    assert patient["deceasedDateTime"].startswith("2026-11-02")
    assert {"use": "secondary", "system": "urn:oid:1.2.208.176.1.6.1.3", "value": "0101709AB1"} in patient["identifier"]


def test_outsider_gets_404_like_a_missing_patient_and_nothing_is_logged(world, fhir):
    missing = fhir("gp_b").get("Patient/00000000-0000-4000-8000-000000000000", status=404)
    refused = fhir("gp_b").get(f"Patient/{world.citizen.pk}", status=404)
    assert refused["resourceType"] == missing["resourceType"] == "OperationOutcome"
    assert refused["issue"][0]["code"] == missing["issue"][0]["code"] == "not-found"
    assert not AccessLogEntry.objects.exists()


def test_malformed_ids_are_404_not_500(fhir):
    for path in ("Patient/not-a-uuid", "Organization/abc", "Organization/-1", "Organization/99999999999999999999999"):
        assert fhir().get(path, status=404)["resourceType"] == "OperationOutcome"


def test_search_by_cpr_finds_the_patient_and_the_outsider_gets_an_empty_searchset(world, fhir):
    bundle = fhir().get("Patient", {"identifier": f"{CPR}|{world.citizen.cpr}"})
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    assert ids(bundle) == [str(world.citizen.pk)]
    assert AccessLogEntry.objects.get().detail == "FHIR Patient search"
    empty = fhir("gp_b").get("Patient", {"identifier": f"{CPR}|{world.citizen.cpr}"})
    assert empty["total"] == 0 and "entry" not in empty
    assert AccessLogEntry.objects.count() == 1


def test_search_by_replacement_number_name_family_birthdate_and_gp(world, fhir):
    citizen = world.citizen
    CitizenIdentifier.objects.create(citizen=citizen, system="urn:oid:1.2.208.176.1.6.1.3", value="X-42")
    other = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a, last_name="Zylstra")
    me = str(citizen.pk)
    assert ids(fhir().get("Patient", {"identifier": "urn:oid:1.2.208.176.1.6.1.3|X-42"})) == [me]
    assert ids(fhir().get("Patient", {"identifier": "X-42"})) == [me]
    assert ids(fhir().get("Patient", {"family": citizen.last_name[:3]})) == [me]
    assert ids(fhir().get("Patient", {"name": "zylst"})) == [str(other.pk)]
    assert ids(fhir().get("Patient", {"name:exact": citizen.first_name})) in ([me], sorted([me, str(other.pk)]))
    born = citizen.birth_date.isoformat()
    assert me in ids(fhir().get("Patient", {"birthdate": born}))
    assert me not in ids(fhir().get("Patient", {"birthdate": f"gt{born}"}))
    assert me in ids(fhir().get("Patient", {"birthdate": f"ge{born[:4]}"}))
    by_gp = fhir().get("Patient", {"general-practitioner": f"Organization/{world.clinic_a.pk}"})
    assert set(ids(by_gp)) == {me, str(other.pk)}
    assert fhir().get("Patient", {"general-practitioner": f"Organization/{world.clinic_b.pk}"})["total"] == 0


def test_paging_has_self_next_and_previous_links(world, fhir):
    for _ in range(4):
        CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
    first = fhir().get("Patient", {"_count": 2, "_sort": "birthdate"})
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert first["total"] == 5 and len(ids(first)) == 2 and "previous" not in links
    assert "_offset=2" in links["next"] and links["self"].startswith("http")
    second = fhir().get("Patient", {"_count": 2, "_sort": "birthdate", "_offset": 2})
    assert {link["relation"] for link in second["link"]} == {"self", "next", "previous"}
    last = fhir().get("Patient", {"_count": 2, "_sort": "birthdate", "_offset": 4})
    assert "next" not in {link["relation"] for link in last["link"]}
    seen = ids(first) + ids(second) + ids(last)
    assert len(set(seen)) == 5


def test_summary_count_answers_only_the_total(world, fhir):
    bundle = fhir().get("Patient", {"_summary": "count"})
    assert bundle["total"] == 1 and "entry" not in bundle
    assert not AccessLogEntry.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"colour": "blue"},
        {"birthdate": "yesterday"},
        {"birthdate": "2026-13-01"},
        {"_count": "-1"},
        {"_count": "many"},
        {"_sort": "shoe-size"},
        {"_summary": "text"},
        {"family:sounds-like": "x"},
        {"general-practitioner:Patient": "1"},
        {"_include": "Patient:nothing"},
        {"_revinclude": "Nothing:patient"},
        {"name": ""},
    ],
)
def test_bad_search_parameters_are_400_operation_outcomes(world, fhir, params):
    outcome = fhir().get("Patient", params, status=400)
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "invalid"


def test_unknown_types_and_paths_are_operation_outcomes_not_html(fhir):
    assert fhir().get("Spaceship", status=400)["issue"][0]["code"] == "not-supported"
    assert fhir().get("Spaceship/1", status=400)["resourceType"] == "OperationOutcome"
    assert fhir().get("Patient/1/_history/2", status=404)["resourceType"] == "OperationOutcome"


def test_writes_other_than_observations_are_405(world, client, token):
    headers = {"HTTP_AUTHORIZATION": f"Token {token('gp_a')}"}
    for method, path in [
        ("post", "/fhir/Patient"),
        ("put", f"/fhir/Patient/{world.citizen.pk}"),
        ("delete", f"/fhir/Organization/{world.clinic_a.pk}"),
        ("patch", f"/fhir/Patient/{world.citizen.pk}"),
    ]:
        response = getattr(client, method)(path, "{}", content_type="application/fhir+json", **headers)
        assert response.status_code == 405, (method, path)
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"
        assert "GET" in response["Allow"]


def test_anonymous_gets_401_and_a_session_may_read(world, client, gp):
    response = client.get(f"/fhir/Patient/{world.citizen.pk}")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    client.force_login(gp)
    assert FhirClient(client).get(f"Patient/{world.citizen.pk}")["id"] == str(world.citizen.pk)


def test_a_bad_acting_organisation_header_is_400_and_a_foreign_one_403(world, client, token):
    bad = FhirClient(client, token("gp_a"), {"HTTP_X_ACTING_ORGANISATION": "abc"})
    assert bad.get("Patient", status=400)["issue"][0]["code"] == "invalid"
    foreign = FhirClient(client, token("gp_a"), {"HTTP_X_ACTING_ORGANISATION": str(world.clinic_b.pk)})
    assert foreign.get("Patient", status=403)["issue"][0]["code"] == "forbidden"


def test_xml_by_format_parameter_and_accept_header(world, fhir, client, token):
    body = fhir().get(f"Patient/{world.citizen.pk}", {"_format": "xml"})["xml"]
    assert b"<Patient" in body and world.citizen.cpr.encode() in body
    response = client.get(
        "/fhir/Patient", HTTP_AUTHORIZATION=f"Token {token('gp_a')}", HTTP_ACCEPT="application/fhir+xml"
    )
    assert response["Content-Type"].startswith("application/fhir+xml") and b"<Bundle" in response.content
    error = client.get("/fhir/Patient", {"colour": "x", "_format": "xml"}, HTTP_AUTHORIZATION=f"Token {token('gp_a')}")
    assert error.status_code == 400 and b"<OperationOutcome" in error.content


def test_organization_read_and_search_by_sor_gln_name_type_and_partof(world, fhir):
    clinic = world.clinic_a
    LocationNumber.objects.create(organisation=clinic, gln="5790000123453")
    org = fhir().get(f"Organization/{clinic.pk}")
    assert {"use": "official", "system": SOR, "value": clinic.sor_code} in org["identifier"]
    assert {"system": GLN, "value": "5790000123453"} in org["identifier"]
    assert ids(fhir().get("Organization", {"identifier": f"{SOR}|{clinic.sor_code}"})) == [str(clinic.pk)]
    assert ids(fhir().get("Organization", {"identifier": f"{GLN}|5790000123453"})) == [str(clinic.pk)]
    assert str(clinic.pk) in ids(fhir().get("Organization", {"name": clinic.name[:5], "_count": 100}))
    departments = fhir().get("Organization", {"partof": f"Organization/{world.unit.pk}"})
    assert ids(departments) == [str(world.department.pk)]
    assert ids(departments) == ids(
        fhir().get("Organization", {"partof": str(world.unit.pk), "type": "hospital_department"})
    )
    # The directory is no health data: the outsider reads it too.
    assert fhir("gp_b").get(f"Organization/{clinic.pk}")["name"] == clinic.name


def test_revinclude_patients_of_a_gp_clinic(world, fhir):
    bundle = fhir().get("Organization", {"_id": str(world.clinic_a.pk), "_revinclude": "Patient:general-practitioner"})
    assert ids(bundle) == [str(world.clinic_a.pk)]
    assert ids(bundle, "include") == [str(world.citizen.pk)]
    assert AccessLogEntry.objects.get().detail == "FHIR Patient included"
    # The outsider's clinic: the patient listed at clinic A is not included for it.
    other = fhir("gp_b").get(
        "Organization", {"_id": str(world.clinic_a.pk), "_revinclude": "Patient:general-practitioner"}
    )
    assert ids(other, "include") == []


def test_capability_statement_lists_exactly_what_is_registered(client):
    statement = FhirClient(client).get("metadata")
    listed = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(listed) == {kind.name for kind in registry.all_types()}
    patient = listed["Patient"]
    assert {p["name"] for p in patient["searchParam"]} >= {
        "identifier",
        "name",
        "family",
        "birthdate",
        "general-practitioner",
        "_id",
    }
    assert {i["code"] for i in patient["interaction"]} == {"read", "search-type"}
    assert statement["fhirVersion"] == "4.0.1"


def test_every_listed_search_parameter_is_accepted(world, fhir):
    """The CapabilityStatement cannot drift from the code: each parameter it lists answers 200."""
    samples = {"token": "x", "string": "x", "date": "2020", "reference": "1"}
    statement = fhir().get("metadata")
    for resource in statement["rest"][0]["resource"]:
        required = {p["name"] for p in resource.get("searchParam", []) if p["documentation"].endswith("Required.")}
        base = {name: str(world.citizen.pk) for name in required}
        for param in resource.get("searchParam", []):
            fhir().get(resource["type"], {**base, param["name"]: samples[param["type"]]})
        if required:
            fhir().get(resource["type"], status=400)


def test_patient_search_uses_a_fixed_number_of_queries(world, fhir):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fhir().get("Patient", {"_count": 50})
        return len(captured)

    queries()  # the token and memberships are cached from then on
    few = queries()
    for _ in range(10):
        citizen = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
        ContactPerson.objects.create(citizen=citizen, name="N", phone="1")
        CitizenIdentifier.objects.create(
            citizen=citizen, system="urn:oid:1.2.208.176.1.6.1.3", value=f"R{citizen.pk.hex[:8]}"
        )
    assert queries() == few


def test_organization_search_uses_a_fixed_number_of_queries(world, fhir):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fhir().get("Organization", {"_count": 100})
        return len(captured)

    queries()
    few = queries()
    for _ in range(5):
        LocationNumber.objects.create(organisation=GPClinicFactory(), gln=None or "579000" + str(7_000_000 + _)[-7:])
    assert queries() == few


def test_a_token_scoped_to_other_uses_or_types_is_refused(world, fhir):
    from sectors.choices import TokenUse
    from sectors.services import token_scope_set

    user = world.users["gp_a"]
    token_scope_set(by=None, user=user, uses=[TokenUse.READ], resource_types=["Organization"])
    assert fhir().get(f"Organization/{world.clinic_a.pk}")["id"] == str(world.clinic_a.pk)
    refused = fhir().get(f"Patient/{world.citizen.pk}", status=403)
    assert refused["issue"][0]["code"] == "forbidden"
    fhir().get("Patient", status=403)
    # Patients through _revinclude are Patients too.
    fhir().get("Organization", {"_revinclude": "Patient:general-practitioner"}, status=403)
    token_scope_set(by=None, user=user, uses=[TokenUse.PROCESS_MESSAGE], resource_types=[])
    fhir().get("Organization", status=403)
    assert fhir().get("metadata")["resourceType"] == "CapabilityStatement"


def test_errors_speak_danish_when_asked(world, fhir, client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    outcome = fhir().get("Patient", {"colour": "blue"}, status=400)
    assert outcome["issue"][0]["diagnostics"] == "Søgeparameter colour: Patient har ingen sådan søgeparameter."
