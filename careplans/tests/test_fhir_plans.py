"""The care plans in the FHIR API: CarePlan, CareTeam, Goal, ServiceRequest (activities) and Task
(hand-offs), each read and searched through the gate, logged, and in a fixed number of queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from careplans.choices import ActivityStatus, GoalLifecycleStatus, ThresholdCode
from careplans.models import Activity, CarePlan, Goal, Handoff
from careplans.services import (
    activity_create,
    activity_set_status,
    goal_create,
    goal_set_status,
    handoff_accept,
    handoff_reject,
)
from citizens.choices import AccessAction, AccessReason
from citizens.fhir.codes import (
    ACTIVITY_STATUS,
    CARE_TEAM_ROLE,
    GOAL_ACHIEVEMENT,
    HANDOFF_BUSINESS_STATUS,
    ICD10,
    LOINC,
    RESPONSIBLE_ORGANIZATION,
)
from citizens.models import AccessLogEntry, CitizenCondition, Condition
from citizens.tests.factories import CitizenFactory
from citizens.tests.fhir_client import FhirClient, ids, of_type

from .helpers import active_plan

pytestmark = pytest.mark.django_db

TYPES = ("CarePlan", "CareTeam", "Goal", "ServiceRequest", "Task")


@pytest.fixture
def fhir(client, token):
    """``fhir("gp_a")``: a FHIR client with that world user's token."""
    return lambda name="gp_a": FhirClient(client, token(name))


@dataclass
class Care:
    plan: CarePlan
    copd: CitizenCondition
    measured: Goal  # the clinic's own goal, FEV1 ≥ 1.5 L
    handed: Goal  # given to the municipality, awaiting its answer
    visits: Activity  # given to the municipality, Mondays and Thursdays
    control: Activity  # the clinic's own, one-off
    goal_handoff: Handoff
    visit_handoff: Handoff


def _care(world, gp_actor, actor, citizen=None) -> Care:
    today = timezone.localdate()
    citizen = citizen or world.citizen
    copd = Condition.objects.get(icd10_code="J44")
    citizen_copd = CitizenCondition.objects.create(citizen=citizen, condition=copd)
    plan = active_plan(
        world,
        gp_actor,
        conditions=[copd],
        description="Shared COPD plan",
        coordinator=world.users["gp_a"],
        period_start=today - datetime.timedelta(days=10),
    )
    if citizen != world.citizen:
        CarePlan.objects.filter(pk=plan.pk).update(citizen=citizen)
        plan.refresh_from_db()
    measured = goal_create(
        actor=gp_actor,
        plan=plan,
        description="Better lung function",
        responsible_organisation=world.clinic_a,
        target_code=ThresholdCode.FEV1,
        target_comparator=">=",
        target_value=Decimal("1.5"),
        target_unit="L",
        due_date=today + datetime.timedelta(days=90),
        lifecycle_status=GoalLifecycleStatus.ACTIVE,
    )
    handed = goal_create(
        actor=gp_actor,
        plan=plan,
        description="Daily walks",
        responsible_organisation=world.municipality_a,
        target_text="Walks 30 minutes a day",
    )
    visits = activity_create(
        actor=gp_actor,
        plan=plan,
        description="Home visit",
        responsible_organisation=world.municipality_a,
        weekdays="MO,TH",
        starts_on=today,
        ends_on=today + datetime.timedelta(days=60),
    )
    control = activity_create(
        actor=gp_actor,
        plan=plan,
        description="Annual control",
        responsible_organisation=world.clinic_a,
        due_date=today + datetime.timedelta(days=30),
    )
    return Care(
        plan,
        citizen_copd,
        measured,
        handed,
        visits,
        control,
        Handoff.objects.get(goal=handed),
        Handoff.objects.get(activity=visits),
    )


@pytest.fixture
def care(world, gp_actor, actor) -> Care:
    return _care(world, gp_actor, actor)


# --- CarePlan ----------------------------------------------------------------------------------------


def test_careplan_read_has_subject_conditions_team_goals_activities_and_is_logged(world, care, fhir):
    plan = care.plan
    resource = fhir().get(f"CarePlan/{plan.pk}")
    assert (resource["status"], resource["intent"], resource["title"]) == ("active", "plan", plan.title)
    assert resource["description"] == "Shared COPD plan"
    assert resource["subject"] == {"reference": f"Patient/{world.citizen.pk}"}
    assert resource["period"] == {"start": plan.period_start.isoformat()}
    assert resource["category"][0]["coding"][0] == {
        "system": ICD10,
        "code": "J44",
        "display": care.copd.condition.name_en,
    }
    assert [a["reference"] for a in resource["addresses"]] == [f"Condition/{care.copd.pk}"]
    assert resource["careTeam"] == [{"reference": f"CareTeam/{plan.pk}"}]
    assert {g["reference"] for g in resource["goal"]} == {f"Goal/{care.measured.pk}", f"Goal/{care.handed.pk}"}
    assert {a["reference"]["reference"] for a in resource["activity"]} == {
        f"ServiceRequest/{care.visits.pk}",
        f"ServiceRequest/{care.control.pk}",
    }
    assert resource["author"]["reference"] == f"Organization/{world.clinic_a.pk}"
    assert {c["reference"] for c in resource["contributor"]} == {
        f"Organization/{world.clinic_a.pk}",
        f"Organization/{world.municipality_a.pk}",
    }
    entry = AccessLogEntry.objects.get(citizen=world.citizen, detail="FHIR CarePlan read")
    assert (entry.action, entry.reason) == (AccessAction.API_READ, AccessReason.GP_CLINIC)


def test_a_condition_the_citizen_list_lacks_is_addressed_by_display(world, care, fhir):
    care.copd.delete()
    resource = fhir().get(f"CarePlan/{care.plan.pk}")
    assert resource["addresses"] == [{"display": f"J44 {care.copd.condition.name_da}"}]


def test_careplan_search_by_patient_subject_status_category_intent_and_date(world, care, fhir):
    me, citizen = [str(care.plan.pk)], world.citizen.pk
    assert ids(fhir().get("CarePlan", {"patient": f"Patient/{citizen}"})) == me
    assert ids(fhir().get("CarePlan", {"subject": str(citizen)})) == me
    assert ids(fhir().get("CarePlan", {"patient": "Patient/00000000-0000-4000-8000-000000000000"})) == []
    assert ids(fhir().get("CarePlan", {"status": "active"})) == me
    assert ids(fhir().get("CarePlan", {"status": "http://hl7.org/fhir/request-status|active"})) == me
    assert ids(fhir().get("CarePlan", {"status": "completed,draft"})) == []
    assert ids(fhir().get("CarePlan", {"category": f"{ICD10}|J44"})) == me
    assert ids(fhir().get("CarePlan", {"category": "j44"})) == me
    assert ids(fhir().get("CarePlan", {"category": "E11"})) == []
    assert ids(fhir().get("CarePlan", {"category": "J44,E11"})) == me  # each plan once
    assert ids(fhir().get("CarePlan", {"intent": "plan"})) == me
    assert ids(fhir().get("CarePlan", {"intent": "order"})) == []
    start = care.plan.period_start.isoformat()
    assert ids(fhir().get("CarePlan", {"date": start})) == me
    assert ids(fhir().get("CarePlan", {"date": f"gt{start}"})) == []
    assert ids(fhir().get("CarePlan", {"date": f"ge{start[:7]}"})) == me


def test_careplan_includes_patient_goals_team_and_activities(world, care, fhir):
    bundle = fhir().get(
        "CarePlan",
        [
            ("patient", str(world.citizen.pk)),
            ("_include", "CarePlan:patient"),
            ("_include", "CarePlan:goal"),
            ("_include", "CarePlan:care-team"),
            ("_include", "CarePlan:activity-reference"),
        ],
    )
    assert ids(bundle) == [str(care.plan.pk)]
    assert [p["id"] for p in of_type(bundle, "Patient")] == [str(world.citizen.pk)]
    assert {g["id"] for g in of_type(bundle, "Goal")} == {str(care.measured.pk), str(care.handed.pk)}
    assert [t["id"] for t in of_type(bundle, "CareTeam")] == [str(care.plan.pk)]
    assert {s["id"] for s in of_type(bundle, "ServiceRequest")} == {str(care.visits.pk), str(care.control.pk)}
    details = set(AccessLogEntry.objects.values_list("detail", flat=True))
    assert {"FHIR CarePlan search", "FHIR Goal included", "FHIR Patient included"} <= details


def test_plans_are_found_from_a_patient_search_by_revinclude(world, care, fhir):
    bundle = fhir().get("Patient", {"_id": str(world.citizen.pk), "_revinclude": "CarePlan:patient"})
    assert ids(bundle, "include") == [str(care.plan.pk)]
    assert AccessLogEntry.objects.filter(detail="FHIR CarePlan included").count() == 1


def test_the_municipality_with_a_relationship_sees_the_plan(world, care, fhir):
    assert fhir("homecare_a").get(f"CarePlan/{care.plan.pk}")["id"] == str(care.plan.pk)
    assert ids(fhir("homecare_a").get("CarePlan", {"patient": str(world.citizen.pk)})) == [str(care.plan.pk)]
    entry = AccessLogEntry.objects.filter(user=world.users["homecare_a"]).first()
    assert entry is not None and entry.reason == AccessReason.MUNICIPALITY


def test_the_outsider_gets_404_and_empty_searchsets_for_every_type(world, care, fhir):
    outsider = fhir("gp_b")
    instances = {
        "CarePlan": care.plan.pk,
        "CareTeam": care.plan.pk,
        "Goal": care.measured.pk,
        "ServiceRequest": care.visits.pk,
        "Task": care.visit_handoff.pk,
    }
    for kind, pk in instances.items():
        assert outsider.get(f"{kind}/{pk}", status=404)["issue"][0]["code"] == "not-found", kind
        empty = outsider.get(kind, {"patient": str(world.citizen.pk)})
        assert empty["total"] == 0 and "entry" not in empty, kind
    revinclude = outsider.get(
        "Organization", {"_id": str(world.clinic_a.pk), "_revinclude": "ServiceRequest:performer"}
    )
    assert ids(revinclude, "include") == []
    assert not AccessLogEntry.objects.filter(user=world.users["gp_b"]).exists()


@pytest.mark.parametrize("kind", ["CarePlan", "CareTeam", "Goal", "ServiceRequest", "Task"])
def test_malformed_and_unknown_ids_are_404(kind, fhir, world):
    for resource_id in ("abc", "-1", "00000000-0000-4000-8000-000000000000", "999999"):
        fhir().get(f"{kind}/{resource_id}", status=404)


# --- CareTeam ----------------------------------------------------------------------------------------


def test_careteam_read_has_members_roles_coordinator_and_managing_organisation(world, care, fhir):
    team = fhir().get(f"CareTeam/{care.plan.pk}")
    assert (team["status"], team["name"]) == ("active", care.plan.title)
    assert team["subject"] == {"reference": f"Patient/{world.citizen.pk}"}
    assert team["managingOrganization"][0]["reference"] == f"Organization/{world.clinic_a.pk}"
    coordinator = team["participant"][0]
    assert coordinator["member"]["reference"] == f"Practitioner/{world.users['gp_a'].pk}"
    assert coordinator["onBehalfOf"]["reference"] == f"Organization/{world.clinic_a.pk}"
    assert coordinator["role"][0]["coding"][0] == {
        "system": CARE_TEAM_ROLE,
        "code": "coordinator",
        "display": "Coordinator (tovholder)",
    }
    organisations = {p["member"]["reference"] for p in team["participant"][1:]}
    assert organisations == {f"Organization/{world.clinic_a.pk}", f"Organization/{world.municipality_a.pk}"}
    assert all("onBehalfOf" not in p for p in team["participant"][1:])
    assert AccessLogEntry.objects.get(detail="FHIR CareTeam read").citizen_id == world.citizen.pk


def test_careteam_search_by_patient_and_status(world, care, fhir):
    me = [str(care.plan.pk)]
    assert ids(fhir().get("CareTeam", {"patient": str(world.citizen.pk)})) == me
    assert ids(fhir().get("CareTeam", {"status": "active"})) == me
    assert ids(fhir().get("CareTeam", {"status": "inactive"})) == []
    bundle = fhir().get("Patient", {"_id": str(world.citizen.pk), "_revinclude": "CareTeam:patient"})
    assert ids(bundle, "include") == me


# --- Goal --------------------------------------------------------------------------------------------


def test_goal_read_has_target_status_achievement_and_responsible_organisation(world, care, fhir):
    goal = fhir().get(f"Goal/{care.measured.pk}")
    assert goal["lifecycleStatus"] == "active"
    assert goal["achievementStatus"]["coding"][0]["system"] == GOAL_ACHIEVEMENT
    assert goal["achievementStatus"]["coding"][0]["code"] == "in-progress"
    assert goal["description"] == {"text": "Better lung function"}
    assert goal["subject"] == {"reference": f"Patient/{world.citizen.pk}"}
    target = goal["target"][0]
    assert target["measure"]["coding"][0] == {"system": LOINC, "code": "20150-9", "display": "FEV1"}
    assert target["detailQuantity"] == {
        "value": 1.5,
        "comparator": ">=",
        "unit": "L",
        "system": "http://unitsofmeasure.org",
        "code": "L",
    }
    assert target["dueDate"] == care.measured.due_date.isoformat()
    assert goal["extension"] == [
        {
            "url": RESPONSIBLE_ORGANIZATION,
            "valueReference": {"reference": f"Organization/{world.clinic_a.pk}", "display": world.clinic_a.name},
        }
    ]
    worded = fhir().get(f"Goal/{care.handed.pk}")
    assert worded["target"] == [
        {"measure": {"text": "Walks 30 minutes a day"}, "detailString": "Walks 30 minutes a day"}
    ]
    assert AccessLogEntry.objects.filter(detail="FHIR Goal read").count() == 2


def test_goal_search_by_patient_lifecycle_achievement_and_target_date(world, care, fhir):
    both = {str(care.measured.pk), str(care.handed.pk)}
    assert set(ids(fhir().get("Goal", {"patient": f"Patient/{world.citizen.pk}"}))) == both
    assert ids(fhir().get("Goal", {"lifecycle-status": "active"})) == [str(care.measured.pk)]
    assert ids(fhir().get("Goal", {"lifecycle-status": "http://hl7.org/fhir/goal-status|proposed"})) == [
        str(care.handed.pk)
    ]
    assert ids(fhir().get("Goal", {"lifecycle-status": "completed"})) == []
    assert set(ids(fhir().get("Goal", {"achievement-status": "in-progress"}))) == both
    due = care.measured.due_date.isoformat()
    assert ids(fhir().get("Goal", {"target-date": due})) == [str(care.measured.pk)]
    bundle = fhir().get("Patient", {"_id": str(world.citizen.pk), "_revinclude": "Goal:patient"})
    assert set(ids(bundle, "include")) == both


# --- ServiceRequest ----------------------------------------------------------------------------------


def test_service_request_read_has_performer_timing_and_the_activity_status(world, care, fhir, actor):
    request = fhir().get(f"ServiceRequest/{care.visits.pk}")
    assert (request["status"], request["intent"]) == ("active", "plan")
    assert request["code"] == {"text": "Home visit"}
    assert request["basedOn"] == [{"reference": f"CarePlan/{care.plan.pk}"}]
    assert request["performer"][0]["reference"] == f"Organization/{world.municipality_a.pk}"
    repeat = request["occurrenceTiming"]["repeat"]
    assert repeat["dayOfWeek"] == ["mon", "thu"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (2, 1, "wk")
    assert repeat["boundsPeriod"] == {
        "start": care.visits.starts_on.isoformat(),
        "end": care.visits.ends_on.isoformat(),
    }
    assert request["extension"][0]["url"] == ACTIVITY_STATUS
    assert request["extension"][0]["valueCoding"]["code"] == "not-started"
    one_off = fhir().get(f"ServiceRequest/{care.control.pk}")
    assert one_off["occurrenceDateTime"] == care.control.due_date.isoformat()
    activity_set_status(
        actor=actor("gp_a"), activity=care.control, status=ActivityStatus.CANCELLED, comment="No longer needed"
    )
    assert fhir().get(f"ServiceRequest/{care.control.pk}")["status"] == "revoked"


def test_service_request_search_by_patient_status_performer_and_plan(world, care, fhir):
    both = {str(care.visits.pk), str(care.control.pk)}
    assert set(ids(fhir().get("ServiceRequest", {"patient": str(world.citizen.pk)}))) == both
    assert set(ids(fhir().get("ServiceRequest", {"status": "active"}))) == both
    assert ids(fhir().get("ServiceRequest", {"status": "completed"})) == []
    by_owner = fhir().get("ServiceRequest", {"performer": f"Organization/{world.municipality_a.pk}"})
    assert ids(by_owner) == [str(care.visits.pk)]
    assert set(ids(fhir().get("ServiceRequest", {"based-on": f"CarePlan/{care.plan.pk}"}))) == both
    assert set(ids(fhir().get("ServiceRequest", {"authored": f"ge{timezone.localdate().isoformat()}"}))) == both


# --- Task (hand-offs) --------------------------------------------------------------------------------


def test_task_read_of_a_request_and_a_rejection(world, care, fhir, actor):
    task = fhir().get(f"Task/{care.visit_handoff.pk}")
    assert (task["status"], task["intent"]) == ("requested", "order")
    assert task["focus"]["reference"] == f"ServiceRequest/{care.visits.pk}"
    assert task["for"] == {"reference": f"Patient/{world.citizen.pk}"}
    assert task["basedOn"] == [{"reference": f"CarePlan/{care.plan.pk}"}]
    assert task["requester"]["reference"] == f"Organization/{world.clinic_a.pk}"
    assert task["owner"]["reference"] == f"Organization/{world.municipality_a.pk}"
    assert "businessStatus" not in task and "statusReason" not in task
    Handoff.objects.filter(pk=care.goal_handoff.pk).update(requested_at=timezone.now() - datetime.timedelta(hours=5))
    handoff_reject(actor=actor("homecare_a"), handoff=care.goal_handoff, reason="No capacity")
    rejected = fhir().get(f"Task/{care.goal_handoff.pk}")
    assert rejected["status"] == "rejected"
    assert rejected["statusReason"] == {"text": "No capacity"}
    assert rejected["focus"]["reference"] == f"Goal/{care.handed.pk}"
    assert rejected["lastModified"] != rejected["authoredOn"]
    assert AccessLogEntry.objects.filter(detail="FHIR Task read").count() == 2


def test_an_unanswered_request_past_the_deadline_is_overdue(world, care, fhir, settings):
    settings.HANDOFF_OVERDUE_HOURS = 72
    Handoff.objects.filter(pk=care.visit_handoff.pk).update(requested_at=timezone.now() - datetime.timedelta(hours=73))
    task = fhir().get(f"Task/{care.visit_handoff.pk}")
    assert task["businessStatus"]["coding"][0] == {
        "system": HANDOFF_BUSINESS_STATUS,
        "code": "overdue",
        "display": "Overdue",
    }
    assert "businessStatus" not in fhir().get(f"Task/{care.goal_handoff.pk}")
    assert ids(fhir().get("Task", {"business-status": "overdue"})) == [str(care.visit_handoff.pk)]
    assert ids(fhir().get("Task", {"business-status": f"{HANDOFF_BUSINESS_STATUS}|overdue"})) == [
        str(care.visit_handoff.pk)
    ]
    assert ids(fhir().get("Task", {"business-status": "late"})) == []


def test_task_search_by_patient_owner_requester_status_plan_and_date(world, care, fhir, actor):
    both = {str(care.visit_handoff.pk), str(care.goal_handoff.pk)}
    assert set(ids(fhir().get("Task", {"patient": str(world.citizen.pk)}))) == both
    assert set(ids(fhir().get("Task", {"owner": f"Organization/{world.municipality_a.pk}"}))) == both
    assert ids(fhir().get("Task", {"owner": f"Organization/{world.clinic_a.pk}"})) == []
    assert set(ids(fhir().get("Task", {"requester": str(world.clinic_a.pk)}))) == both
    assert set(ids(fhir().get("Task", {"based-on": f"CarePlan/{care.plan.pk}"}))) == both
    handoff_reject(actor=actor("homecare_a"), handoff=care.goal_handoff, reason="No capacity")
    assert ids(fhir().get("Task", {"status": "requested"})) == [str(care.visit_handoff.pk)]
    assert ids(fhir().get("Task", {"status": "http://hl7.org/fhir/task-status|rejected"})) == [
        str(care.goal_handoff.pk)
    ]
    assert set(ids(fhir().get("Task", {"authored-on": f"ge{timezone.localdate().isoformat()}"}))) == both


def test_an_accepted_hand_off_is_completed_when_its_activity_or_goal_is(world, care, fhir, actor):
    """The requester polls its Tasks for completed: the owner took the work over and finished it."""
    home_care = actor("homecare_a")
    handoff_accept(actor=home_care, handoff=care.visit_handoff)
    handoff_accept(actor=home_care, handoff=care.goal_handoff)
    both = {str(care.visit_handoff.pk), str(care.goal_handoff.pk)}
    assert {fhir().get(f"Task/{pk}")["status"] for pk in both} == {"accepted"}
    assert set(ids(fhir().get("Task", {"status": "accepted"}))) == both
    assert ids(fhir().get("Task", {"status": "completed"})) == []

    activity_set_status(actor=home_care, activity=Activity.objects.get(pk=care.visits.pk), status="completed")
    assert fhir().get(f"Task/{care.visit_handoff.pk}")["status"] == "completed"
    assert ids(fhir().get("Task", {"status": "completed"})) == [str(care.visit_handoff.pk)]
    assert ids(fhir().get("Task", {"status": "http://hl7.org/fhir/task-status|accepted"})) == [
        str(care.goal_handoff.pk)
    ]

    goal = Goal.objects.get(pk=care.handed.pk)
    for status in ("accepted", "active", "completed"):
        if goal.lifecycle_status != status:
            goal = goal_set_status(actor=home_care, goal=goal, lifecycle_status=status)
    assert fhir().get(f"Task/{care.goal_handoff.pk}")["status"] == "completed"
    assert set(ids(fhir().get("Task", {"status": "accepted,completed"}))) == both
    assert ids(fhir().get("Task", {"status": "accepted"})) == []
    assert ids(fhir().get("Task", {"status": "requested"})) == []


# --- the CapabilityStatement and the query counts ------------------------------------------------------


def test_capability_statement_lists_the_care_plan_types_and_their_parameters(client):
    statement = FhirClient(client).get("metadata")
    listed = {r["type"]: r for r in statement["rest"][0]["resource"]}
    expected = {
        "CarePlan": {"patient", "subject", "status", "category", "date", "intent"},
        "CareTeam": {"patient", "subject", "status"},
        "Goal": {"patient", "subject", "lifecycle-status", "achievement-status", "target-date"},
        "ServiceRequest": {"patient", "subject", "status", "performer", "based-on", "authored"},
        "Task": {"patient", "subject", "owner", "requester", "status", "business-status", "based-on", "authored-on"},
    }
    for kind, params in expected.items():
        assert {p["name"] for p in listed[kind]["searchParam"]} == params | {"_id"}, kind
        assert {i["code"] for i in listed[kind]["interaction"]} == {"read", "search-type"}
    assert set(listed["CarePlan"]["searchInclude"]) >= {"CarePlan:patient", "CarePlan:goal"}
    assert "CarePlan:patient" in listed["Patient"]["searchRevInclude"]
    assert RESPONSIBLE_ORGANIZATION in listed["Goal"]["documentation"]


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("CarePlan", [("_include", "CarePlan:goal"), ("_include", "CarePlan:patient")]),
        ("CareTeam", []),
        ("Goal", []),
        ("ServiceRequest", []),
        ("Task", []),
    ],
)
def test_searches_use_a_fixed_number_of_queries(world, gp_actor, actor, care, fhir, kind, params):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fhir().get(kind, [("_count", 50), *params])
        return len(captured)

    queries()  # the token and memberships are cached from then on
    few = queries()
    for _ in range(3):
        citizen = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
        _care(world, gp_actor, actor, citizen)
    assert fhir().get(kind, {"_summary": "count"})["total"] > 3
    assert queries() == few
