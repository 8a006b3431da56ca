import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from careplans.choices import AlertSeverity, CarePlanStatus, HandoffStatus, ObservationCode, ThresholdCode
from careplans.models import Alert, CareEvent
from careplans.monitoring import Reading, observation_record, threshold_set
from careplans.services import activity_create, careplan_create, careplan_set_status, goal_create, handoff_accept
from citizens.access import access_reason

pytestmark = pytest.mark.django_db


def test_plan_handoff_measurement_alert(world, actor):
    gp = actor("gp_a")
    plan = careplan_create(
        actor=gp, citizen=world.citizen, title="KOL-forløb", coordinating_organisation=world.clinic_a
    )
    careplan_set_status(actor=gp, plan=plan, status=CarePlanStatus.ACTIVE)
    goal_create(actor=gp, plan=plan, description="Blodtryk under 140/90", responsible_organisation=world.clinic_a)
    activity = activity_create(
        actor=gp,
        plan=plan,
        description="Mål blodtryk",
        responsible_organisation=world.municipality_b,
        weekdays="MO,TH",
        starts_on=timezone.localdate(),
    )
    assert activity.handoff_status == HandoffStatus.REQUESTED
    # municipality B had no relationship; it is on the care team now and can answer
    homecare_b = actor("homecare_b")
    assert access_reason(homecare_b, world.citizen)[0] == "care_team"
    handoff_accept(actor=homecare_b, handoff=activity.handoffs.get())
    assert CareEvent.objects.filter(kind="handoff-accepted", organisation=world.clinic_a).exists()
    threshold_set(
        actor=gp, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="KOL", yellow_high=150, red_high=170
    )
    obs = observation_record(
        actor=homecare_b,
        citizen=world.citizen,
        reading=Reading(
            code=ObservationCode.BLOOD_PRESSURE,
            value="180",
            value_2="95",
            unit="mm[Hg]",
            effective_at=timezone.now() - datetime.timedelta(minutes=1),
            source="home-care",
        ),
    )
    assert obs.value == Decimal("180")
    alert = Alert.objects.get()
    assert alert.severity == AlertSeverity.RED and alert.organisation == world.clinic_a
