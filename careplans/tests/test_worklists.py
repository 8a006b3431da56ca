"""The work lists: home care's Today, recording a measurement, hand-offs, alerts, thresholds and
the navigation badges; the outsider (another clinic, no relationship) gets nothing anywhere, and
the list pages' query counts do not grow with their rows."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import (
    ActivityStatus,
    AlertSeverity,
    CarePlanStatus,
    HandoffStatus,
    ObservationCode,
    ThresholdCode,
)
from careplans.models import Activity, Alert, Handoff, MonitoringSchedule, Observation, Threshold
from careplans.monitoring import Reading, observation_record, threshold_set
from careplans.services import activity_create, careplan_create
from citizens.models import AccessLogEntry
from citizens.tests.factories import CitizenFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime.date(2026, 3, 11)
WEIGHT = ObservationCode.BODY_WEIGHT
BLOOD_PRESSURE = ObservationCode.BLOOD_PRESSURE


@pytest.fixture(autouse=True)
def frozen():
    """Wednesday 11 March 2026, 09:00 in Copenhagen: the Today list and overdue rules use the date."""
    with freeze_time("2026-03-11 08:00:00", tick=False) as frozen_time:
        yield frozen_time


def login(client, world, name: str):
    client.force_login(world.users[name])
    return client


def citizen_in(world, municipality=None, **fields):
    municipality = municipality or world.municipality_a
    clinic = world.clinic_a if municipality == world.municipality_a else world.clinic_b
    fields.setdefault("phone", "+45 11 22 33 44")
    return CitizenFactory(municipality=municipality, gp_clinic=clinic, **fields)


def plan_for(citizen, by, coordinating, title="Forløb"):
    return careplan_create(
        actor=by, citizen=citizen, title=title, coordinating_organisation=coordinating, status=CarePlanStatus.ACTIVE
    )


def home_care_activity(actor, citizen, description="Medicingivning", **fields):
    """An activity the municipality plans for itself (no hand-off needed)."""
    if "weekdays" not in fields:
        fields.setdefault("due_date", WEDNESDAY)
    plan = plan_for(citizen, actor, actor.organisation)
    return activity_create(
        actor=actor, plan=plan, description=description, responsible_organisation=actor.organisation, **fields
    )


def weight(value, *, minutes_ago=5, source="home-care") -> Reading:
    return Reading(
        code=WEIGHT,
        value=value,
        unit="kg",
        effective_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        source=source,
    )


def weight_limits(actor, citizen, **limits):
    return threshold_set(actor=actor, citizen=citizen, code=ThresholdCode.BODY_WEIGHT, reason="Hjertesvigt", **limits)


def has_url(name: str) -> bool:
    try:
        reverse(name, args=[uuid.uuid4()])
    except NoReverseMatch:
        return False
    return True


# --- Today ---------------------------------------------------------------------------------------


def test_today_lists_due_and_overdue_activities_in_address_order(client, world, actor):
    homecare = actor("homecare_a")
    vester = citizen_in(world, street="Vestergade 5", postal_code="5000", city="Odense C")
    algade = citizen_in(world, street="Algade 1", postal_code="5000", city="Odense C")
    bygade = citizen_in(world, street="Bygade 2", postal_code="4000", city="Roskilde")
    home_care_activity(homecare, vester, "Støttestrømper på")
    home_care_activity(homecare, algade, "Sårskift", due_date=WEDNESDAY - datetime.timedelta(days=3))
    home_care_activity(homecare, bygade, "Morgenmedicin", weekdays="MO,WE,FR", starts_on=WEDNESDAY)
    # not today: due tomorrow; another organisation's; asked of us but not accepted; another municipality's
    home_care_activity(homecare, vester, "Rengøring", due_date=WEDNESDAY + datetime.timedelta(days=1))
    gp = actor("gp_a")
    gp_plan = plan_for(world.citizen, gp, world.clinic_a)
    for description, owner in (("Lægens egen opgave", world.clinic_a), ("Ikke accepteret", world.municipality_a)):
        activity_create(
            actor=gp, plan=gp_plan, description=description, responsible_organisation=owner, due_date=WEDNESDAY
        )
    requested = Activity.objects.get(description="Ikke accepteret")
    assert requested.handoff_status == HandoffStatus.REQUESTED
    home_care_activity(actor("homecare_b"), citizen_in(world, world.municipality_b, street="Fremmedvej 9"), "Fremmed")

    response = login(client, world, "homecare_a").get(reverse("careplans:today"))

    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("Bygade 2") < content.index("Algade 1") < content.index("Vestergade 5")
    for shown in ("Støttestrømper på", "Sårskift", "Morgenmedicin", vester.full_name, "+45 11 22 33 44"):
        assert shown in content
    for hidden in ("Rengøring", "Lægens egen opgave", "Ikke accepteret", "Fremmed"):
        assert hidden not in content
    assert "Overdue 3 days" in content
    assert 'inputmode="decimal"' not in content  # the keypad belongs to the measurement form
    assert [len(visit.activities) for visit in response.context["visits"]] == [1, 1, 1]


def test_today_shows_the_open_alert_count_linking_to_the_citizens_alerts(client, world, actor):
    homecare = actor("homecare_a")
    citizen = citizen_in(world, street="Algade 1")
    home_care_activity(homecare, citizen)
    MonitoringSchedule.objects.create(
        citizen=citizen, code=WEIGHT, every_hours=24, monitoring_organisation=world.municipality_a
    )
    weight_limits(actor("gp_a"), citizen, yellow_high=90, red_high=100)
    observation_record(actor=homecare, citizen=citizen, reading=weight(105))

    content = login(client, world, "homecare_a").get(reverse("careplans:today")).content.decode()

    assert "1 open alert" in content
    assert f"{reverse('careplans:alerts')}?citizen={citizen.pk}" in content


def test_mark_done_completes_a_one_off_activity(client, world, actor):
    activity = home_care_activity(actor("homecare_a"), citizen_in(world))
    response = login(client, world, "homecare_a").post(
        reverse("careplans:activity_done", args=[activity.pk]), {"note": "Gik fint"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("careplans:today")
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.COMPLETED
    assert activity.next_due_on is None and activity.outcome_note == "Gik fint"
    content = client.get(reverse("careplans:today")).content.decode()
    assert "Done: Medicingivning." in content and 'data-testid="today-activity"' not in content


def test_mark_done_moves_a_recurring_activity_to_its_next_date_and_swaps_the_card(client, world, actor):
    activity = home_care_activity(actor("homecare_a"), citizen_in(world), weekdays="MO,WE,FR", starts_on=WEDNESDAY)
    assert activity.next_due_on == WEDNESDAY
    response = login(client, world, "homecare_a").post(
        reverse("careplans:activity_done", args=[activity.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content and f'id="activity-{activity.pk}"' in content
    assert "Done. Next time: Friday 13 March." in content
    activity.refresh_from_db()
    assert activity.last_done_on == WEDNESDAY
    assert activity.next_due_on == WEDNESDAY + datetime.timedelta(days=2)
    assert activity.status == ActivityStatus.IN_PROGRESS


def test_mark_done_of_an_unaccepted_hand_off_is_a_400_with_the_reason(client, world, actor):
    gp = actor("gp_a")
    activity = activity_create(
        actor=gp,
        plan=plan_for(world.citizen, gp, world.clinic_a),
        description="Blodtryk",
        responsible_organisation=world.municipality_a,
        due_date=WEDNESDAY,
    )
    login(client, world, "homecare_a")
    url = reverse("careplans:activity_done", args=[activity.pk])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "Accept the hand-off before you work on it." in response.content.decode()
    response = client.post(url)  # without JavaScript: the whole page, with the error
    content = response.content.decode()
    assert response.status_code == 400 and "<html" in content
    assert "Accept the hand-off before you work on it." in content
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.NOT_STARTED and activity.last_done_on is None


def test_mark_done_by_an_organisation_off_the_care_team_is_forbidden(client, world, actor):
    activity = home_care_activity(actor("homecare_a"), world.citizen)
    response = login(client, world, "gp_a").post(reverse("careplans:activity_done", args=[activity.pk]))
    assert response.status_code == 403
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.NOT_STARTED


# --- recording a measurement ---------------------------------------------------------------------


def test_measurement_page_offers_the_types_then_a_keypad_form(client, world):
    login(client, world, "homecare_a")
    url = reverse("careplans:measurement_new", args=[world.citizen.pk])
    content = client.get(url).content.decode()
    assert "What did you measure?" in content and f"?code={BLOOD_PRESSURE}" in content
    response = client.get(url, {"code": BLOOD_PRESSURE})
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('inputmode="decimal"') == 3
    assert "Systolic (mmHg)" in content and "Diastolic (mmHg)" in content and "Pulse (/min)" in content
    assert 'data-testid="keypad"' in content and "js/keypad.js" in content
    form = response.context["form"]
    assert form["source"].value() == "home-care"
    assert 'value="2026-03-11T09:00"' in content  # measured now, Danish time


def _post_measurement(client, citizen, code, **data):
    data.setdefault("effective_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    data.setdefault("source", "home-care")
    return client.post(reverse("careplans:measurement_new", args=[citizen.pk]), {"code": code, **data})


@pytest.mark.parametrize(
    ("code", "data", "field", "message"),
    [
        (WEIGHT, {"value": "900"}, "value", "Weight 900 kg is not plausible (20–350)."),
        (WEIGHT, {"value": "abc"}, "value", "Enter a number."),
        (WEIGHT, {"value": ""}, "value", "This field is required."),
        (BLOOD_PRESSURE, {"value": "140"}, "value_2", "This field is required."),
        (BLOOD_PRESSURE, {"value": "80", "value_2": "120"}, "value_2", "The diastolic pressure must be below"),
        (WEIGHT, {"value": "80", "effective_at": "2026-03-12T10:00"}, "effective_at", "in the future"),
    ],
)
def test_a_wrong_measurement_is_a_400_with_the_error_and_nothing_stored(client, world, code, data, field, message):
    login(client, world, "homecare_a")
    response = _post_measurement(client, world.citizen, code, **data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert 'data-testid="field-error"' in response.content.decode() or field == "effective_at"
    assert not Observation.objects.exists()


def test_an_unknown_measurement_type_is_a_400(client, world):
    response = _post_measurement(login(client, world, "homecare_a"), world.citizen, "1234-5", value="1")
    assert response.status_code == 400
    assert not Observation.objects.exists()


def test_a_measurement_within_the_limits_is_stored_with_a_decimal_comma(client, world, actor):
    weight_limits(actor("gp_a"), world.citizen, yellow_high=90, red_high=100)
    login(client, world, "homecare_a")
    response = _post_measurement(client, world.citizen, WEIGHT, value="72,5", note="Før morgenmad")
    assert response.status_code == 302
    observation = Observation.objects.get()
    assert observation.value == Decimal("72.5") and observation.unit == "kg"
    assert observation.source == "home-care" and observation.entered_by_organisation == world.municipality_a
    assert not Alert.objects.exists()
    assert "Body weight 72.5 kg recorded." in client.get(response["Location"]).content.decode()


def test_a_measurement_above_the_red_limit_raises_a_red_alert_for_the_coordinator(client, world, actor):
    gp = actor("gp_a")
    plan_for(world.citizen, gp, world.clinic_a)
    weight_limits(gp, world.citizen, yellow_high=90, red_high=100)
    login(client, world, "homecare_a")
    today_url = reverse("careplans:today")

    response = _post_measurement(client, world.citizen, WEIGHT, value="104", next=today_url)

    assert response.status_code == 302 and response["Location"] == today_url
    alert = Alert.objects.get()
    assert alert.severity == AlertSeverity.RED and alert.organisation == world.clinic_a
    content = client.get(today_url).content.decode()
    assert f"Outside the limits — alert raised for {world.clinic_a.name}." in content
    assert "alert-danger" in content


def test_the_measurement_page_shows_the_citizens_open_alerts(client, world, actor):
    homecare = actor("homecare_a")
    MonitoringSchedule.objects.create(
        citizen=world.citizen, code=WEIGHT, every_hours=24, monitoring_organisation=world.municipality_a
    )
    weight_limits(actor("gp_a"), world.citizen, yellow_high=90, red_high=100)
    observation_record(actor=homecare, citizen=world.citizen, reading=weight(95))
    content = (
        login(client, world, "homecare_a")
        .get(reverse("careplans:measurement_new", args=[world.citizen.pk]), {"code": WEIGHT})
        .content.decode()
    )
    assert 'data-testid="open-alerts"' in content and "Body weight outside the limits: Weight 95" in content
    assert "yellow above 90" in content and "red above 100" in content


def test_an_open_redirect_is_refused(client, world):
    login(client, world, "homecare_a")
    response = _post_measurement(client, world.citizen, WEIGHT, value="70", next="https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == reverse("careplans:measurement_new", args=[world.citizen.pk])


# --- hand-offs -----------------------------------------------------------------------------------


@pytest.fixture
def handoff(world, actor) -> Handoff:
    """The GP clinic asks municipality A to measure the citizen's blood pressure."""
    gp = actor("gp_a")
    activity = activity_create(
        actor=gp,
        plan=plan_for(world.citizen, gp, world.clinic_a, title="KOL-forløb"),
        description="Blodtryksmåling i hjemmet",
        responsible_organisation=world.municipality_a,
        weekdays="MO,TH",
        starts_on=WEDNESDAY,
    )
    return activity.handoffs.get()


def test_incoming_handoffs_list_the_request(client, world, handoff):
    content = login(client, world, "homecare_a").get(reverse("careplans:handoffs")).content.decode()
    assert "Blodtryksmåling i hjemmet" in content and "KOL-forløb" in content
    assert world.clinic_a.name in content and world.citizen.full_name in content
    if has_url("careplans:detail"):
        assert reverse("careplans:detail", args=[handoff.care_plan_id]) in content
    assert 'data-testid="handoff-overdue"' not in content


def test_a_request_older_than_the_limit_shows_overdue_on_both_sides(client, world, handoff, frozen):
    frozen.tick(datetime.timedelta(hours=settings.HANDOFF_OVERDUE_HOURS + 1))
    content = login(client, world, "homecare_a").get(reverse("careplans:handoffs")).content.decode()
    assert 'data-testid="handoff-overdue"' in content
    content = login(client, world, "gp_a").get(reverse("careplans:handoffs"), {"tab": "sent"}).content.decode()
    assert 'data-testid="handoff-overdue"' in content and "1 request is overdue without an answer." in content


def test_the_receiving_organisation_accepts(client, world, handoff):
    response = login(client, world, "homecare_a").post(
        reverse("careplans:handoff_accept", args=[handoff.pk]), {"comment": "Vi starter mandag"}
    )
    assert response.status_code == 302
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACCEPTED and handoff.reason == "Vi starter mandag"
    assert handoff.activity.handoff_status == HandoffStatus.ACCEPTED
    assert client.get(reverse("careplans:handoffs")).context["handoffs"] == []


def test_rejecting_needs_a_reason_and_the_requester_sees_the_answer(client, world, handoff):
    login(client, world, "homecare_a")
    url = reverse("careplans:handoff_reject", args=[handoff.pk])
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert "Say why you reject the request." in response.content.decode()
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REQUESTED

    assert client.post(url, {"reason": "Borgeren er flyttet"}).status_code == 302
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REJECTED

    content = login(client, world, "gp_a").get(reverse("careplans:handoffs"), {"tab": "sent"}).content.decode()
    assert "Rejected" in content and "Borgeren er flyttet" in content


def test_the_requesting_organisation_cannot_answer_its_own_request(client, world, handoff):
    response = login(client, world, "gp_a").post(reverse("careplans:handoff_accept", args=[handoff.pk]))
    assert response.status_code == 403
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REQUESTED


@pytest.mark.parametrize("name", ["careplans:handoff_accept", "careplans:handoff_reject"])
@pytest.mark.parametrize("user", ["gp_b", "homecare_b", "hospital_nurse"])
def test_a_third_party_gets_404_for_a_handoff(client, world, handoff, name, user):
    response = login(client, world, user).post(reverse(name, args=[handoff.pk]), {"reason": "Nej"})
    assert response.status_code == 404
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.REQUESTED


# --- alerts --------------------------------------------------------------------------------------


@pytest.fixture
def alerts(world, actor, frozen):
    """Four alerts for clinic A (the citizens' GP clinic): yellow, red, yellow, red, oldest first."""
    gp = actor("gp_a")
    first, second = world.citizen, citizen_in(world)
    for citizen in (first, second):
        weight_limits(gp, citizen, yellow_high=90, red_high=100)
    made = []
    for citizen, value in ((first, 95), (second, 105), (first, 96), (first, 110)):
        observation_record(actor=gp, citizen=citizen, reading=weight(value, source="gp"))
        made.append(Alert.objects.latest("pk"))
        frozen.tick(datetime.timedelta(minutes=10))
    return made


def test_alerts_list_red_first_then_oldest(client, world, alerts):
    yellow_1, red_1, yellow_2, red_2 = alerts
    response = login(client, world, "gp_a").get(reverse("careplans:alerts"))
    assert response.status_code == 200
    assert [a.pk for a in response.context["alerts"]] == [red_1.pk, red_2.pk, yellow_1.pk, yellow_2.pk]
    content = response.content.decode()
    assert "105 kg" in content and "Body weight outside the limits" in content


def test_acknowledge_one_alert_with_a_note(client, world, alerts):
    red = alerts[1]
    login(client, world, "gp_a")
    response = client.post(reverse("careplans:alert_ack", args=[red.pk]), {"note": "Ringet til borgeren"})
    assert response.status_code == 302
    red.refresh_from_db()
    assert red.acknowledged_by == world.users["gp_a"] and red.acknowledgement_note == "Ringet til borgeren"
    assert red.pk not in [a.pk for a in client.get(reverse("careplans:alerts")).context["alerts"]]
    response = client.get(reverse("careplans:alerts"), {"all": "1"})
    assert red.pk in [a.pk for a in response.context["alerts"]]
    assert "Ringet til borgeren" in response.content.decode()
    # twice: already acknowledged, a 400 with the reason
    response = client.post(reverse("careplans:alert_ack", args=[red.pk]), {"note": ""})
    assert response.status_code == 400 and "already been acknowledged" in response.content.decode()


def test_acknowledge_all_yellow_alerts_of_one_citizen(client, world, alerts):
    yellow_1, red_1, yellow_2, red_2 = alerts
    response = login(client, world, "gp_a").post(
        reverse("careplans:alerts_ack_yellow", args=[world.citizen.pk]), {"note": "Kendt vægtøgning"}
    )
    assert response.status_code == 302
    assert set(Alert.objects.filter(acknowledged_at__isnull=False).values_list("pk", flat=True)) == {
        yellow_1.pk,
        yellow_2.pk,
    }
    assert [a.pk for a in client.get(reverse("careplans:alerts")).context["alerts"]] == [red_1.pk, red_2.pk]


def test_alerts_of_one_citizen(client, world, alerts):
    response = login(client, world, "gp_a").get(reverse("careplans:alerts"), {"citizen": world.citizen.pk})
    assert {a.citizen_id for a in response.context["alerts"]} == {world.citizen.pk}
    assert len(response.context["alerts"]) == 3


def test_another_organisations_alert_answers_404(client, world, alerts):
    response = login(client, world, "homecare_a").post(reverse("careplans:alert_ack", args=[alerts[0].pk]))
    assert response.status_code == 404
    assert client.get(reverse("careplans:alerts")).context["alerts"] == []


# --- thresholds ----------------------------------------------------------------------------------


def _threshold_url(world):
    return reverse("careplans:thresholds", args=[world.citizen.pk])


def test_a_clinician_sets_limits_and_the_history_is_kept(client, world):
    login(client, world, "nurse_a")
    data = {"action": "threshold", "code": ThresholdCode.SYSTOLIC, "yellow_high": "150", "red_high": "170"}
    assert client.post(_threshold_url(world), {**data, "reason": "KOL"}).status_code == 302
    assert client.post(_threshold_url(world), {**data, "red_high": "180", "reason": "Justeret"}).status_code == 302
    current = Threshold.objects.get(citizen=world.citizen, valid_to__isnull=True)
    assert current.version == 2 and current.red_high == Decimal("180")
    content = client.get(_threshold_url(world)).content.decode()
    assert content.count('data-testid="history-row"') == 2
    assert "Justeret" in content and "KOL" in content and world.clinic_a.name in content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"yellow_high": "150"}, "Give the clinical reason for these limits."),
        ({"yellow_high": "190", "red_high": "170", "reason": "x"}, "Limits must be ordered"),
        ({"reason": "x"}, "Set at least one limit."),
        ({"yellow_high": "høj", "reason": "x"}, "Enter a number."),
    ],
)
def test_wrong_limits_are_a_400(client, world, data, message):
    login(client, world, "gp_a")
    response = client.post(_threshold_url(world), {"action": "threshold", "code": ThresholdCode.SYSTOLIC, **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Threshold.objects.exists()


def test_a_non_clinician_sees_the_limits_but_cannot_set_them(client, world, actor):
    weight_limits(actor("gp_a"), world.citizen, red_high=100)
    login(client, world, "assistant_a")
    response = client.get(_threshold_url(world))
    content = response.content.decode()
    assert response.status_code == 200
    assert "red above 100" in content and 'data-testid="threshold-form"' not in content
    assert 'data-testid="clinicians-only"' in content
    data = {"action": "threshold", "code": ThresholdCode.BODY_WEIGHT, "red_high": "90", "reason": "x"}
    assert client.post(_threshold_url(world), data).status_code == 403
    assert client.post(_threshold_url(world), {"action": "schedule", "code": WEIGHT}).status_code == 403
    assert Threshold.objects.count() == 1 and not MonitoringSchedule.objects.exists()


def test_a_clinician_adds_a_monitoring_schedule(client, world):
    login(client, world, "gp_a")
    data = {"action": "schedule", "code": WEIGHT, "every_hours": "24", "grace_hours": "6"}
    response = client.post(_threshold_url(world), {**data, "monitoring_organisation": world.municipality_a.pk})
    assert response.status_code == 302
    schedule = MonitoringSchedule.objects.get()
    assert schedule.monitoring_organisation == world.municipality_a and schedule.every_hours == 24
    # an organisation without a relationship to the citizen is not offered
    response = client.post(_threshold_url(world), {**data, "monitoring_organisation": world.clinic_b.pk})
    assert response.status_code == 400
    assert MonitoringSchedule.objects.count() == 1


# --- the outsider --------------------------------------------------------------------------------


@pytest.fixture
def everything(world, actor, handoff, alerts):
    activity = home_care_activity(actor("homecare_a"), world.citizen)
    return {"activity": activity, "handoff": handoff, "alert": alerts[0]}


def test_the_outsider_gets_nothing_on_any_page_or_post(client, world, everything):
    login(client, world, "gp_b")
    citizen = world.citizen
    before = AccessLogEntry.objects.filter(citizen=citizen).count()
    for name in ("careplans:today", "careplans:handoffs", "careplans:alerts"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert citizen.full_name not in response.content.decode(), name
    assert client.get(reverse("careplans:handoffs"), {"tab": "sent"}).context["handoffs"] == []
    assert client.get(reverse("careplans:alerts"), {"citizen": citizen.pk}).status_code == 404
    for name in ("careplans:measurement_new", "careplans:thresholds"):
        assert client.get(reverse(name, args=[citizen.pk])).status_code == 404, name
        assert client.get(reverse(name, args=[uuid.uuid4()])).status_code == 404, name
    posts = [
        (reverse("careplans:activity_done", args=[everything["activity"].pk]), {}),
        (reverse("careplans:measurement_new", args=[citizen.pk]), {"code": WEIGHT, "value": "80"}),
        (reverse("careplans:thresholds", args=[citizen.pk]), {"code": ThresholdCode.SYSTOLIC, "reason": "x"}),
        (reverse("careplans:handoff_accept", args=[everything["handoff"].pk]), {}),
        (reverse("careplans:handoff_reject", args=[everything["handoff"].pk]), {"reason": "x"}),
        (reverse("careplans:alert_ack", args=[everything["alert"].pk]), {}),
        (reverse("careplans:alerts_ack_yellow", args=[citizen.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert AccessLogEntry.objects.filter(citizen=citizen).count() == before
    assert not Observation.objects.filter(entered_by_organisation=world.clinic_b).exists()
    assert not Alert.objects.filter(acknowledged_at__isnull=False).exists()


def test_pages_require_sign_in(client, world):
    for url in (reverse("careplans:today"), reverse("careplans:alerts"), reverse("careplans:handoffs")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- navigation ----------------------------------------------------------------------------------


def test_nav_badges_show_the_counts(client, world, handoff, alerts):
    content = login(client, world, "homecare_a").get(reverse("citizens:list")).content.decode()
    assert 'data-testid="nav-today"' in content
    assert 'data-testid="nav-handoffs-count">1<' in content
    assert 'data-testid="nav-alerts-count"' not in content  # no alerts for municipality A

    content = login(client, world, "gp_a").get(reverse("citizens:list")).content.decode()
    assert 'data-testid="nav-today"' not in content  # Today is for municipalities
    assert 'data-testid="nav-handoffs-count"' not in content
    assert 'text-bg-danger" data-testid="nav-alerts-count">4<' in content


def test_nav_badge_is_yellow_without_red_alerts(client, world, alerts):
    Alert.objects.filter(severity=AlertSeverity.RED).update(acknowledged_at=timezone.now())
    content = login(client, world, "gp_a").get(reverse("citizens:list")).content.decode()
    assert 'text-bg-warning" data-testid="nav-alerts-count">2<' in content


# --- query counts --------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_today_query_count_does_not_grow_with_rows(client, world, actor, django_assert_num_queries):
    homecare = actor("homecare_a")

    def add(n):
        for i in range(n):
            citizen = citizen_in(world, street=f"Testvej {i}", postal_code="5000")
            home_care_activity(homecare, citizen, due_date=WEDNESDAY - datetime.timedelta(days=i % 3))

    add(2)
    login(client, world, "homecare_a")
    url = reverse("careplans:today")
    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    client.get(url)  # and the session, which the first page saves with the acting organisation
    queries_for_2 = _queries(client, url)
    add(8)
    with django_assert_num_queries(queries_for_2):
        response = client.get(url)
    assert len(response.context["visits"]) == 10


def test_alerts_query_count_does_not_grow_with_rows(client, world, actor, django_assert_num_queries):
    gp = actor("gp_a")

    def add(n):
        for _i in range(n):
            citizen = citizen_in(world)
            weight_limits(gp, citizen, yellow_high=90, red_high=100)
            observation_record(actor=gp, citizen=citizen, reading=weight(105, source="gp"))

    add(2)
    login(client, world, "gp_a")
    url = reverse("careplans:alerts")
    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    client.get(url)  # and the session, which the first page saves with the acting organisation
    queries_for_2 = _queries(client, url)
    add(8)
    with django_assert_num_queries(queries_for_2):
        response = client.get(url)
    assert len(response.context["alerts"]) == 10
    Alert.objects.update(acknowledged_at=timezone.now(), acknowledged_by=world.users["gp_a"])
    with django_assert_num_queries(queries_for_2):
        response = client.get(url, {"all": "1"})
    assert len(response.context["alerts"]) == 10


def test_the_pages_render_in_danish_the_default_language(client, world, handoff, alerts):
    login(client, world, "gp_a").cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    urls = [
        reverse("careplans:today"),
        reverse("careplans:handoffs") + "?tab=sent",
        reverse("careplans:alerts") + "?all=1",
        reverse("careplans:measurement_new", args=[world.citizen.pk]),
        reverse("careplans:measurement_new", args=[world.citizen.pk]) + f"?code={BLOOD_PRESSURE}",
        reverse("careplans:thresholds", args=[world.citizen.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="da">' in response.content.decode(), url
