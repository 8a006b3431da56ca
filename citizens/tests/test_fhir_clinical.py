"""The FHIR API's Condition, Encounter, Consent, AuditEvent, Practitioner and PractitionerRole."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citizens.choices import AccessAction, ObjectionTarget
from citizens.fhir.codes import ICD10, MEMBERSHIP_ROLE
from citizens.models import AccessLogEntry, CitizenCondition, Objection
from citizens.tests.factories import CitizenFactory, ConditionFactory, HospitalStayFactory
from citizens.tests.fhir_client import FhirClient, ids, of_type
from sectors.choices import MembershipRole, Sector
from sectors.tests.factories import MembershipFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fhir(client, token):
    return lambda name="gp_a": FhirClient(client, token(name))


@pytest.fixture
def copd(world):
    return CitizenCondition.objects.create(
        citizen=world.citizen, condition=ConditionFactory(icd10_code="J44.9"), onset_date=datetime.date(2019, 3, 1)
    )


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


# --- Condition ---


def test_condition_read_and_search_by_patient_and_icd10(world, fhir, copd):
    resource = fhir().get(f"Condition/{copd.pk}")
    assert resource["code"]["coding"][0] == {"system": ICD10, "code": "J44.9", "display": copd.condition.name_en}
    assert resource["subject"]["reference"] == f"Patient/{world.citizen.pk}"
    assert resource["onsetDateTime"] == "2019-03-01"
    assert ids(fhir().get("Condition", {"patient": f"Patient/{world.citizen.pk}"})) == [str(copd.pk)]
    assert ids(fhir().get("Condition", {"code": f"{ICD10}|J44"})) == [str(copd.pk)]
    assert ids(fhir().get("Condition", {"code": "J45"})) == []
    assert ids(fhir().get("Condition", {"onset-date": "lt2020"})) == [str(copd.pk)]
    assert AccessLogEntry.objects.filter(detail="FHIR Condition read").count() == 1


def test_condition_outsider_gets_404_and_an_empty_searchset(world, fhir, copd):
    fhir("gp_b").get(f"Condition/{copd.pk}", status=404)
    assert fhir("gp_b").get("Condition", {"patient": str(world.citizen.pk)})["total"] == 0
    assert fhir("gp_b").get("Condition")["total"] == 0
    assert not AccessLogEntry.objects.exists()


def test_patient_search_revincludes_conditions(world, fhir, copd):
    bundle = fhir().get("Patient", {"_id": str(world.citizen.pk), "_revinclude": "Condition:patient"})
    assert ids(bundle, "include") == [str(copd.pk)]


# --- Encounter ---


def test_encounter_of_a_stay_is_read_by_the_department_and_the_gp(world, fhir):
    stay = HospitalStayFactory(citizen=world.citizen, department=world.department)
    for who in ("gp_a", "hospital_nurse"):
        encounter = fhir(who).get(f"Encounter/{stay.pk}")
        assert encounter["status"] == "in-progress" and encounter["class"]["code"] == "IMP"
        assert encounter["serviceProvider"]["reference"] == f"Organization/{world.department.pk}"
        assert "end" not in encounter["period"]
    fhir("other_hospital").get(f"Encounter/{stay.pk}", status=404)
    stay.discharged_at = timezone.now()
    stay.save()
    finished = fhir().get("Encounter", {"patient": str(world.citizen.pk), "status": "finished"})
    assert ids(finished) == [str(stay.pk)] and of_type(finished, "Encounter")[0]["period"]["end"]
    assert fhir().get("Encounter", {"status": "in-progress"})["total"] == 0
    assert ids(fhir().get("Encounter", {"service-provider": f"Organization/{world.department.pk}"})) == [str(stay.pk)]
    assert ids(fhir().get("Encounter", {"class": "EMER"})) == []


# --- Consent ---


def test_consent_shows_the_consent_and_standing_objections(world, fhir):
    citizen = world.citizen
    fhir().get(f"Consent/{citizen.pk}", status=404)  # nothing recorded yet
    citizen.consent_to_share = True
    citizen.consent_recorded_at = timezone.now()
    citizen.save()
    gp = world.users["gp_a"]
    Objection.objects.create(
        citizen=citizen, target=ObjectionTarget.ORGANISATION, organisation=world.clinic_b, recorded_by=gp
    )
    Objection.objects.create(citizen=citizen, target=ObjectionTarget.SECTOR, sector=Sector.HOSPITAL, recorded_by=gp)
    Objection.objects.create(
        citizen=citizen,
        target=ObjectionTarget.SECTOR,
        sector=Sector.MUNICIPALITY,
        recorded_by=gp,
        withdrawn_at=timezone.now(),
        withdrawn_by=gp,
    )
    consent = fhir().get(f"Consent/{citizen.pk}")
    assert consent["policyRule"]["coding"][0]["code"] == "OPTIN" and consent["provision"]["type"] == "permit"
    denied = consent["provision"]["provision"]
    assert len(denied) == 2 and {p["type"] for p in denied} == {"deny"}
    assert [p["actor"][0]["reference"]["reference"] for p in denied if "actor" in p] == [
        f"Organization/{world.clinic_b.pk}"
    ]
    assert [p["code"][0]["coding"][0]["code"] for p in denied if "code" in p] == [Sector.HOSPITAL]
    assert ids(fhir().get("Consent", {"patient": str(citizen.pk)})) == [str(citizen.pk)]
    fhir("gp_b").get(f"Consent/{citizen.pk}", status=404)


# --- AuditEvent ---


def test_audit_events_are_for_administrators_of_the_citizens_organisations_and_the_region(world, fhir, client, token):
    fhir().get(f"Patient/{world.citizen.pk}")  # one read to find in the log
    # A clinician of the citizen's own clinic is no administrator: nothing.
    assert fhir().get("AuditEvent", {"patient": str(world.citizen.pk)})["total"] == 0
    admin_a = MembershipFactory(organisation=world.clinic_a, role=MembershipRole.ORGANISATION_ADMIN).user
    admin = FhirClient(client, _token(admin_a))
    bundle = admin.get("AuditEvent", {"patient": f"Patient/{world.citizen.pk}"})
    assert bundle["total"] == 1
    event = of_type(bundle, "AuditEvent")[0]
    assert event["subtype"][0]["code"] == AccessAction.API_READ and event["action"] == "R"
    assert event["agent"][0]["who"]["reference"] == f"Practitioner/{world.users['gp_a'].pk}"
    assert event["entity"][0]["what"]["reference"] == f"Patient/{world.citizen.pk}"
    assert admin.get(f"AuditEvent/{event['id']}")["id"] == event["id"]
    # Reading the log is logged as viewing who has seen the data.
    assert AccessLogEntry.objects.filter(user=admin_a, action=AccessAction.ACCESS_REPORT).count() == 2
    # Clinic B's administrator: the citizen is not its own.
    assert fhir("admin_b").get("AuditEvent", {"patient": str(world.citizen.pk)})["total"] == 0
    fhir("admin_b").get(f"AuditEvent/{event['id']}", status=404)
    # The region's administrator reads every citizen's log.
    region_admin = MembershipFactory(organisation=RegionFactory(), role=MembershipRole.ORGANISATION_ADMIN).user
    assert FhirClient(client, _token(region_admin)).get("AuditEvent", {"patient": str(world.citizen.pk)})["total"] >= 1


def test_audit_event_search_needs_a_patient(world, fhir):
    outcome = fhir().get("AuditEvent", status=400)
    assert "patient" in outcome["issue"][0]["diagnostics"]


def _token(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


# --- Practitioner and PractitionerRole ---


def test_practitioner_roles_by_organisation_and_role_with_includes(world, fhir):
    gp = world.users["gp_a"]
    bundle = fhir().get(
        "PractitionerRole",
        {
            "organization": f"Organization/{world.clinic_a.pk}",
            "role": f"{MEMBERSHIP_ROLE}|gp",
            "_include": "PractitionerRole:practitioner",
        },
    )
    roles = of_type(bundle, "PractitionerRole")
    assert [r["practitioner"]["reference"] for r in roles] == [f"Practitioner/{gp.pk}"]
    assert roles[0]["active"] is True and roles[0]["code"][0]["coding"][0]["code"] == "gp"
    assert ids(bundle, "include") == [str(gp.pk)]
    practitioner = fhir().get(f"Practitioner/{gp.pk}")
    assert practitioner["name"][0]["family"] == gp.last_name
    assert str(gp.pk) in ids(fhir().get("Practitioner", {"family": gp.last_name, "_count": 50}))
    nurses = fhir().get("PractitionerRole", {"role": "practice_nurse", "organization": str(world.clinic_a.pk)})
    assert [r["practitioner"]["reference"] for r in of_type(nurses, "PractitionerRole")] == [
        f"Practitioner/{world.users['nurse_a'].pk}"
    ]


def test_system_accounts_are_no_practitioners(world, fhir):
    system = MembershipFactory(organisation=world.department, role=MembershipRole.INTEGRATION).user
    fhir().get(f"Practitioner/{system.pk}", status=404)
    assert fhir().get("PractitionerRole", {"practitioner": str(system.pk)})["total"] == 0


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("Condition", {}),
        ("Encounter", {}),
        ("Consent", {}),
        ("PractitionerRole", {"_include": "PractitionerRole:practitioner"}),
        ("Practitioner", {}),
    ],
)
def test_searches_use_a_fixed_number_of_queries(world, fhir, kind, params):
    def grow():
        citizen = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a, consent_to_share=False)
        CitizenCondition.objects.create(citizen=citizen, condition=ConditionFactory())
        HospitalStayFactory(citizen=citizen, department=world.department)
        Objection.objects.create(
            citizen=citizen,
            target=ObjectionTarget.ORGANISATION,
            organisation=world.clinic_b,
            recorded_by=world.users["gp_a"],
        )
        MembershipFactory(organisation=world.clinic_a, role=MembershipRole.GP)

    grow()
    fhir().get(kind, params)
    few = _queries(lambda: fhir().get(kind, {**params, "_count": 100}))
    for _ in range(4):
        grow()
    assert _queries(lambda: fhir().get(kind, {**params, "_count": 100})) == few
