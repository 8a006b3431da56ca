"""The care-plan admin: superusers see every row, other staff only rows of citizens inside the
access gate; everything is read-only here, measurements above all."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from careplans.choices import CarePlanStatus, HandoffStatus, ObservationCode, ThresholdCode
from careplans.models import (
    Activity,
    Alert,
    CareEvent,
    CarePlan,
    Handoff,
    MonitoringSchedule,
    Observation,
    PlanChange,
    Threshold,
)
from careplans.monitoring import Reading, observation_record, schedule_create, threshold_set
from careplans.services import activity_create, careplan_create, careplan_update, goal_create
from citizens.access import Actor
from citizens.choices import AccessAction
from citizens.models import AccessLogEntry
from citizens.tests.factories import CitizenFactory
from sectors.acting import resolve
from sectors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "careplan",
    "planchange",
    "handoff",
    "careevent",
    "observation",
    "threshold",
    "monitoringschedule",
    "alert",
]


@pytest.fixture(autouse=True)
def no_mfa_for_admins(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = False


def as_actor(user) -> Actor:
    return Actor(user=user, acting=resolve(user, None))


def records_for(user, clinic, *, title: str, last_name: str) -> dict:
    """A citizen of ``clinic`` with a plan, a hand-off, a threshold, a schedule, a measurement
    that crosses the threshold (an alert and an event) and a history entry."""
    actor = as_actor(user)
    citizen = CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality, last_name=last_name)
    plan = careplan_create(
        actor=actor, citizen=citizen, title=title, coordinating_organisation=clinic, status=CarePlanStatus.ACTIVE
    )
    careplan_update(actor=actor, plan=plan, description="Opdateret", comment="ny beskrivelse")
    goal_create(actor=actor, plan=plan, description=f"{title}: mål", responsible_organisation=citizen.municipality)
    activity_create(
        actor=actor,
        plan=plan,
        description=f"{title}: aktivitet",
        responsible_organisation=clinic,
        due_date=timezone.localdate(),
    )
    threshold_set(actor=actor, citizen=citizen, code=ThresholdCode.HEART_RATE, reason="Takykardi", yellow_high=100)
    schedule_create(
        actor=actor, citizen=citizen, code=ObservationCode.HEART_RATE, every_hours=24, monitoring_organisation=clinic
    )
    observation = observation_record(
        actor=actor,
        citizen=citizen,
        reading=Reading(
            code=ObservationCode.HEART_RATE,
            value="120",
            unit="/min",
            effective_at=timezone.now() - datetime.timedelta(minutes=3),
            source="citizen",
        ),
    )
    return {"citizen": citizen, "plan": plan, "observation": observation}


@pytest.fixture
def mine(gp, clinic):
    return records_for(gp, clinic, title="Insiderplan", last_name="Insidersen")


@pytest.fixture
def theirs(outsider, other_clinic):
    return records_for(outsider, other_clinic, title="Outsiderplan", last_name="Outsidersen")


@pytest.fixture
def staff_gp(gp):
    gp.is_staff = True
    gp.save()
    codenames = [
        f"{action}_{model}"
        for model in [*MODELS, "careteamparticipant", "goal", "activity"]
        for action in ("view", "change")
    ]
    gp.user_permissions.add(*Permission.objects.filter(content_type__app_label="careplans", codename__in=codenames))
    return gp


def test_every_model_has_a_changelist_for_the_superuser(client, superuser, mine, theirs):
    assert all(
        model.objects.exists() for model in (Handoff, CareEvent, Observation, Threshold, MonitoringSchedule, Alert)
    )
    client.force_login(superuser)

    for model in MODELS:
        response = client.get(f"/admin/careplans/{model}/")
        assert response.status_code == 200, model
    page = client.get("/admin/careplans/careplan/").content.decode()
    assert "Insiderplan" in page and "Outsiderplan" in page


def test_the_plan_page_shows_team_goals_activities_and_the_history_with_its_diff(client, superuser, mine):
    client.force_login(superuser)

    page = client.get(f"/admin/careplans/careplan/{mine['plan'].pk}/change/").content.decode()

    assert "Insiderplan: mål" in page and "Insiderplan: aktivitet" in page
    assert "ny beskrivelse" in page and "Opdateret" in page  # the history entry and its after value
    change = PlanChange.objects.filter(care_plan=mine["plan"], action="updated").get()
    detail = client.get(f"/admin/careplans/planchange/{change.pk}/change/").content.decode()
    assert "plan-diff" in detail and "Opdateret" in detail


def test_every_change_page_opens_for_the_superuser(client, superuser, mine):
    client.force_login(superuser)
    plan, citizen = mine["plan"], mine["citizen"]
    pages = {
        "careplan": plan.pk,
        "planchange": PlanChange.objects.filter(care_plan=plan).first().pk,
        "handoff": Handoff.objects.get(care_plan=plan).pk,
        "careevent": CareEvent.objects.filter(citizen=citizen).first().pk,
        "observation": mine["observation"].pk,
        "threshold": Threshold.objects.get(citizen=citizen).pk,
        "monitoringschedule": MonitoringSchedule.objects.get(citizen=citizen).pk,
        "alert": Alert.objects.get(citizen=citizen).pk,
    }

    for model, pk in pages.items():
        assert client.get(f"/admin/careplans/{model}/{pk}/change/").status_code == 200, model


def test_staff_non_superuser_sees_only_rows_inside_the_gate(client, staff_gp, mine, theirs):
    client.force_login(staff_gp)

    for model in MODELS:
        response = client.get(f"/admin/careplans/{model}/")
        assert response.status_code == 200, model
        assert "Outsider" not in response.content.decode(), model
    plans = client.get("/admin/careplans/careplan/").content.decode()
    assert "Insiderplan" in plans
    observations = client.get("/admin/careplans/observation/").content.decode()
    assert "Insidersen" in observations
    hidden = {
        "careplan": theirs["plan"].pk,
        "observation": theirs["observation"].pk,
        "alert": Alert.objects.get(citizen=theirs["citizen"]).pk,
        "handoff": Handoff.objects.get(care_plan=theirs["plan"]).pk,
        "planchange": PlanChange.objects.filter(care_plan=theirs["plan"]).first().pk,
    }
    for model, pk in hidden.items():
        assert client.get(f"/admin/careplans/{model}/{pk}/change/").status_code == 302, model  # "does not exist"
    assert client.get(f"/admin/careplans/careplan/{mine['plan'].pk}/change/").status_code == 200


def test_search_finds_by_cpr_and_name_within_the_gate(client, staff_gp, mine, theirs):
    client.force_login(staff_gp)

    own = client.get("/admin/careplans/observation/", {"q": mine["citizen"].cpr}).content.decode()
    other = client.get("/admin/careplans/careplan/", {"q": theirs["citizen"].cpr}).content.decode()

    assert "Insidersen" in own
    assert "Outsiderplan" not in other
    assert "Insiderplan" in client.get("/admin/careplans/careplan/", {"q": "insiderpl"}).content.decode()


def test_staff_without_an_organisation_sees_nothing(client, mine):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_careplan"))
    client.force_login(user)

    assert "Insiderplan" not in client.get("/admin/careplans/careplan/").content.decode()


def test_observations_cannot_be_added_changed_or_deleted(client, superuser, staff_gp, mine):
    observation = mine["observation"]
    for user in (superuser, staff_gp):
        client.force_login(user)
        url = f"/admin/careplans/observation/{observation.pk}/"
        assert client.get("/admin/careplans/observation/add/").status_code == 403
        assert client.post(f"{url}change/", {"value": "60", "unit": "/min"}).status_code == 403
        assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
        page = client.get(f"{url}change/").content.decode()
        assert 'name="value"' not in page  # shown, not editable
    observation.refresh_from_db()
    assert observation.value == 120 and Observation.objects.count() == 1


def test_plans_and_hand_offs_are_read_only_too(client, superuser, mine):
    """They change through the services, which keep the lifecycle, the history and the access log."""
    client.force_login(superuser)
    plan = mine["plan"]
    handoff = Handoff.objects.get(care_plan=plan)

    assert client.post(f"/admin/careplans/careplan/{plan.pk}/change/", {"title": "X"}).status_code == 403
    assert client.post(f"/admin/careplans/handoff/{handoff.pk}/change/", {"status": "accepted"}).status_code == 403
    assert client.post(f"/admin/careplans/careplan/{plan.pk}/delete/", {"post": "yes"}).status_code == 403
    plan.refresh_from_db()
    handoff.refresh_from_db()
    assert plan.title == "Insiderplan" and handoff.status == HandoffStatus.REQUESTED
    assert Activity.objects.filter(care_plan=plan).exists() and CarePlan.objects.count() == 1


def test_admin_reads_are_logged(client, staff_gp, mine):
    client.force_login(staff_gp)
    before = AccessLogEntry.objects.count()

    client.get("/admin/careplans/careplan/")
    client.get(f"/admin/careplans/careplan/{mine['plan'].pk}/change/")

    entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert [(e.action, e.citizen_id, e.user_id) for e in entries] == [
        (AccessAction.LIST, mine["citizen"].pk, staff_gp.pk),
        (AccessAction.VIEW, mine["citizen"].pk, staff_gp.pk),
    ]
