"""Synthetic care plans for the synthetic region (``generate_region`` with ``careplans.generate``)."""

from __future__ import annotations

import datetime
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from careplans.choices import AlertKind, AlertSeverity, CarePlanStatus, CareTeamRole, HandoffStatus
from careplans.generate import OBSERVATIONS_PER_CITIZEN
from careplans.models import (
    Activity,
    Alert,
    CarePlan,
    CareTeamParticipant,
    Goal,
    Handoff,
    MonitoringSchedule,
    Observation,
    PlanChange,
    Threshold,
)
from careplans.selectors import alerts_worklist, careplan_get, observation_series, today_list
from citizens.access import Actor
from citizens.choices import RelationshipKind
from citizens.models import CareRelationship, Citizen
from citizens.relationships import relationships_recompute
from sectors.acting import resolve
from sectors.choices import MembershipRole, OrganisationKind
from sectors.models import Organisation
from sectors.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

CITIZENS = 2000


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """Generate once for the module, in a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("generate_region", citizens=CITIZENS, seed=5, stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def generated_region(generated, db):
    assert "Care plans:" in generated
    return generated


def staff(organisation: Organisation, role: str) -> Actor:
    user = MembershipFactory(organisation=organisation, role=role).user
    return Actor(user=user, acting=resolve(user, organisation.pk))


def test_a_quarter_of_the_citizens_get_a_plan_from_their_gp(generated_region):
    plans = CarePlan.objects.select_related("citizen")

    assert 0.22 * CITIZENS <= plans.count() <= 0.28 * CITIZENS
    assert plans.values("citizen").distinct().count() == plans.count()
    for plan in plans[:200]:
        assert plan.coordinating_organisation_id == plan.citizen.gp_clinic_id
    statuses = Counter(plans.values_list("status", flat=True))
    assert statuses[CarePlanStatus.ACTIVE] > 0.85 * plans.count()
    # titled after conditions the citizen has
    for plan in plans.prefetch_related("conditions", "citizen__conditions")[:100]:
        addressed = {c.pk for c in plan.conditions.all()}
        assert addressed and addressed <= {cc.condition_id for cc in plan.citizen.conditions.all()}
        assert plan.title.endswith("forløbsplan") or plan.title == "KOL-forløb"


def test_the_team_is_the_gp_clinic_the_municipality_and_for_a_few_a_department(generated_region):
    roles = Counter(CareTeamParticipant.objects.values_list("organisation__kind", "role"))
    departments = roles.pop((OrganisationKind.HOSPITAL_DEPARTMENT, CareTeamRole.HOSPITAL))

    assert roles == {
        (OrganisationKind.GP_CLINIC, CareTeamRole.COORDINATOR): CarePlan.objects.count(),
        (OrganisationKind.MUNICIPALITY, CareTeamRole.HOME_CARE): CarePlan.objects.count(),
    }
    assert 0 < departments < 0.08 * CarePlan.objects.count()
    # The generator wrote the care relationships of everything it made, as the services would have.
    assert not relationships_recompute()
    assert CareRelationship.objects.filter(kind=RelationshipKind.CARE_TEAM).exists()
    assert PlanChange.objects.filter(action="created").count() == CarePlan.objects.count()


def test_goals_and_activities_per_plan(generated_region):
    goals = Counter(dict(CarePlan.objects.annotate(n=Count("goals")).values_list("pk", "n")).values())
    activities = Counter(dict(CarePlan.objects.annotate(n=Count("activitys")).values_list("pk", "n")).values())

    assert set(goals) <= {2, 3, 4} and len(goals) >= 2
    assert set(activities) <= {2, 3, 4, 5} and len(activities) >= 3
    municipal = Activity.objects.filter(responsible_organisation__kind=OrganisationKind.MUNICIPALITY)
    assert not municipal.filter(weekdays="").exists()  # the municipality's activities recur
    assert municipal.values("care_plan").distinct().count() == CarePlan.objects.count()
    assert Goal.objects.exclude(target_value=None).exists()


def test_municipality_items_are_handed_off_and_mostly_accepted(generated_region):
    municipal_items = (
        Activity.objects.filter(responsible_organisation__kind=OrganisationKind.MUNICIPALITY).count()
        + Goal.objects.filter(responsible_organisation__kind=OrganisationKind.MUNICIPALITY).count()
    )
    statuses = Counter(Handoff.objects.values_list("status", flat=True))

    assert sum(statuses.values()) == municipal_items
    assert statuses[HandoffStatus.ACCEPTED] > 10 * statuses[HandoffStatus.REQUESTED]
    requested = Activity.objects.filter(handoff_status=HandoffStatus.REQUESTED)
    assert requested.count() == statuses[HandoffStatus.REQUESTED]
    assert not requested.exclude(status="not-started").exists()
    for handoff in Handoff.objects.filter(status=HandoffStatus.ACCEPTED)[:50]:
        assert handoff.answered_at > handoff.requested_at
        assert handoff.to_organisation.kind == OrganisationKind.MUNICIPALITY


def test_recurring_visits_are_due_soon_or_overdue(generated_region):
    today = timezone.localdate()
    running = Activity.objects.filter(status="in-progress")

    assert running.exists()
    assert not running.filter(next_due_on=None).exists()
    assert not running.filter(next_due_on__gt=today + datetime.timedelta(days=7)).exists()
    assert running.filter(next_due_on__lt=today).exists()  # some visits were missed
    assert not running.filter(last_done_on__gte=today).exists()


def test_thresholds_schedules_and_about_the_right_number_of_measurements(generated_region):
    observations = Observation.objects.count()

    assert abs(observations - CITIZENS * OBSERVATIONS_PER_CITIZEN) < 0.05 * CITIZENS * OBSERVATIONS_PER_CITIZEN
    schedules = MonitoringSchedule.objects.count()
    assert schedules > 0.7 * CarePlan.objects.exclude(status=CarePlanStatus.COMPLETED).count()
    assert Threshold.objects.filter(valid_to=None).count() >= schedules
    assert not Threshold.objects.filter(reason="").exists()
    oldest = Observation.objects.order_by("effective_at").first().effective_at
    assert oldest > timezone.now() - datetime.timedelta(days=91)
    assert not Observation.objects.filter(effective_at__gt=timezone.now()).exists()


def test_open_alerts_are_recent_and_older_ones_acknowledged(generated_region):
    open_alerts = Alert.objects.filter(acknowledged_at=None)
    recent = timezone.now() - datetime.timedelta(days=3, minutes=10)

    assert set(open_alerts.filter(kind=AlertKind.THRESHOLD).values_list("severity", flat=True)) == {
        AlertSeverity.RED,
        AlertSeverity.YELLOW,
    }
    assert not open_alerts.filter(kind=AlertKind.THRESHOLD, created_at__lt=recent).exists()
    assert Alert.objects.exclude(acknowledged_at=None).exists()
    assert open_alerts.count() < 0.1 * CarePlan.objects.count() * 2
    for alert in Alert.objects.filter(kind=AlertKind.THRESHOLD).select_related("observation", "threshold")[:100]:
        assert alert.threshold.code in ("8480-6", "29463-7", "59408-5")
        assert alert.observation.citizen_id == alert.citizen_id


def test_generated_rows_are_valid(generated_region):
    for model in (CarePlan, CareTeamParticipant, Goal, Activity, Handoff, Threshold, MonitoringSchedule, Alert):
        for row in model.objects.all()[:150]:
            row.full_clean(validate_unique=False)
    for row in Observation.objects.all()[:300]:
        row.full_clean(validate_unique=False)
        if row.value_2 is not None:
            assert row.value_2 < row.value


def test_the_generated_data_reads_through_the_selectors(generated_region):
    plan = CarePlan.objects.filter(status=CarePlanStatus.ACTIVE, monitoring_schedules__isnull=False).first()
    citizen = plan.citizen
    gp = staff(citizen.gp_clinic, MembershipRole.GP)
    nurse = staff(citizen.municipality, MembershipRole.HOME_CARE_NURSE)

    assert careplan_get(actor=gp, pk=plan.pk) == plan
    assert careplan_get(actor=nurse, pk=plan.pk) == plan
    code = plan.monitoring_schedules.first().code
    assert observation_series(citizen=citizen, code=code).count() >= 2
    assert isinstance(today_list(actor=nurse), list)
    assert all(a.organisation == nurse.organisation for a in alerts_worklist(actor=nurse))


def test_running_again_adds_more_plans(generated_region):
    before = CarePlan.objects.count(), Activity.objects.count(), Citizen.objects.count()

    call_command("generate_region", citizens=400, seed=5, stdout=StringIO())

    assert 0.15 * 400 < CarePlan.objects.count() - before[0] < 0.35 * 400
    assert Activity.objects.count() > before[1]
    assert Citizen.objects.count() == before[2] + 400
    activity_ids = list(Activity.objects.values_list("pk", flat=True))
    assert len(activity_ids) == len(set(activity_ids))


def test_citizens_only(generated_region):
    before = CarePlan.objects.count(), Citizen.objects.count()
    out = StringIO()

    call_command("generate_region", citizens=300, citizens_only=True, stdout=out)

    assert Citizen.objects.count() == before[1] + 300
    assert CarePlan.objects.count() == before[0]
    assert "Care plans" not in out.getvalue()
