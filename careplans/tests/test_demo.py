"""The demo care plans (``careplans.demo``): realistic, made through the services, idempotent."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from careplans.choices import AlertKind, AlertSeverity, CarePlanStatus, HandoffStatus, ObservationCode
from careplans.demo import careplan_demo_load
from careplans.models import Activity, Alert, CarePlan, Goal, Handoff, MonitoringSchedule, Observation, Threshold
from careplans.programmes import BY_CODE, plan_title
from careplans.selectors import alerts_worklist, handoffs_incoming, today_list
from citizens.access import Actor
from citizens.demo import citizen_demo_load
from citizens.models import Citizen
from sectors.acting import resolve
from sectors.demo import demo_data_load
from sectors.models import User
from sectors.reference import reference_data_load


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load the demo once for the module, in a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        reference_data_load()
        demo_data_load()
        citizen_demo_load()
        counts = careplan_demo_load()
        yield counts
        transaction.set_rollback(True)


def persona(email: str) -> Actor:
    user = User.objects.get(email=email)
    return Actor(user=user, acting=resolve(user, None))


def test_most_citizens_of_the_odense_gp_have_an_active_plan(demo, db):
    gp = persona("gp@smartcare.example")
    citizens = Citizen.objects.filter(gp_clinic=gp.organisation)
    plans = CarePlan.objects.filter(citizen__in=citizens)

    assert citizens.count() == 44
    assert 0.7 * 44 <= plans.count() < 44
    assert set(plans.values_list("status", flat=True)) == {CarePlanStatus.ACTIVE}
    assert set(plans.values_list("coordinating_organisation", flat=True)) == {gp.organisation.pk}
    assert plans.values("citizen").distinct().count() == plans.count()  # one plan each
    assert demo["care plans"] == CarePlan.objects.count()


def test_plans_are_titled_after_the_conditions(demo, db):
    titles = set(CarePlan.objects.values_list("title", flat=True))

    assert "KOL-forløb" in titles or any(t.startswith("KOL og") for t in titles)
    assert any("Type 2-diabetes" in t for t in titles)
    assert any(t.startswith("Hjertesvigt") for t in titles)
    for plan in CarePlan.objects.prefetch_related("conditions", "citizen__conditions"):
        addressed = {c.icd10_code for c in plan.conditions.all()}
        assert addressed and addressed <= {cc.condition.icd10_code for cc in plan.citizen.conditions.all()}


def test_plan_titles():
    assert plan_title([BY_CODE["J44"]]) == "KOL-forløb"
    assert plan_title([BY_CODE["E11"]]) == "Type 2-diabetes – forløbsplan"
    assert plan_title([BY_CODE["I50"], BY_CODE["I10"]]) == "Hjertesvigt og forhøjet blodtryk – forløbsplan"
    assert plan_title([BY_CODE["J44"], BY_CODE["I25"], BY_CODE["F32"]]) == (
        "KOL, iskæmisk hjertesygdom og depression – forløbsplan"
    )


def test_every_plan_has_goals_activities_a_team_and_a_history(demo, db):
    for plan in CarePlan.objects.prefetch_related("goals", "activitys", "participants", "changes"):
        assert 1 <= len(plan.goals.all()) <= 4
        assert 1 <= len(plan.activitys.all()) <= 5
        team = {p.organisation_id for p in plan.participants.all()}
        assert plan.coordinating_organisation_id in team
        assert plan.changes.filter(action="created").exists()
        assert plan.period_start < timezone.localdate() - datetime.timedelta(days=90)
    measurable = Goal.objects.exclude(target_value=None)
    assert measurable.filter(target_code="8480-6", target_value=140).exists()
    assert Goal.objects.filter(target_text="HbA1c < 53 mmol/mol").exists()


def test_municipality_activities_recur_and_most_are_accepted(demo, db):
    municipal = Activity.objects.filter(responsible_organisation__kind="municipality")
    accepted = municipal.filter(handoff_status=HandoffStatus.ACCEPTED)
    requested = municipal.filter(handoff_status=HandoffStatus.REQUESTED)

    assert municipal.exclude(weekdays="").count() == municipal.count()
    assert municipal.filter(description="Blodtryksmåling i hjemmet", weekdays="MO,TH").exists()
    assert municipal.filter(description__startswith="KOL-rehabilitering", weekdays="TU").exists()
    assert accepted.count() > 5 * requested.count() > 0
    # the hand-offs are real: requested by the GP, answered by the municipality
    handoff = Handoff.objects.filter(activity__in=accepted).select_related("activity").first()
    assert handoff.answered_by is not None and handoff.answered_at > handoff.requested_at
    assert Handoff.objects.filter(status=HandoffStatus.REQUESTED).count() == requested.count() + 1  # + OUH


def test_the_odense_home_care_nurse_has_a_today_list(demo, db):
    nurse = persona("homecare.odense@smartcare.example")
    rows = today_list(actor=nurse)

    assert 5 <= len(rows) <= 80
    assert {a.responsible_organisation_id for a in rows} == {nurse.organisation.pk}
    assert all(a.next_due_on <= timezone.localdate() for a in rows)
    assert any(a.next_due_on < timezone.localdate() for a in rows)  # something was missed
    assert len(handoffs_incoming(actor=nurse)) >= 1


def test_thresholds_schedules_and_measurements(demo, db):
    assert Threshold.objects.exists()
    assert not Threshold.objects.filter(reason="").exists()
    assert set(Threshold.objects.values_list("set_by_organisation__kind", flat=True)) == {"gp_clinic"}
    assert MonitoringSchedule.objects.count() >= CarePlan.objects.count() // 2
    codes = Counter(Observation.objects.values_list("code", flat=True))
    assert codes[ObservationCode.BLOOD_PRESSURE] > codes[ObservationCode.BODY_WEIGHT] > 0
    assert codes[ObservationCode.SPO2] > 0
    oldest = Observation.objects.order_by("effective_at").first().effective_at
    assert timezone.now() - datetime.timedelta(days=91) < oldest < timezone.now() - datetime.timedelta(days=85)
    # about one measurement per 1-3 days for each series
    per_series = Observation.objects.filter(code=ObservationCode.BLOOD_PRESSURE).count() / max(
        1, MonitoringSchedule.objects.filter(code=ObservationCode.BLOOD_PRESSURE).count()
    )
    assert 25 <= per_series <= 95
    for obs in Observation.objects.filter(code=ObservationCode.BLOOD_PRESSURE)[:300]:
        assert 60 <= obs.value <= 230 and obs.value_2 < obs.value


def test_there_are_open_red_and_yellow_alerts(demo, db):
    open_alerts = Alert.objects.filter(acknowledged_at=None)
    severities = set(open_alerts.filter(kind=AlertKind.THRESHOLD).values_list("severity", flat=True))

    assert severities == {AlertSeverity.RED, AlertSeverity.YELLOW}
    assert open_alerts.filter(kind=AlertKind.MISSING).exists()
    assert open_alerts.count() < 80
    gp = persona("gp@smartcare.example")
    worklist = alerts_worklist(actor=gp)
    assert worklist and worklist[0].severity == AlertSeverity.RED
    recent = timezone.now() - datetime.timedelta(days=4)
    assert not open_alerts.filter(kind=AlertKind.THRESHOLD, created_at__lt=recent).exists()


def test_a_second_run_creates_nothing(demo, db):
    counts = [m.objects.count() for m in (CarePlan, Goal, Activity, Handoff, Observation, Alert)]

    assert careplan_demo_load() == Counter()
    assert [m.objects.count() for m in (CarePlan, Goal, Activity, Handoff, Observation, Alert)] == counts


def test_refuses_to_run_in_production(db, settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="production"):
        careplan_demo_load()
