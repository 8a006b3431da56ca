"""The rules that used to live only in the pages: who may be asked to monitor a citizen's
measurements and who sets limits, enforced by the services; and navigation badges that count
exactly what the gated work lists show."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from careplans.choices import CareTeamRole, ObservationCode, ThresholdCode
from careplans.models import MonitoringSchedule, Threshold
from careplans.monitoring import observation_record, schedule_create, threshold_set
from careplans.selectors import alerts_worklist, handoffs_incoming, navigation_counts
from careplans.services import activity_create, careteam_add
from citizens.choices import ObjectionTarget
from citizens.permissions import may_monitor, may_set_thresholds
from citizens.services import objection_record

from .helpers import active_plan, blood_pressure

pytestmark = pytest.mark.django_db

GP = "gp_a"  # the citizen's GP, who sets the limits and schedules

BP = ObservationCode.BLOOD_PRESSURE


# --- who may monitor ---------------------------------------------------------------------------


def test_an_organisation_without_a_care_relationship_cannot_be_made_to_monitor(world, actor):
    gp = actor(GP)
    with pytest.raises(ValidationError) as excinfo:
        schedule_create(
            actor=gp, citizen=world.citizen, code=BP, every_hours=24, monitoring_organisation=world.clinic_b
        )
    assert "monitoring_organisation" in excinfo.value.message_dict
    assert not MonitoringSchedule.objects.exists()


def test_an_organisation_the_citizen_objected_to_cannot_monitor(world, actor):
    gp = actor(GP)
    object_to_the_municipality(world, gp)
    assert not may_monitor(world.municipality_a, world.citizen)
    with pytest.raises(ValidationError):
        schedule_create(
            actor=gp, citizen=world.citizen, code=BP, every_hours=24, monitoring_organisation=world.municipality_a
        )


def test_the_gp_the_municipality_and_the_care_team_may_monitor(world, actor):
    gp = actor(GP)
    plan = active_plan(world, gp)
    careteam_add(actor=gp, plan=plan, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE)
    for organisation in (world.clinic_a, world.municipality_a, world.municipality_b):
        assert may_monitor(organisation, world.citizen)
        schedule_create(actor=gp, citizen=world.citizen, code=BP, every_hours=24, monitoring_organisation=organisation)
    assert MonitoringSchedule.objects.count() == 3
    assert not may_monitor(world.clinic_b, world.citizen)


def test_the_schedule_form_offers_only_organisations_that_may_monitor(client, world, actor):
    gp = actor(GP)
    active_plan(world, gp)
    object_to_the_municipality(world, gp)
    client.force_login(world.users["gp_a"])
    response = client.get(reverse("careplans:thresholds", args=[world.citizen.pk]))
    assert response.status_code == 200
    offered = set(response.context["schedule_form"].fields["monitoring_organisation"].queryset)
    assert offered == {world.clinic_a}


# --- who sets limits ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["assistant_a", "admin_b"])
def test_only_clinicians_set_limits_and_schedules(world, actor, name):
    someone = actor(name)
    assert not may_set_thresholds(someone)
    with pytest.raises(PermissionDenied):
        threshold_set(actor=someone, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="x", yellow_high=150)
    with pytest.raises(PermissionDenied):
        schedule_create(
            actor=someone, citizen=world.citizen, code=BP, every_hours=24, monitoring_organisation=world.clinic_a
        )
    assert not Threshold.objects.exists() and not MonitoringSchedule.objects.exists()


def test_the_api_refuses_limits_from_a_non_clinician(client, world):
    client.force_login(world.users["assistant_a"])
    response = client.post(
        "/api/v1/thresholds/",
        {"citizen": str(world.citizen.pk), "code": ThresholdCode.SYSTOLIC, "reason": "x", "yellow_high": "150"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Threshold.objects.exists()


# --- badges count what the lists show ----------------------------------------------------------


def alert_for_the_municipality(world, gp, *, red: bool = False) -> None:
    """A blood pressure over the limits, which the municipality monitors."""
    limit = {"red_high": 150} if red else {"yellow_high": 150}
    threshold_set(actor=gp, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="KOL", **limit)
    schedule_create(
        actor=gp, citizen=world.citizen, code=BP, every_hours=24, monitoring_organisation=world.municipality_a
    )
    observation_record(actor=gp, citizen=world.citizen, reading=blood_pressure("160", "80"))


def object_to_the_municipality(world, gp) -> None:
    objection_record(
        actor=gp, citizen=world.citizen, target=ObjectionTarget.ORGANISATION, organisation=world.municipality_a
    )


def test_badges_equal_the_gated_lists_when_access_ends(world, actor):
    """The municipality gets an alert and a hand-off request, then the citizen objects to it: the
    lists drop the citizen, and so must the badges."""
    gp = actor(GP)
    plan = active_plan(world, gp)
    visit = {"description": "Blodtryksmåling i hjemmet", "due_date": timezone.localdate()}
    activity_create(actor=gp, plan=plan, responsible_organisation=world.municipality_a, **visit)
    alert_for_the_municipality(world, gp)
    homecare = actor("homecare_a")
    assert navigation_counts(actor=homecare) == {
        "handoffs": 1, "alerts": 1, "red_alerts": 0, "handoffs_label": "1", "alerts_label": "1", "red_alerts_label": "0"
    }  # fmt: skip

    object_to_the_municipality(world, gp)

    assert alerts_worklist(actor=homecare) == [] and handoffs_incoming(actor=homecare) == []
    nav = navigation_counts(actor=homecare)
    assert (nav["handoffs"], nav["alerts"], nav["red_alerts"]) == (0, 0, 0)


def test_the_badge_on_a_page_equals_the_alert_list(client, world, actor):
    gp = actor(GP)
    alert_for_the_municipality(world, gp, red=True)
    object_to_the_municipality(world, gp)
    client.force_login(world.users["homecare_a"])
    response = client.get(reverse("careplans:alerts"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    nav = response.context["worklist_nav"]
    assert (nav["alerts"], nav["red_alerts"], nav["handoffs"]) == (0, 0, 0)


def test_the_badges_count_up_to_their_cap_and_red_alerts_first(client, world, actor, monkeypatch):
    """Beyond the cap a badge says "cap+" (counting a large municipality's lists through the gate
    on every page cost too much); the red ones are counted first, so a red alert colours the badge
    however many yellow ones there are."""
    gp = actor(GP)
    alert_for_the_municipality(world, gp)  # yellow
    alert_for_the_municipality(world, gp)
    alert_for_the_municipality(world, gp, red=True)
    homecare = actor("homecare_a")
    nav = navigation_counts(actor=homecare, cap=1)
    assert (nav["alerts"], nav["alerts_label"], nav["red_alerts"], nav["red_alerts_label"]) == (2, "1+", 1, "1")
    assert navigation_counts(actor=homecare)["alerts_label"] == "3"

    monkeypatch.setattr("careplans.selectors.BADGE_CAP", 1)
    client.force_login(world.users["homecare_a"])
    page = client.get(reverse("careplans:alerts")).content.decode()
    assert 'data-testid="nav-alerts-count">1+<' in page
