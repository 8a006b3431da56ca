"""An off-the-shelf FHIR client against the running portal: SMART on FHIR's Python client
(``fhirclient``) reads the CapabilityStatement, finds a patient by CPR number, reads the plans,
goals and tasks, and pages through the observations by following the ``next`` links."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from fhirclient import client as fhir_client
from fhirclient.models.careplan import CarePlan
from fhirclient.models.goal import Goal
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.models.task import Task
from rest_framework.authtoken.models import Token

from careplans.choices import CarePlanStatus, ObservationCode
from careplans.monitoring import Reading, observation_record
from careplans.services import activity_create, careplan_create, goal_create
from citizens.fhir.codes import CPR
from tests.cast import actor_for

pytestmark = pytest.mark.django_db(transaction=True)
READINGS = 25


@pytest.fixture
def smart(world, live_server, settings):
    """The client, signed in with the GP's integration token."""
    settings.SMARTCARE_BASE_URL = live_server.url  # the links the searchsets carry
    key = Token.objects.get_or_create(user=world.users["gp_a"])[0].key
    smart = fhir_client.FHIRClient(settings={"app_id": "smartcare-tests", "api_base": f"{live_server.url}/fhir/"})
    smart.server.session.headers["Authorization"] = f"Token {key}"
    return smart


@pytest.fixture
def care(world):
    gp = actor_for(world.users["gp_a"])
    plan = careplan_create(
        actor=gp,
        citizen=world.citizen,
        title="KOL-forløb",
        coordinating_organisation=world.clinic_a,
        status=CarePlanStatus.ACTIVE,
    )
    goal = goal_create(
        actor=gp, plan=plan, description="Blodtryk under 140/90", responsible_organisation=world.clinic_a
    )
    activity_create(  # the municipality's: a hand-off, a Task
        actor=gp,
        plan=plan,
        description="Ugentligt hjemmebesøg",
        responsible_organisation=world.municipality_a,
        due_date=timezone.localdate() + datetime.timedelta(days=7),
    )
    start = timezone.now() - datetime.timedelta(days=READINGS)
    for day in range(READINGS):
        reading = Reading(
            code=ObservationCode.BLOOD_PRESSURE,
            value=Decimal(130 + day % 5),
            value_2=Decimal(85),
            unit="mm[Hg]",
            effective_at=start + datetime.timedelta(days=day),
            source="citizen",
        )
        observation_record(actor=gp, citizen=world.citizen, reading=reading)
    return plan, goal


def test_a_fhir_client_finds_the_patient_reads_the_plan_and_pages_the_observations(world, smart, care):
    plan, goal = care
    capability = smart.server.capabilityStatement
    assert capability.fhirVersion == "4.0.1"
    assert {"Patient", "CarePlan", "Goal", "Task", "Observation"} <= {r.type for r in capability.rest[0].resource}

    found = list(
        Patient.where(struct={"identifier": f"{CPR}|{world.citizen.cpr}"}).perform_resources_iter(smart.server)
    )
    assert [p.id for p in found] == [str(world.citizen.pk)]
    patient = Patient.read(found[0].id, smart.server)
    assert patient.identifier[0].value == world.citizen.cpr
    assert patient.generalPractitioner[0].reference == f"Organization/{world.clinic_a.pk}"

    plans = list(CarePlan.where(struct={"patient": patient.id}).perform_resources_iter(smart.server))
    assert [p.id for p in plans] == [str(plan.pk)]
    assert plans[0].subject.reference == f"Patient/{patient.id}"
    goals = list(Goal.where(struct={"patient": patient.id}).perform_resources_iter(smart.server))
    assert [g.id for g in goals] == [str(goal.pk)]
    assert goals[0].description.text == "Blodtryk under 140/90"
    tasks = list(Task.where(struct={"patient": patient.id}).perform_resources_iter(smart.server))
    assert len(tasks) == 1 and tasks[0].status == "requested"
    assert tasks[0].owner.reference == f"Organization/{world.municipality_a.pk}"

    search = Observation.where(
        struct={"patient": patient.id, "code": "http://loinc.org|85354-9", "_sort": "-date", "_count": "10"}
    )
    pages = list(search.perform_iter(smart.server))
    assert [len(page.entry or []) for page in pages] == [10, 10, 5]
    observations = [entry.resource for page in pages for entry in page.entry]
    moments = [o.effectiveDateTime.datetime for o in observations]
    assert moments == sorted(moments, reverse=True) and len({o.id for o in observations}) == READINGS
    systolic = {c.code.coding[0].code: c.valueQuantity.value for c in observations[0].component}
    assert systolic["8480-6"] == 130 + (READINGS - 1) % 5
