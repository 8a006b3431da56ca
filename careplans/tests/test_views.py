"""The care-plan pages: creating a plan, the plan page and its htmx section endpoints, the
charts' data and the citizen overview's sections; the outsider gets 404 everywhere."""

import datetime
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplans.choices import (
    ActivityStatus,
    CarePlanStatus,
    GoalLifecycleStatus,
    HandoffStatus,
    ObservationCode,
    ThresholdCode,
)
from careplans.models import Activity, CarePlan, CareTeamParticipant, Goal, Handoff, PlanChange
from careplans.monitoring import Reading, observation_record, threshold_set
from careplans.services import activity_create, careplan_create, goal_create, handoff_reject
from citizens.models import CitizenCondition, Condition

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def login(client, world, name: str):
    client.force_login(world.users[name])
    return client


def make_plan(world, actor, *, status=CarePlanStatus.ACTIVE, title="KOL-forløb") -> CarePlan:
    return careplan_create(
        actor=actor("gp_a"),
        citizen=world.citizen,
        title=title,
        coordinating_organisation=world.clinic_a,
        status=status,
    )


def blood_pressure(systolic, diastolic, minutes_ago: int) -> Reading:
    return Reading(
        code=ObservationCode.BLOOD_PRESSURE,
        value=systolic,
        value_2=diastolic,
        unit="mm[Hg]",
        effective_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        source="citizen",
    )


@pytest.fixture
def copd(world):
    condition = Condition.objects.get(icd10_code="J44")
    CitizenCondition.objects.create(citizen=world.citizen, condition=condition)
    return condition


# --- creating a plan ---------------------------------------------------------------------------


def test_create_page_offers_the_citizens_conditions_and_the_acting_organisation(client, world, copd):
    login(client, world, "gp_a")
    response = client.get(reverse("careplans:create", args=[world.citizen.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert copd.name_en in html
    assert re.search(rf'<option value="{world.clinic_a.pk}" selected\s*>', html)


def test_create_plan_redirects_to_the_plan_page_and_records_history(client, world, copd):
    login(client, world, "gp_a")
    gp = world.users["gp_a"]
    response = client.post(
        reverse("careplans:create", args=[world.citizen.pk]),
        {
            "title": "KOL-forløb",
            "conditions": [copd.pk],
            "intent": "plan",
            "period_start": timezone.localdate().isoformat(),
            "coordinating_organisation": world.clinic_a.pk,
            "coordinator": gp.pk,
            "description": "Fælles plan",
            "status": CarePlanStatus.ACTIVE,
        },
    )
    plan = CarePlan.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("careplans:detail", args=[plan.pk])
    assert plan.status == CarePlanStatus.ACTIVE and plan.coordinator == gp
    assert list(plan.conditions.all()) == [copd]
    assert PlanChange.objects.filter(care_plan=plan, action="created").exists()
    page = client.get(response.url)
    assert page.status_code == 200
    assert "KOL-forløb" in page.content.decode()


def test_create_plan_with_errors_shows_them_and_creates_nothing(client, world):
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:create", args=[world.citizen.pk]),
        {
            "title": "",
            "intent": "plan",
            "period_start": timezone.localdate().isoformat(),
            "coordinating_organisation": world.clinic_a.pk,
            # a coordinator who works elsewhere
            "coordinator": world.users["homecare_a"].pk,
            "status": CarePlanStatus.DRAFT,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "is not a member of" in html
    assert not CarePlan.objects.exists()


# --- the outsider ------------------------------------------------------------------------------


def _post_endpoints(plan, goal, activity, participant):
    return [
        ("careplans:plan_edit", [plan.pk], {"title": "x"}),
        ("careplans:plan_status", [plan.pk], {"status": CarePlanStatus.ON_HOLD}),
        ("careplans:team_add", [plan.pk], {"role": "other"}),
        ("careplans:team_end", [plan.pk, participant.pk], {}),
        ("careplans:goal_add", [plan.pk], {"description": "x"}),
        ("careplans:goal_status", [plan.pk, goal.pk], {"achievement": "achieved"}),
        ("careplans:activity_add", [plan.pk], {"description": "x"}),
        ("careplans:activity_status", [plan.pk, activity.pk], {"status": ActivityStatus.COMPLETED}),
        ("careplans:item_reassign", [plan.pk, "goals", goal.pk], {}),
        ("careplans:item_reassign", [plan.pk, "activities", activity.pk], {}),
    ]


def test_outsider_gets_404_on_the_plan_and_every_endpoint(client, world, actor):
    plan = make_plan(world, actor)
    goal = goal_create(actor=actor("gp_a"), plan=plan, description="Mål", responsible_organisation=world.clinic_a)
    activity = activity_create(
        actor=actor("gp_a"),
        plan=plan,
        description="Kontrol",
        responsible_organisation=world.clinic_a,
        due_date=timezone.localdate(),
    )
    participant = plan.participants.get(organisation=world.clinic_a)
    changes = PlanChange.objects.count()
    login(client, world, "gp_b")  # another clinic, no relationship with the citizen
    assert client.get(reverse("careplans:detail", args=[plan.pk])).status_code == 404
    assert client.get(reverse("careplans:detail", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("careplans:create", args=[world.citizen.pk])).status_code == 404
    assert client.post(reverse("careplans:create", args=[world.citizen.pk]), {"title": "x"}).status_code == 404
    for name, args, data in _post_endpoints(plan, goal, activity, participant):
        assert client.post(reverse(name, args=args), data).status_code == 404, name
        assert client.post(reverse(name, args=args), data, headers=HTMX).status_code == 404, name
    assert PlanChange.objects.count() == changes
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.ACTIVE and plan.title == "KOL-forløb"


def test_an_item_of_another_plan_is_not_found(client, world, actor):
    plan = make_plan(world, actor)
    other = make_plan(world, actor, title="Diabetes")
    goal = goal_create(actor=actor("gp_a"), plan=other, description="Mål", responsible_organisation=world.clinic_a)
    login(client, world, "gp_a")
    response = client.post(reverse("careplans:goal_status", args=[plan.pk, goal.pk]), {"achievement": "achieved"})
    assert response.status_code == 404
    response = client.post(reverse("careplans:item_reassign", args=[plan.pk, "tasks", goal.pk]), {})
    assert response.status_code == 404


# --- htmx sections -----------------------------------------------------------------------------


def test_htmx_goal_for_another_organisation_returns_the_sections_and_asks_it(client, world, actor):
    plan = make_plan(world, actor)
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:goal_add", args=[plan.pk]),
        {"description": "Går 30 minutter dagligt", "responsible_organisation": world.municipality_a.pk},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<body" not in html
    assert 'id="goals"' in html and "Går 30 minutter dagligt" in html
    assert (
        'id="history" class="card mb-3" aria-labelledby="history-heading" data-testid="history" hx-swap-oob="true"'
        in html
    )
    assert 'id="team"' in html and world.municipality_a.name in html
    assert "awaiting answer" in html
    goal = Goal.objects.get()
    assert goal.handoff_status == HandoffStatus.REQUESTED
    assert Handoff.objects.get(goal=goal).to_organisation == world.municipality_a
    assert CareTeamParticipant.objects.filter(care_plan=plan, organisation=world.municipality_a).exists()


def test_plain_post_redirects_back_to_the_section(client, world, actor):
    plan = make_plan(world, actor)
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:activity_add", args=[plan.pk]),
        {
            "description": "Mål blodtryk",
            "responsible_organisation": world.municipality_a.pk,
            "weekdays": ["MO", "TH"],
            "interval_weeks": 1,
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("careplans:detail", args=[plan.pk]) + "#activities"
    activity = Activity.objects.get()
    assert activity.weekdays == "MO,TH" and activity.next_due_on is not None
    assert activity.handoff_status == HandoffStatus.REQUESTED
    page = client.get(response.url).content.decode()
    assert "Every week on Monday, Thursday" in page
    assert "The activity is added." in page


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_invalid_goal_is_400_with_the_field_error_and_nothing_is_created(client, world, actor, headers):
    plan = make_plan(world, actor)
    changes = PlanChange.objects.count()
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:goal_add", args=[plan.pk]),
        {"description": "", "responsible_organisation": world.clinic_a.pk},
        headers=headers,
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(
        r'id="id_goal_description"[^>]*>.*?</textarea>\s*<div class="invalid-feedback d-block">', html, re.S
    )
    assert "This field is required." in html
    assert ("<html" in html) == (not headers)
    assert not Goal.objects.exists()
    assert PlanChange.objects.count() == changes


def test_service_errors_land_on_the_form(client, world, actor):
    plan = make_plan(world, actor)
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:activity_add", args=[plan.pk]),
        {"description": "Kontrol", "responsible_organisation": world.clinic_a.pk, "interval_weeks": 1},
        headers=HTMX,
    )
    assert response.status_code == 400
    assert "Give a due date or a recurrence." in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_impossible_status_change_is_shown_and_changes_nothing(client, world, actor, headers):
    plan = make_plan(world, actor, status=CarePlanStatus.DRAFT)
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:plan_status", args=[plan.pk]), {"status": CarePlanStatus.COMPLETED}, headers=headers
    )
    assert response.status_code == 400
    assert "The status cannot change from “Draft” to “Completed”." in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.DRAFT
    assert not PlanChange.objects.filter(care_plan=plan, action="status").exists()


def test_status_buttons_offer_the_allowed_next_statuses_and_change_it(client, world, actor):
    plan = make_plan(world, actor, status=CarePlanStatus.DRAFT)
    login(client, world, "gp_a")
    html = client.get(reverse("careplans:detail", args=[plan.pk])).content.decode()
    offered = set(re.findall(r'<button type="submit" name="status" value="([a-z-]+)"', html))
    assert offered == {"active", "revoked", "entered-in-error"}
    response = client.post(
        reverse("careplans:plan_status", args=[plan.pk]),
        {"status": CarePlanStatus.ACTIVE, "comment": "Aftalt med borgeren"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="plan-header"' in html and 'id="history"' in html
    assert "Aftalt med borgeren" in html
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.ACTIVE


def test_organisation_not_on_the_team_gets_403_with_the_reason(client, world, actor):
    plan = make_plan(world, actor)
    login(client, world, "homecare_a")  # the citizen's municipality: may read, is not on the team
    page = client.get(reverse("careplans:detail", args=[plan.pk]))
    assert page.status_code == 200
    assert "Only organisations on the care team change the plan." in page.content.decode()
    response = client.post(
        reverse("careplans:goal_add", args=[plan.pk]),
        {"description": "Mål", "responsible_organisation": world.municipality_a.pk},
        headers=HTMX,
    )
    assert response.status_code == 403
    assert "Only organisations on the care team change the plan." in response.content.decode()
    assert not Goal.objects.exists()


def test_goal_status_by_its_owner_and_rejected_hand_off_badge(client, world, actor):
    plan = make_plan(world, actor)
    own = goal_create(actor=actor("gp_a"), plan=plan, description="HbA1c", responsible_organisation=world.clinic_a)
    asked = goal_create(
        actor=actor("gp_a"), plan=plan, description="Træning", responsible_organisation=world.municipality_a
    )
    handoff_reject(actor=actor("homecare_a"), handoff=asked.handoffs.get(), reason="Ikke vores opgave")
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:goal_status", args=[plan.pk, own.pk]),
        {"lifecycle_status": GoalLifecycleStatus.ACTIVE, "achievement": "improving", "comment": "God start"},
        headers=HTMX,
    )
    assert response.status_code == 200
    own.refresh_from_db()
    assert own.lifecycle_status == GoalLifecycleStatus.ACTIVE and own.achievement == "improving"
    assert "rejected: Ikke vores opgave" in response.content.decode()
    # nothing chosen: an error at the goal, nothing written
    response = client.post(reverse("careplans:goal_status", args=[plan.pk, own.pk]), {}, headers=HTMX)
    assert response.status_code == 400
    assert "Choose a new status or achievement." in response.content.decode()


def test_reassign_withdraws_the_request_and_asks_the_new_owner(client, world, actor):
    plan = make_plan(world, actor)
    activity = activity_create(
        actor=actor("gp_a"),
        plan=plan,
        description="Sårpleje",
        responsible_organisation=world.municipality_a,
        due_date=timezone.localdate(),
    )
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:item_reassign", args=[plan.pk, "activities", activity.pk]),
        {"organisation": world.department.pk, "comment": "Indlagt"},
        headers=HTMX,
    )
    assert response.status_code == 200
    activity.refresh_from_db()
    assert activity.responsible_organisation == world.department
    assert set(Handoff.objects.values_list("to_organisation", "status")) == {
        (world.municipality_a.pk, HandoffStatus.CANCELLED),
        (world.department.pk, HandoffStatus.REQUESTED),
    }


def test_team_add_and_end(client, world, actor):
    plan = make_plan(world, actor)
    login(client, world, "gp_a")
    nurse = world.users["homecare_a"]
    response = client.post(
        reverse("careplans:team_add", args=[plan.pk]),
        {
            "organisation": world.municipality_a.pk,
            "role": "home-care",
            "person": nurse.pk,
            "period_start": timezone.localdate().isoformat(),
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    participant = CareTeamParticipant.objects.get(care_plan=plan, organisation=world.municipality_a)
    assert participant.person == nurse
    response = client.post(
        reverse("careplans:team_end", args=[plan.pk, participant.pk]), {"comment": "Afsluttet"}, headers=HTMX
    )
    assert response.status_code == 200
    participant.refresh_from_db()
    assert participant.period_end == timezone.localdate()
    # the coordinator cannot leave: the service's reason is shown at the participant
    coordinator = CareTeamParticipant.objects.get(care_plan=plan, role="coordinator")
    response = client.post(reverse("careplans:team_end", args=[plan.pk, coordinator.pk]), {}, headers=HTMX)
    assert response.status_code == 400
    assert "Choose another coordinating organisation" in response.content.decode()


def test_organisation_search_answers_json(client, world):
    login(client, world, "gp_a")
    response = client.get(reverse("careplans:organisation_search"), {"q": world.department.name})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [world.department.pk]
    assert client.get(reverse("careplans:organisation_search"), {"q": "x"}).json() == {"results": []}


# --- the plan page -----------------------------------------------------------------------------


def _add_items(world, actor, plan, count: int) -> None:
    gp = actor("gp_a")
    for i in range(count // 2):
        owner = world.clinic_a if i % 2 == 0 else world.municipality_a
        goal_create(actor=gp, plan=plan, description=f"Mål {i}", responsible_organisation=owner)
        activity_create(
            actor=gp,
            plan=plan,
            description=f"Aktivitet {i}",
            responsible_organisation=owner,
            responsible_person=world.users["gp_a"] if owner == world.clinic_a else None,
            weekdays=["MO"] if i % 2 else [],
            due_date=timezone.localdate(),
        )


def _page_queries(client, plan) -> int:
    url = reverse("careplans:detail", args=[plan.pk])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_plan_page_query_count_does_not_grow_with_goals_and_activities(client, world, actor):
    small, large = make_plan(world, actor, title="Lille"), make_plan(world, actor, title="Stor")
    _add_items(world, actor, small, 2)
    _add_items(world, actor, large, 12)
    login(client, world, "gp_a")
    _page_queries(client, small)  # warm up (session, content types)
    assert _page_queries(client, large) == _page_queries(client, small)


def test_activities_are_grouped_by_responsible_organisation(client, world, actor):
    plan = make_plan(world, actor)
    _add_items(world, actor, plan, 4)
    login(client, world, "gp_a")
    html = client.get(reverse("careplans:detail", args=[plan.pk])).content.decode()
    groups = re.findall(r'data-testid="activity-group">\s*<h3[^>]*><i[^>]*></i> ([^<]+)</h3>', html)
    assert groups == sorted([world.clinic_a.name, world.municipality_a.name])


def test_timeline_shows_the_change_as_a_diff(client, world, actor, copd):
    plan = make_plan(world, actor)
    login(client, world, "gp_a")
    response = client.post(
        reverse("careplans:plan_edit", args=[plan.pk]),
        {
            "title": "KOL og hjertesvigt",
            "conditions": [copd.pk],
            "intent": "plan",
            "period_start": plan.period_start.isoformat(),
            "coordinating_organisation": world.clinic_a.pk,
            "comment": "Nyt fokus",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    diff = re.search(
        r'<table class="table table-sm small mb-1 mt-1" data-testid="history-diff">(.*?)</table>', html, re.S
    )
    assert diff is not None
    rows = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", diff.group(1)))
    assert "Title KOL-forløb KOL og hjertesvigt" in rows
    assert "Conditions addressed — J44" in rows
    assert "Nyt fokus" in html
    plan.refresh_from_db()
    assert plan.title == "KOL og hjertesvigt"


def _chart_data(html: str, code: str) -> dict:
    match = re.search(rf'<script id="chart-data-{code}" type="application/json">(.*?)</script>', html, re.S)
    assert match is not None, f"no chart data for {code}"
    return json.loads(match.group(1))


def test_chart_data_has_the_observations_and_the_limits(client, world, actor):
    plan = make_plan(world, actor)
    gp = actor("gp_a")
    threshold_set(
        actor=gp, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="KOL", yellow_high=150, red_high=170
    )
    threshold_set(actor=gp, citizen=world.citizen, code=ThresholdCode.DIASTOLIC, reason="KOL", yellow_high=95)
    observation_record(actor=gp, citizen=world.citizen, reading=blood_pressure(142, 88, 120))
    observation_record(actor=gp, citizen=world.citizen, reading=blood_pressure("161", "97", 30))
    old = blood_pressure(120, 80, 60 * 24 * 100)  # outside the 90 days
    observation_record(actor=gp, citizen=world.citizen, reading=old)
    login(client, world, "gp_a")
    html = client.get(reverse("careplans:detail", args=[plan.pk])).content.decode()
    data = _chart_data(html, ObservationCode.BLOOD_PRESSURE)
    systolic, diastolic = data["series"]
    assert [point[1] for point in systolic["points"]] == [142.0, 161.0]
    assert [point[1] for point in diastolic["points"]] == [88.0, 97.0]
    assert systolic["limits"] == {"red_low": None, "yellow_low": None, "yellow_high": 150.0, "red_high": 170.0}
    assert diastolic["limits"]["yellow_high"] == 95.0
    assert data["unit"] == "mmHg"
    assert 'data-chart="chart-data-85354-9"' in html
    assert f"chart-data-{ObservationCode.HEART_RATE}" not in html  # no data, no chart


# --- the citizen overview ----------------------------------------------------------------------


def test_citizen_overview_shows_the_active_plan_measurements_and_alerts(client, world, actor):
    plan = make_plan(world, actor)
    goal_create(actor=actor("gp_a"), plan=plan, description="Mål", responsible_organisation=world.clinic_a)
    gp = actor("gp_a")
    threshold_set(actor=gp, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="KOL", red_high=170)
    observation_record(actor=gp, citizen=world.citizen, reading=blood_pressure(182, 90, 10))
    login(client, world, "gp_a")
    response = client.get(reverse("citizens:detail", args=[world.citizen.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("careplans:detail", args=[plan.pk]) in html and "KOL-forløb" in html
    assert "1 goal" in html
    assert reverse("careplans:create", args=[world.citizen.pk]) in html
    assert 'data-severity="red"' in html and "182/90 mmHg" in html
    assert "Blood pressure outside the limits" in html  # the clinic's open alert


def test_citizen_overview_lists_closed_plans_collapsed_under_their_own_heading(client, world, actor):
    make_plan(world, actor, title="Gammel plan", status=CarePlanStatus.DRAFT)
    CarePlan.objects.update(status=CarePlanStatus.COMPLETED, period_end=timezone.localdate())
    login(client, world, "gp_a")
    html = client.get(reverse("citizens:detail", args=[world.citizen.pk])).content.decode()
    assert "No open care plans." in html
    closed = html[html.index('data-testid="closed-care-plans"') :]
    assert closed.index("Closed care plans") < closed.index("Gammel plan")
    assert f'<a href="{reverse("careplans:detail", args=[CarePlan.objects.get().pk])}">Gammel plan</a>' in closed
    assert '<details class="card-body border-top" data-testid="closed-care-plans">' in html  # collapsed


def test_decimal_limits_render_without_exponent(client, world, actor):
    plan = make_plan(world, actor)
    gp = actor("gp_a")
    threshold_set(
        actor=gp, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="KOL", yellow_high=Decimal("150")
    )
    observation_record(actor=gp, citizen=world.citizen, reading=blood_pressure(140, 80, 10))
    login(client, world, "gp_a")
    html = client.get(reverse("careplans:detail", args=[plan.pk])).content.decode()
    assert "&gt; 150" in html and "E+" not in html
