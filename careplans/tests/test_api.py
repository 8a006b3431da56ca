"""The care-plan and home-monitoring API with the fixed cast: the citizen's GP (insider), a colleague
in the same clinic and an outsider from another clinic, who gets nothing on any endpoint."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from careplans.choices import (
    AlertSeverity,
    CarePlanStatus,
    GoalLifecycleStatus,
    HandoffStatus,
    ObservationCode,
    ObservationStatus,
    ThresholdCode,
)
from careplans.models import Alert, CarePlan, Goal, Handoff, Observation, Threshold
from careplans.monitoring import Reading, observation_record, threshold_set
from careplans.services import activity_create, careplan_create, goal_create
from citizens.access import Actor
from citizens.choices import AccessAction, AccessReason
from citizens.models import AccessLogEntry
from citizens.tests.factories import CitizenFactory
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import HospitalDepartmentFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def as_actor(user) -> Actor:
    return Actor(user=user, acting=resolve(user, None))


def client_for(user) -> APIClient:
    """Signed in, reading messages in English (Danish, the default, is tested on its own)."""
    client = APIClient()
    client.force_authenticate(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def ago(minutes: int = 5) -> str:
    return (timezone.now() - datetime.timedelta(minutes=minutes)).isoformat()


def weight(value="72.5", **fields) -> Reading:
    return Reading(
        code=ObservationCode.BODY_WEIGHT,
        value=value,
        unit=fields.pop("unit", "kg"),
        effective_at=timezone.now() - datetime.timedelta(minutes=5),
        source="citizen",
        **fields,
    )


def reading_payload(citizen, **fields) -> dict:
    payload = {
        "citizen": str(citizen.pk),
        "code": ObservationCode.BODY_WEIGHT,
        "value": "72.5",
        "unit": "kg",
        "effective_at": ago(),
        "source": "device",
    }
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not None}


@pytest.fixture
def citizen(clinic):
    return CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality)


@pytest.fixture
def other_citizen(other_clinic):
    return CitizenFactory(gp_clinic=other_clinic, municipality=other_clinic.municipality)


@pytest.fixture
def municipality_nurse(citizen):
    return MembershipFactory(organisation=citizen.municipality, role=MembershipRole.HOME_CARE_NURSE).user


@pytest.fixture
def plan(gp, clinic, citizen):
    return careplan_create(
        actor=as_actor(gp),
        citizen=citizen,
        title="KOL-forløb",
        coordinating_organisation=clinic,
        status=CarePlanStatus.ACTIVE,
    )


@pytest.fixture
def goal(gp, clinic, plan):
    return goal_create(
        actor=as_actor(gp), plan=plan, description="Går 30 minutter om dagen", responsible_organisation=clinic
    )


@pytest.fixture
def activity(gp, clinic, plan):
    return activity_create(
        actor=as_actor(gp),
        plan=plan,
        description="Spirometri",
        responsible_organisation=clinic,
        due_date=timezone.localdate() + datetime.timedelta(days=3),
    )


@pytest.fixture
def threshold(gp, citizen):
    return threshold_set(
        actor=as_actor(gp),
        citizen=citizen,
        code=ThresholdCode.BODY_WEIGHT,
        reason="Hjertesvigt: væskeophobning",
        yellow_high=80,
        red_high=85,
    )


@pytest.fixture
def observation(gp, citizen, plan, threshold):
    return observation_record(actor=as_actor(gp), citizen=citizen, reading=weight("83"))


@pytest.fixture
def alert(observation):
    return Alert.objects.get(observation=observation)


@pytest.fixture
def records(goal, activity, observation, alert):
    """A plan with a goal and an activity, a threshold, an observation and the alert it raised."""
    return {"goal": goal, "activity": activity, "observation": observation, "alert": alert}


def endpoints(records, plan, threshold) -> dict[str, str]:
    return {
        "/api/v1/careplans/": f"/api/v1/careplans/{plan.pk}/",
        "/api/v1/goals/": f"/api/v1/goals/{records['goal'].pk}/",
        "/api/v1/activities/": f"/api/v1/activities/{records['activity'].pk}/",
        "/api/v1/observations/": f"/api/v1/observations/{records['observation'].pk}/",
        "/api/v1/thresholds/": f"/api/v1/thresholds/{threshold.pk}/",
        "/api/v1/alerts/": f"/api/v1/alerts/{records['alert'].pk}/",
    }


# --- the cast ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["gp", "colleague"])
def test_insider_and_colleague_see_everything(request, who, records, plan, threshold):
    client = client_for(request.getfixturevalue(who))

    for list_url, detail_url in endpoints(records, plan, threshold).items():
        listed = client.get(list_url)
        assert listed.status_code == 200, list_url
        assert listed.json()["count"] == 1, list_url
        assert client.get(detail_url).status_code == 200, detail_url


def test_outsider_gets_empty_lists_and_404_everywhere(outsider, other_clinic, records, plan, threshold, citizen):
    client = client_for(outsider)

    for list_url, detail_url in endpoints(records, plan, threshold).items():
        assert client.get(list_url).json()["count"] == 0, list_url
        assert client.get(list_url, {"citizen": str(citizen.pk)}).json()["count"] == 0, list_url
        assert client.get(detail_url).status_code == 404, detail_url
    goal, activity, observation, alert = records["goal"], records["activity"], records["observation"], records["alert"]
    writes = [
        ("patch", f"/api/v1/careplans/{plan.pk}/", {"title": "X"}),
        ("post", f"/api/v1/careplans/{plan.pk}/status/", {"status": "on-hold"}),
        ("post", f"/api/v1/careplans/{plan.pk}/team/", {"organisation": other_clinic.pk, "role": "other"}),
        ("patch", f"/api/v1/goals/{goal.pk}/", {"description": "X"}),
        ("post", f"/api/v1/goals/{goal.pk}/status/", {"lifecycle_status": "active"}),
        ("post", f"/api/v1/goals/{goal.pk}/accept/", {}),
        ("post", f"/api/v1/goals/{goal.pk}/reject/", {"reason": "nej"}),
        ("post", f"/api/v1/goals/{goal.pk}/reassign/", {"organisation": other_clinic.pk}),
        ("patch", f"/api/v1/activities/{activity.pk}/", {"description": "X"}),
        ("post", f"/api/v1/activities/{activity.pk}/status/", {"status": "in-progress"}),
        ("post", f"/api/v1/activities/{activity.pk}/done/", {}),
        ("post", f"/api/v1/observations/{observation.pk}/correct/", {"entered_in_error": True}),
        ("post", f"/api/v1/alerts/{alert.pk}/acknowledge/", {"note": "set"}),
    ]
    for method, url, body in writes:
        assert getattr(client, method)(url, body, format="json").status_code == 404, url
    plan.refresh_from_db()
    assert plan.title == "KOL-forløb" and plan.status == CarePlanStatus.ACTIVE
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None


def test_outsider_naming_the_citizen_in_a_body_is_told_it_does_not_exist(outsider, citizen, plan, clinic):
    client = client_for(outsider)
    bodies = {
        "/api/v1/careplans/": {"title": "X", "coordinating_organisation": clinic.pk},
        "/api/v1/observations/": reading_payload(citizen),
        "/api/v1/thresholds/": {"code": ThresholdCode.BODY_WEIGHT, "reason": "x", "red_high": 90},
        "/api/v1/alerts/acknowledge-yellow/": {},
    }
    for url, body in bodies.items():
        hidden = client.post(url, {**body, "citizen": str(citizen.pk)}, format="json")
        missing = client.post(url, {**body, "citizen": str(uuid.uuid4())}, format="json")
        assert hidden.status_code == missing.status_code == 400, url
        assert hidden.json() == missing.json() == {"citizen": ["No such citizen."]}, url
    bulk = client.post("/api/v1/observations/bulk/", {"items": [reading_payload(citizen)]}, format="json")
    assert bulk.status_code == 400
    assert bulk.json() == {"items": {"0": {"citizen": ["No such citizen."]}}}
    goal = client.post(
        "/api/v1/goals/",
        {"care_plan": str(plan.pk), "description": "X", "responsible_organisation": clinic.pk},
        format="json",
    )
    assert goal.json() == {"care_plan": ["No such care plan."]}
    assert not Observation.objects.exists() and not Threshold.objects.exists()
    assert Goal.objects.count() == 0 and CarePlan.objects.count() == 1


def test_anonymous_is_refused(plan):
    client = APIClient()

    for url in ("/api/v1/careplans/", f"/api/v1/careplans/{plan.pk}/", "/api/v1/observations/", "/api/v1/alerts/"):
        assert client.get(url).status_code == 403
    assert client.post("/api/v1/observations/bulk/", {"items": []}, format="json").status_code == 403


def test_token_authentication_acts_for_the_users_organisation(gp, outsider, plan):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=gp).key}")
    assert client.get("/api/v1/careplans/").json()["count"] == 1
    assert client.get(f"/api/v1/careplans/{plan.pk}/").status_code == 200

    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=outsider).key}")
    assert client.get("/api/v1/careplans/").json()["count"] == 0
    assert client.get(f"/api/v1/careplans/{plan.pk}/").status_code == 404

    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get("/api/v1/careplans/").status_code == 403


def test_reads_are_logged_as_api_read_with_the_reason(gp, clinic, plan, citizen):
    before = AccessLogEntry.objects.count()

    client_for(gp).get("/api/v1/careplans/")
    client_for(gp).get(f"/api/v1/careplans/{plan.pk}/")

    entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert [(e.action, e.reason, e.citizen_id, e.organisation_id) for e in entries] == [
        (AccessAction.API_READ, AccessReason.GP_CLINIC, citizen.pk, clinic.pk)
    ] * 2


def test_a_refused_read_is_not_logged(outsider, plan):
    before = AccessLogEntry.objects.count()

    client_for(outsider).get("/api/v1/careplans/")
    client_for(outsider).get(f"/api/v1/careplans/{plan.pk}/")

    assert AccessLogEntry.objects.count() == before


# --- care plans ----------------------------------------------------------------------------------


def test_plan_detail_nests_team_goals_and_activities(gp, plan, goal, activity, clinic):
    body = client_for(gp).get(f"/api/v1/careplans/{plan.pk}/").json()

    assert body["title"] == "KOL-forløb" and body["status"] == "active"
    assert body["coordinating_organisation"] == {"id": clinic.pk, "name": clinic.name}
    assert [(p["organisation"]["id"], p["role"], p["active"]) for p in body["care_team"]] == [
        (clinic.pk, "coordinator", True)
    ]
    assert [g["id"] for g in body["goals"]] == [goal.pk]
    assert [a["id"] for a in body["activities"]] == [activity.pk]
    assert body["activities"][0]["next_due_on"] == activity.due_date.isoformat()


def test_gp_creates_and_changes_a_plan(gp, citizen, clinic):
    client = client_for(gp)

    created = client.post(
        "/api/v1/careplans/",
        {
            "citizen": str(citizen.pk),
            "title": "Type 2-diabetes",
            "coordinating_organisation": clinic.pk,
            "conditions": ["E11"],
            "period_start": "2025-01-01",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["conditions"] == ["E11"]
    assert body["care_team"][0]["organisation"]["id"] == clinic.pk

    changed = client.patch(f"/api/v1/careplans/{body['id']}/", {"title": "T2D", "comment": "kortere"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "T2D"
    plan = CarePlan.objects.get(pk=body["id"])
    assert plan.changes.filter(action="updated", comment="kortere").exists()

    bad = client.patch(f"/api/v1/careplans/{plan.pk}/", {"period_end": "2024-01-01"}, format="json")
    assert bad.status_code == 400 and ("period_end" in bad.json() or "non_field_errors" in bad.json())
    refused = client.patch(f"/api/v1/careplans/{plan.pk}/", {"status": "active"}, format="json")
    assert refused.status_code == 400 and "status" in refused.json()


def test_status_follows_the_lifecycle(gp, citizen, clinic):
    plan = careplan_create(actor=as_actor(gp), citizen=citizen, title="Plan", coordinating_organisation=clinic)
    client = client_for(gp)

    impossible = client.post(f"/api/v1/careplans/{plan.pk}/status/", {"status": "completed"}, format="json")
    assert impossible.status_code == 400
    assert impossible.json()["code"] == "invalid_transition"
    assert impossible.json()["status"] == ["The status cannot change from “Draft” to “Completed”."]

    active = client.post(f"/api/v1/careplans/{plan.pk}/status/", {"status": "active", "comment": "go"}, format="json")
    assert active.status_code == 200 and active.json()["status"] == "active"
    assert client.post(f"/api/v1/careplans/{plan.pk}/status/", {"status": "nonsense"}, format="json").status_code == 400


def test_the_care_team_grows_and_gives_access(gp, plan):
    department = HospitalDepartmentFactory()
    physician = MembershipFactory(organisation=department, role=MembershipRole.HOSPITAL_PHYSICIAN).user
    assert client_for(physician).get(f"/api/v1/careplans/{plan.pk}/").status_code == 404

    added = client_for(gp).post(
        f"/api/v1/careplans/{plan.pk}/team/", {"organisation": department.pk, "role": "hospital"}, format="json"
    )

    assert added.status_code == 201
    assert added.json()["organisation"]["id"] == department.pk
    assert client_for(physician).get(f"/api/v1/careplans/{plan.pk}/").status_code == 200


def test_only_the_care_team_changes_a_plan(plan, municipality_nurse):
    """The municipality sees the citizen (residence) but is not on this plan's team."""
    client = client_for(municipality_nurse)

    assert client.get(f"/api/v1/careplans/{plan.pk}/").status_code == 200
    assert client.patch(f"/api/v1/careplans/{plan.pk}/", {"title": "X"}, format="json").status_code == 403


# --- goals, activities and hand-offs -----------------------------------------------------------


def test_a_hand_off_is_accepted_by_the_receiving_organisation_only(gp, plan, citizen, municipality_nurse):
    client = client_for(gp)
    created = client.post(
        "/api/v1/goals/",
        {
            "care_plan": str(plan.pk),
            "description": "Vægttab 5 kg",
            "responsible_organisation": citizen.municipality_id,
            "target_code": ThresholdCode.BODY_WEIGHT,
            "target_comparator": "<",
            "target_value": "80",
            "target_unit": "kg",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    goal_id = created.json()["id"]
    assert created.json()["handoff_status"] == HandoffStatus.REQUESTED

    by_requester = client.post(f"/api/v1/goals/{goal_id}/accept/", {}, format="json")
    assert by_requester.status_code == 403
    assert Handoff.objects.get(goal_id=goal_id).status == HandoffStatus.REQUESTED

    accepted = client_for(municipality_nurse).post(f"/api/v1/goals/{goal_id}/accept/", {"comment": "ok"}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["handoff_status"] == HandoffStatus.ACCEPTED
    assert accepted.json()["lifecycle_status"] == GoalLifecycleStatus.ACCEPTED
    again = client_for(municipality_nurse).post(f"/api/v1/goals/{goal_id}/accept/", {}, format="json")
    assert again.status_code == 400


def test_a_rejection_needs_a_reason(gp, plan, citizen, municipality_nurse):
    activity = activity_create(
        actor=as_actor(gp),
        plan=plan,
        description="Hjemmebesøg",
        responsible_organisation=citizen.municipality,
        weekdays="MO,TH",
    )
    client = client_for(municipality_nurse)

    assert client.post(f"/api/v1/activities/{activity.pk}/reject/", {}, format="json").status_code == 400
    rejected = client.post(f"/api/v1/activities/{activity.pk}/reject/", {"reason": "Ikke vores"}, format="json")

    assert rejected.status_code == 200 and rejected.json()["handoff_status"] == HandoffStatus.REJECTED
    reassigned = client_for(gp).post(
        f"/api/v1/activities/{activity.pk}/reassign/",
        {"organisation": plan.coordinating_organisation_id},
        format="json",
    )
    assert reassigned.status_code == 200
    assert reassigned.json()["responsible_organisation"]["id"] == plan.coordinating_organisation_id
    assert reassigned.json()["handoff_status"] is None


def test_goal_status_is_for_the_owner_and_follows_the_lifecycle(gp, goal, municipality_nurse):
    client = client_for(gp)

    activated = client.post(f"/api/v1/goals/{goal.pk}/status/", {"lifecycle_status": "active"}, format="json")
    assert activated.status_code == 200 and activated.json()["lifecycle_status"] == "active"
    backwards = client.post(f"/api/v1/goals/{goal.pk}/status/", {"lifecycle_status": "proposed"}, format="json")
    assert backwards.status_code == 400
    assert backwards.json()["code"] == "invalid_transition" and "lifecycle_status" in backwards.json()
    assert client.post(f"/api/v1/goals/{goal.pk}/status/", {}, format="json").status_code == 400
    achieved = client.post(f"/api/v1/goals/{goal.pk}/status/", {"achievement": "improving"}, format="json")
    assert achieved.json()["achievement"] == "improving"
    assert (
        client.patch(f"/api/v1/goals/{goal.pk}/", {"lifecycle_status": "completed"}, format="json").status_code == 400
    )
    changed = client.patch(f"/api/v1/goals/{goal.pk}/", {"target_text": "30 min"}, format="json")
    assert changed.status_code == 200 and changed.json()["target_text"] == "30 min"


def test_activities_filter_by_due_date_and_owner_and_are_done(gp, plan, clinic, activity):
    client = client_for(gp)
    recurring = client.post(
        "/api/v1/activities/",
        {
            "care_plan": str(plan.pk),
            "description": "Gangtræning",
            "responsible_organisation": clinic.pk,
            "weekdays": ["TH", "MO"],
            "starts_on": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert recurring.status_code == 201, recurring.json()
    assert recurring.json()["weekdays"] == ["MO", "TH"]
    soon = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    due = {row["id"] for row in client.get("/api/v1/activities/", {"due_before": soon}).json()["results"]}
    assert due == {activity.pk, recurring.json()["id"]}
    today = timezone.localdate().isoformat()
    assert activity.pk not in {
        r["id"] for r in client.get("/api/v1/activities/", {"due_before": today}).json()["results"]
    }
    assert client.get("/api/v1/activities/", {"responsible_organisation": clinic.pk}).json()["count"] == 2

    done = client.post(f"/api/v1/activities/{activity.pk}/done/", {"note": "Fin"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    reopened = client.post(f"/api/v1/activities/{activity.pk}/status/", {"status": "in-progress"}, format="json")
    assert reopened.status_code == 400 and reopened.json()["code"] == "invalid_transition"


def test_an_activity_needs_a_due_date_or_a_recurrence(gp, plan, clinic):
    response = client_for(gp).post(
        "/api/v1/activities/",
        {"care_plan": str(plan.pk), "description": "X", "responsible_organisation": clinic.pk},
        format="json",
    )

    assert response.status_code == 400 and "due_date" in response.json()


# --- observations --------------------------------------------------------------------------------


def test_an_observation_is_recorded_and_a_threshold_crossing_raises_an_alert(gp, citizen, plan, threshold, clinic):
    client = client_for(gp)

    normal = client.post("/api/v1/observations/", reading_payload(citizen, value="75"), format="json")
    assert normal.status_code == 201, normal.json()
    assert normal.json()["status"] == ObservationStatus.FINAL and normal.json()["display_value"] == "75 kg"
    assert not Alert.objects.exists()

    high = client.post("/api/v1/observations/", reading_payload(citizen, value="86.2"), format="json")
    assert high.status_code == 201
    alert = Alert.objects.get()
    assert (str(alert.observation_id), alert.severity, alert.organisation_id) == (
        high.json()["id"],
        AlertSeverity.RED,
        clinic.pk,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value": "900"}, "value"),
        ({"unit": "lbs"}, "unit"),
        ({"unit": None}, "unit"),
        ({"unit": ""}, "unit"),
        ({"value": "abc"}, "value"),
        ({"code": "1234-5"}, "code"),
        ({"effective_at": "yesterday"}, "effective_at"),
        ({"value_2": "80"}, "value_2"),
        ({"source": "fax"}, "source"),
    ],
)
def test_an_implausible_or_malformed_reading_is_refused(gp, citizen, fields, field):
    response = client_for(gp).post("/api/v1/observations/", reading_payload(citizen, **fields), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Observation.objects.exists()


def test_weight_of_900_kg_is_not_plausible(gp, citizen):
    response = client_for(gp).post("/api/v1/observations/", reading_payload(citizen, value="900"), format="json")

    assert response.json() == {"value": ["Weight 900 kg is not plausible (20–350)."]}


def test_blood_pressure_needs_both_values(gp, citizen):
    client = client_for(gp)
    payload = reading_payload(citizen, code=ObservationCode.BLOOD_PRESSURE, value="135", unit="mm[Hg]")

    assert "value_2" in client.post("/api/v1/observations/", payload, format="json").json()
    created = client.post("/api/v1/observations/", {**payload, "value_2": "85"}, format="json")
    assert created.status_code == 201 and created.json()["display_value"] == "135/85 mmHg"


def test_a_repeated_external_id_is_stored_once(gp, citizen):
    client = client_for(gp)
    payload = reading_payload(citizen, external_id="scale-42")

    first = client.post("/api/v1/observations/", payload, format="json").json()
    second = client.post("/api/v1/observations/", payload, format="json").json()

    assert first["id"] == second["id"] and Observation.objects.count() == 1


def test_a_correction_amends_and_a_withdrawal_marks_entered_in_error(gp, observation):
    client = client_for(gp)

    corrected = client.post(f"/api/v1/observations/{observation.pk}/correct/", {"value": "78.4"}, format="json")
    assert corrected.status_code == 201, corrected.json()
    new = corrected.json()
    assert new["replaces"] == str(observation.pk) and new["value"] == "78.40"
    old = client.get(f"/api/v1/observations/{observation.pk}/").json()
    assert old["status"] == ObservationStatus.AMENDED and old["replaced_by"] == new["id"]
    assert (
        client.post(f"/api/v1/observations/{observation.pk}/correct/", {"value": "77"}, format="json").status_code
        == 400
    )

    withdrawn = client.post(f"/api/v1/observations/{new['id']}/correct/", {"entered_in_error": True}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == ObservationStatus.ENTERED_IN_ERROR
    assert client.post(f"/api/v1/observations/{new['id']}/correct/", {}, format="json").status_code == 400


def test_observations_filter_by_code_and_since(gp, citizen):
    actor = as_actor(gp)
    observation_record(actor=actor, citizen=citizen, reading=weight("70"))
    old = Reading(
        code=ObservationCode.HEART_RATE,
        value="70",
        unit="/min",
        effective_at=timezone.now() - datetime.timedelta(days=3),
        source="citizen",
    )
    observation_record(actor=actor, citizen=citizen, reading=old)
    client = client_for(gp)

    assert client.get("/api/v1/observations/", {"code": ObservationCode.HEART_RATE}).json()["count"] == 1
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    rows = client.get("/api/v1/observations/", {"since": since}).json()["results"]
    assert [r["code"] for r in rows] == [ObservationCode.BODY_WEIGHT]
    assert client.get("/api/v1/observations/", {"since": "last week"}).status_code == 400


def test_an_observation_list_logs_its_citizen_once_without_reading_the_citizen(gp, clinic, citizen):
    actor = as_actor(gp)
    for value in ("70", "71", "72"):
        observation_record(actor=actor, citizen=citizen, reading=weight(value))
    client = client_for(gp)
    client.get("/api/v1/me/")  # the identity cache is warm
    before = AccessLogEntry.objects.count()

    with CaptureQueriesContext(connection) as ctx:
        rows = client.get("/api/v1/observations/", {"citizen": str(citizen.pk)}).json()["results"]

    assert [row["citizen"] for row in rows] == [str(citizen.pk)] * 3
    entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert [(e.action, e.reason, e.citizen_id, e.organisation_id, e.detail) for e in entries] == [
        (AccessAction.API_READ, AccessReason.GP_CLINIC, citizen.pk, clinic.pk, "api observation list")
    ]
    assert not [q for q in ctx.captured_queries if '"citizens_citizen"."cpr"' in q["sql"]]  # no citizen row


def test_an_observation_list_for_a_citizen_outside_the_gate_is_empty_and_unlogged(gp, outsider, citizen):
    observation_record(actor=as_actor(gp), citizen=citizen, reading=weight("70"))
    before = AccessLogEntry.objects.count()

    for params in ({"citizen": str(citizen.pk)}, {"citizen": str(citizen.pk).replace("-", "")}, {}):
        body = client_for(outsider).get("/api/v1/observations/", params).json()
        assert (body["count"], body["results"]) == (0, [])
    assert client_for(gp).get("/api/v1/observations/", {"citizen": str(citizen.pk)}).json()["count"] == 1
    assert client_for(gp).get("/api/v1/observations/", {"citizen": "not-a-uuid"}).status_code == 400
    assert AccessLogEntry.objects.count() == before + 1  # the GP's read only


# --- bulk ----------------------------------------------------------------------------------------


def bulk(client, items):
    return client.post("/api/v1/observations/bulk/", {"items": items}, format="json")


def test_bulk_stores_1000_readings(gp, citizen):
    items = [reading_payload(citizen, value=str(60 + i % 30), external_id=f"dev-{i}") for i in range(1000)]

    response = bulk(client_for(gp), items)

    assert response.status_code == 201
    assert len(response.json()["ids"]) == 1000
    assert Observation.objects.count() == 1000


def test_bulk_refuses_1001_readings_and_none(gp, citizen):
    client = client_for(gp)

    too_many = bulk(client, [reading_payload(citizen)] * 1001)
    assert too_many.status_code == 400
    assert too_many.json() == {"items": ["At most 1000 measurements per request."]}
    assert bulk(client, []).status_code == 400
    assert client.post("/api/v1/observations/bulk/", {"items": "x"}, format="json").status_code == 400
    assert client.post("/api/v1/observations/bulk/", [reading_payload(citizen)], format="json").status_code == 400
    assert not Observation.objects.exists()


def test_one_bad_reading_among_ten_stores_nothing(gp, citizen):
    items = [reading_payload(citizen, external_id=f"dev-{i}") for i in range(10)]
    items[3]["value"] = "900"

    response = bulk(client_for(gp), items)

    assert response.status_code == 400
    assert response.json() == {"items": {"3": {"value": ["Weight 900 kg is not plausible (20–350)."]}}}
    assert not Observation.objects.exists()


def test_bulk_reports_every_wrong_reading_by_index(gp, citizen):
    items = [reading_payload(citizen) for _ in range(6)]
    items[1]["unit"] = "lbs"
    del items[2]["unit"]
    items[4]["value"] = "abc"
    items[5]["citizen"] = "not-a-uuid"

    errors = bulk(client_for(gp), items).json()["items"]

    assert set(errors) == {"1", "2", "4", "5"}
    assert errors["1"] == {"unit": ["Wrong unit lbs; expected kg."]}
    assert errors["2"] == {"unit": ["The unit is missing; expected kg."]}
    assert list(errors["4"]) == ["value"] and list(errors["5"]) == ["citizen"]
    assert not Observation.objects.exists()


def test_bulk_with_only_malformed_readings_names_each(gp, citizen):
    response = bulk(client_for(gp), [{"value": "70"}, "not a reading"])

    assert response.status_code == 400
    assert set(response.json()["items"]) == {"0", "1"}
    assert "effective_at" in response.json()["items"]["0"]


def test_bulk_returns_the_same_id_for_a_repeated_external_id(gp, citizen):
    client = client_for(gp)
    first = bulk(client, [reading_payload(citizen, external_id="a"), reading_payload(citizen, external_id="b")])

    again = bulk(client, [reading_payload(citizen, external_id="b"), reading_payload(citizen, external_id="c")])
    twice = bulk(client, [reading_payload(citizen, external_id="d"), reading_payload(citizen, external_id="d")])

    assert again.status_code == 201
    assert again.json()["ids"][0] == first.json()["ids"][1]
    assert twice.json()["ids"][0] == twice.json()["ids"][1]
    assert Observation.objects.count() == 4


def test_bulk_raises_alerts_for_threshold_crossings(gp, citizen, plan, threshold):
    items = [reading_payload(citizen, value=v) for v in ("75", "81", "86", "70")]

    bulk(client_for(gp), items)

    assert sorted(Alert.objects.values_list("severity", flat=True)) == [AlertSeverity.RED, AlertSeverity.YELLOW]


def test_bulk_makes_no_queries_per_reading(gp, citizen, plan, threshold):
    client = client_for(gp)

    def queries(n: int, start: int) -> int:
        items = [reading_payload(citizen, value="75", external_id=f"q-{start + i}") for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            assert bulk(client, items).status_code == 201
        return len(ctx.captured_queries)

    queries_10, queries_100 = queries(10, 0), queries(100, 1000)

    assert queries_100 < 40
    assert queries_100 - queries_10 <= 2  # at most another batch of inserts


# --- thresholds and alerts -----------------------------------------------------------------------


def test_thresholds_are_versioned(gp, citizen, threshold):
    client = client_for(gp)

    created = client.post(
        "/api/v1/thresholds/",
        {"citizen": str(citizen.pk), "code": ThresholdCode.BODY_WEIGHT, "reason": "Ny vægt", "yellow_high": "82"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["version"] == 2 and created.json()["is_current"]

    current = client.get("/api/v1/thresholds/").json()["results"]
    assert [(t["version"], t["yellow_high"]) for t in current] == [(2, "82.00")]
    history = client.get("/api/v1/thresholds/", {"history": "true"}).json()["results"]
    assert [t["version"] for t in history] == [2, 1]
    assert client.get("/api/v1/thresholds/", {"code": ThresholdCode.SYSTOLIC}).json()["count"] == 0


def test_a_threshold_needs_a_reason_and_ordered_limits(gp, citizen):
    client = client_for(gp)
    base = {"citizen": str(citizen.pk), "code": ThresholdCode.BODY_WEIGHT}

    assert "reason" in client.post("/api/v1/thresholds/", {**base, "red_high": 90}, format="json").json()
    disordered = client.post(
        "/api/v1/thresholds/", {**base, "reason": "x", "yellow_high": 95, "red_high": 90}, format="json"
    )
    assert disordered.status_code == 400
    assert client.post("/api/v1/thresholds/", {**base, "reason": "x"}, format="json").status_code == 400
    assert not Threshold.objects.exists()


def test_alerts_are_listed_filtered_and_acknowledged(gp, citizen, plan, threshold):
    actor = as_actor(gp)
    red = Alert.objects.get(observation=observation_record(actor=actor, citizen=citizen, reading=weight("86")))
    yellow = Alert.objects.get(observation=observation_record(actor=actor, citizen=citizen, reading=weight("81")))
    client = client_for(gp)

    assert client.get("/api/v1/alerts/", {"severity": "red"}).json()["results"][0]["id"] == red.pk
    acknowledged = client.post(f"/api/v1/alerts/{red.pk}/acknowledge/", {"note": "Ringet op"}, format="json")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["is_open"] is False and acknowledged.json()["acknowledged_by"]["id"] == gp.pk
    assert client.post(f"/api/v1/alerts/{red.pk}/acknowledge/", {}, format="json").status_code == 400
    assert [a["id"] for a in client.get("/api/v1/alerts/", {"open": "true"}).json()["results"]] == [yellow.pk]
    assert [a["id"] for a in client.get("/api/v1/alerts/", {"open": "false"}).json()["results"]] == [red.pk]

    bulk_ack = client.post("/api/v1/alerts/acknowledge-yellow/", {"citizen": str(citizen.pk)}, format="json")
    assert bulk_ack.json() == {"acknowledged": 1}
    assert client.get("/api/v1/alerts/", {"open": "true"}).json()["count"] == 0


def test_another_organisations_alert_is_not_found(alert, municipality_nurse):
    """The municipality sees the citizen, but the alert is the clinic's."""
    client = client_for(municipality_nurse)

    assert client.get("/api/v1/alerts/").json()["count"] == 0
    assert client.get(f"/api/v1/alerts/{alert.pk}/").status_code == 404
    assert client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {}, format="json").status_code == 404


# --- bad input never answers 500 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/careplans/", {"status": "x"}),
        ("/api/v1/careplans/", {"citizen": "not-a-uuid"}),
        ("/api/v1/careplans/", {"coordinating_organisation": "abc"}),
        ("/api/v1/goals/", {"handoff_status": "x"}),
        ("/api/v1/activities/", {"due_before": "soon"}),
        ("/api/v1/observations/", {"code": "x"}),
        ("/api/v1/thresholds/", {"code": "x"}),
        ("/api/v1/alerts/", {"severity": "purple"}),
    ],
)
def test_an_invalid_filter_is_a_400_naming_it(gp, plan, url, params):
    response = client_for(gp).get(url, params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/careplans/", {"citizen": "x", "title": "T", "coordinating_organisation": 0}),
        ("/api/v1/careplans/", ["not", "an", "object"]),
        ("/api/v1/goals/", {"care_plan": "x", "description": "d", "responsible_organisation": "x"}),
        ("/api/v1/activities/", {"care_plan": str(uuid.uuid4()), "description": "d", "responsible_organisation": 1}),
        ("/api/v1/observations/", {"citizen": 7, "value": [1]}),
        ("/api/v1/thresholds/", {"citizen": "x"}),
        ("/api/v1/alerts/acknowledge-yellow/", {"citizen": None}),
    ],
)
def test_malformed_bodies_are_400(gp, plan, url, body):
    assert client_for(gp).post(url, body, format="json").status_code == 400


def test_unknown_ids_are_404(gp):
    client = client_for(gp)

    assert client.get(f"/api/v1/careplans/{uuid.uuid4()}/").status_code == 404
    assert client.get("/api/v1/goals/999999/").status_code == 404
    assert client.get("/api/v1/observations/not-a-uuid/").status_code == 404
    assert (
        client.post(f"/api/v1/careplans/{uuid.uuid4()}/status/", {"status": "active"}, format="json").status_code == 404
    )


# --- query counts ----------------------------------------------------------------------------------


def _count_queries(client, url, params=None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(response.json()["results"]), len(ctx.captured_queries)


def test_list_endpoints_make_a_fixed_number_of_queries(gp, clinic, citizen, municipality_nurse):
    actor = as_actor(gp)
    client = client_for(gp)
    others = [CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality) for _ in range(2)]

    def add(n: int) -> None:
        for i in range(n):
            person = [citizen, *others][i % 3]
            plan = careplan_create(
                actor=actor,
                citizen=person,
                title=f"Plan {i}",
                coordinating_organisation=clinic,
                status=CarePlanStatus.ACTIVE,
                conditions=[],
            )
            goal_create(actor=actor, plan=plan, description=f"Mål {i}", responsible_organisation=person.municipality)
            activity_create(
                actor=actor,
                plan=plan,
                description=f"Aktivitet {i}",
                responsible_organisation=clinic,
                due_date=timezone.localdate(),
            )
            threshold_set(
                actor=actor, citizen=person, code=ThresholdCode.BODY_WEIGHT, reason=f"v{i}", yellow_high=Decimal(60 + i)
            )
            observation_record(actor=actor, citizen=person, reading=weight(str(70 + i)))

    urls = [
        ("/api/v1/careplans/", None),
        ("/api/v1/goals/", None),
        ("/api/v1/activities/", None),
        ("/api/v1/observations/", None),
        ("/api/v1/thresholds/", {"history": "true"}),
        ("/api/v1/alerts/", None),
    ]
    add(3)
    small = {url: _count_queries(client, url, params) for url, params in urls}
    add(12)
    large = {url: _count_queries(client, url, params) for url, params in urls}

    for url, _params in urls:
        assert small[url][0] == 3 and large[url][0] == 15, url
        assert small[url][1] == large[url][1], url


def test_pagination_has_a_count(gp, plan, citizen):
    for i in range(4):
        observation_record(actor=as_actor(gp), citizen=citizen, reading=weight(str(70 + i)))

    body = client_for(gp).get("/api/v1/observations/", {"page_size": 3}).json()

    assert body["count"] == 4 and len(body["results"]) == 3 and body["next"]


# --- the schema ------------------------------------------------------------------------------------


def test_the_schema_documents_every_endpoint(client):
    schema = client.get("/api/schema/").content.decode()

    paths = [
        "/api/v1/careplans/",
        "/api/v1/careplans/{id}/",
        "/api/v1/careplans/{id}/status/",
        "/api/v1/careplans/{id}/team/",
        "/api/v1/goals/",
        "/api/v1/goals/{id}/",
        "/api/v1/goals/{id}/status/",
        "/api/v1/goals/{id}/accept/",
        "/api/v1/goals/{id}/reject/",
        "/api/v1/goals/{id}/reassign/",
        "/api/v1/activities/",
        "/api/v1/activities/{id}/",
        "/api/v1/activities/{id}/status/",
        "/api/v1/activities/{id}/done/",
        "/api/v1/activities/{id}/accept/",
        "/api/v1/activities/{id}/reject/",
        "/api/v1/activities/{id}/reassign/",
        "/api/v1/observations/",
        "/api/v1/observations/{id}/",
        "/api/v1/observations/{id}/correct/",
        "/api/v1/observations/bulk/",
        "/api/v1/thresholds/",
        "/api/v1/alerts/",
        "/api/v1/alerts/{id}/",
        "/api/v1/alerts/{id}/acknowledge/",
        "/api/v1/alerts/acknowledge-yellow/",
    ]
    for path in paths:
        assert f"{path}:" in schema, path
    assert "invalid_transition" in schema
