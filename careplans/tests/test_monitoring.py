"""Home monitoring: measurements, thresholds, alerts, corrections and missing measurements."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import (
    AlertKind,
    AlertSeverity,
    CareEventKind,
    CarePlanStatus,
    CareTeamRole,
    ObservationCode,
    ObservationStatus,
    ThresholdCode,
)
from careplans.models import Alert, CareEvent, Observation, Threshold
from careplans.monitoring import (
    BulkItem,
    alert_acknowledge,
    alert_recipients,
    alerts_acknowledge_yellow,
    evaluate,
    missing_measurements_check,
    observation_bulk_record,
    observation_correct,
    observation_record,
    schedule_create,
    threshold_set,
)
from careplans.selectors import current_thresholds, observation_series, threshold_history
from careplans.services import careplan_set_status, careteam_add

from .helpers import active_plan, blood_pressure, single

pytestmark = pytest.mark.django_db

BP = ObservationCode.BLOOD_PRESSURE


@pytest.fixture
def systolic(world, gp_actor):
    return threshold_set(
        actor=gp_actor,
        citizen=world.citizen,
        code=ThresholdCode.SYSTOLIC,
        reason="Hypertension, behandlingsmål < 140",
        red_low=90,
        yellow_low=100,
        yellow_high=150,
        red_high=170,
    )


def record(actor, citizen, reading):
    return observation_record(actor=actor, citizen=citizen, reading=reading)


# --- evaluating a value against a threshold ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        ("89.99", AlertSeverity.RED),
        ("90", AlertSeverity.YELLOW),  # exactly at the red limit: the lower severity
        ("99.99", AlertSeverity.YELLOW),
        ("100", None),  # exactly at the yellow limit: no alert
        ("125", None),
        ("150", None),
        ("150.01", AlertSeverity.YELLOW),
        ("170", AlertSeverity.YELLOW),
        ("170.01", AlertSeverity.RED),
    ],
)
def test_limits_are_inside(value, severity):
    threshold = Threshold(
        red_low=Decimal("90"), yellow_low=Decimal("100"), yellow_high=Decimal("150"), red_high=Decimal("170")
    )
    assert evaluate(Decimal(value), threshold) == severity


def test_a_one_sided_threshold_and_no_threshold():
    only_high = Threshold(yellow_high=Decimal("150"))
    assert evaluate(Decimal("10"), only_high) is None
    assert evaluate(Decimal("151"), only_high) == AlertSeverity.YELLOW
    only_red = Threshold(red_low=Decimal("88"))
    assert evaluate(Decimal("87"), only_red) == AlertSeverity.RED
    assert evaluate(Decimal("300"), None) is None


@pytest.mark.parametrize(
    ("value", "alerts"),
    [("150", []), ("151", [AlertSeverity.YELLOW]), ("170", [AlertSeverity.YELLOW]), ("171", [AlertSeverity.RED])],
)
def test_a_recorded_blood_pressure_at_and_above_the_limits(world, gp_actor, plan, systolic, value, alerts):
    record(gp_actor, world.citizen, blood_pressure(value, "80"))

    assert list(Alert.objects.values_list("severity", flat=True)) == alerts


@pytest.mark.parametrize(
    ("value", "alerts"), [("92", []), ("91", [AlertSeverity.YELLOW]), ("88", [AlertSeverity.YELLOW]), ("87", ["red"])]
)
def test_spo2_at_and_below_the_limits(world, gp_actor, plan, value, alerts):
    threshold_set(
        actor=gp_actor, citizen=world.citizen, code=ThresholdCode.SPO2, reason="KOL", red_low=88, yellow_low=92
    )

    record(gp_actor, world.citizen, single(ObservationCode.SPO2, value, "%"))

    assert list(Alert.objects.values_list("severity", flat=True)) == alerts


def test_the_diastolic_pressure_alone_raises_an_alert(world, gp_actor, plan, systolic):
    threshold_set(
        actor=gp_actor,
        citizen=world.citizen,
        code=ThresholdCode.DIASTOLIC,
        reason="Mål < 90",
        yellow_high=90,
        red_high=100,
    )

    record(gp_actor, world.citizen, blood_pressure("130", "90"))
    assert not Alert.objects.exists()
    obs = record(gp_actor, world.citizen, blood_pressure("130", "101"))

    alert = Alert.objects.get()
    assert (alert.severity, alert.kind, alert.observation, alert.code) == ("red", AlertKind.THRESHOLD, obs, BP)
    assert alert.threshold.code == ThresholdCode.DIASTOLIC
    assert "Diastolic 101" in alert.message
    assert "Systolic" not in alert.message


def test_the_diastolic_pressure_triggers_without_a_systolic_threshold(world, gp_actor, plan):
    threshold_set(
        actor=gp_actor, citizen=world.citizen, code=ThresholdCode.DIASTOLIC, reason="Mål < 90", yellow_high=95
    )

    record(gp_actor, world.citizen, blood_pressure("200", "96"))

    assert Alert.objects.get().severity == AlertSeverity.YELLOW


def test_both_components_outside_give_one_alert_with_the_worst_severity(world, gp_actor, plan, systolic):
    threshold_set(
        actor=gp_actor,
        citizen=world.citizen,
        code=ThresholdCode.DIASTOLIC,
        reason="Mål < 90",
        yellow_high=90,
        red_high=100,
    )

    record(gp_actor, world.citizen, blood_pressure("160", "105"))

    alert = Alert.objects.get()
    assert alert.severity == AlertSeverity.RED
    assert alert.threshold.code == ThresholdCode.DIASTOLIC
    assert "Systolic 160" in alert.message and "Diastolic 105" in alert.message
    assert CareEvent.objects.get(kind=CareEventKind.ALERT_RAISED).payload["severity"] == "red"


# --- refusing bad measurements ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reading", "field"),
    [
        (blood_pressure("130", "80", unit=""), "unit"),
        (blood_pressure("130", "80", unit="mmHg"), "unit"),  # UCUM is mm[Hg]
        (single(ObservationCode.BODY_WEIGHT, "80", "lbs"), "unit"),
        (single(ObservationCode.BODY_WEIGHT, "80", ""), "unit"),
        (single(ObservationCode.BODY_WEIGHT, "900", "kg"), "value"),
        (single(ObservationCode.BODY_WEIGHT, "abc", "kg"), "value"),
        (single(ObservationCode.BODY_WEIGHT, "NaN", "kg"), "value"),
        (single(ObservationCode.SPO2, "101", "%"), "value"),
        (blood_pressure("130", "250"), "value_2"),
        (blood_pressure("130", "135"), "value_2"),  # diastolic above systolic
        (blood_pressure("130", None), "value_2"),
        (single(ObservationCode.SPO2, "95", "%", value_2="90"), "value_2"),
        (single("1234-5", "1", "kg"), "code"),
    ],
)
def test_wrong_measurements_are_refused_and_nothing_is_stored(world, gp_actor, plan, systolic, reading, field):
    with pytest.raises(ValidationError) as excinfo:
        record(gp_actor, world.citizen, reading)

    assert field in excinfo.value.message_dict
    assert not Observation.objects.exists()
    assert not Alert.objects.exists()


def test_a_measurement_in_the_future_is_refused(world, gp_actor, plan):
    with pytest.raises(ValidationError) as excinfo:
        record(gp_actor, world.citizen, blood_pressure("130", "80", at=timezone.now() + datetime.timedelta(hours=1)))
    assert "effective_at" in excinfo.value.message_dict


def test_a_decimal_comma_is_read(world, gp_actor, plan):
    obs = record(gp_actor, world.citizen, single(ObservationCode.BODY_WEIGHT, "84,6", "kg"))
    assert obs.value == Decimal("84.6")
    assert obs.display_value == "84.6 kg"


def test_an_outsider_records_nothing(world, actor, plan):
    with pytest.raises(PermissionDenied):
        record(actor("gp_b"), world.citizen, blood_pressure("130", "80"))
    assert not Observation.objects.exists()


def test_a_repeated_external_id_is_stored_once(world, gp_actor, plan):
    first = record(gp_actor, world.citizen, blood_pressure("130", "80", external_id="dev-1"))
    again = record(gp_actor, world.citizen, blood_pressure("131", "81", external_id="dev-1"))

    assert again == first
    assert Observation.objects.count() == 1


def test_a_bulk_upload_is_all_or_nothing(world, gp_actor, plan, systolic):
    good = BulkItem(world.citizen.pk, blood_pressure("175", "80"))
    bad = BulkItem(world.citizen.pk, single(ObservationCode.BODY_WEIGHT, "900", "kg"))

    with pytest.raises(ValidationError) as excinfo:
        observation_bulk_record(actor=gp_actor, items=[good, bad])
    assert "items" in excinfo.value.message_dict
    assert not Observation.objects.exists()

    stored = observation_bulk_record(actor=gp_actor, items=[good])
    assert len(stored) == 1
    assert Alert.objects.get().severity == AlertSeverity.RED


# --- thresholds ---------------------------------------------------------------------------------------


def test_a_new_threshold_version_closes_the_old_one(world, gp_actor, plan, systolic):
    newer = threshold_set(
        actor=gp_actor, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="Stabil, løsnet", yellow_high=160
    )

    systolic.refresh_from_db()
    assert systolic.valid_to == newer.valid_from
    assert (systolic.version, newer.version) == (1, 2)
    assert newer.valid_to is None
    assert newer.unit == "mm[Hg]"
    assert newer.set_by == world.users["gp_a"]
    assert current_thresholds(citizen=world.citizen) == {ThresholdCode.SYSTOLIC: newer}
    assert [t.version for t in threshold_history(citizen=world.citizen)] == [2, 1]
    # the new version is the one measurements are held against
    record(gp_actor, world.citizen, blood_pressure("155", "80"))
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"reason": "", "yellow_high": 150}, "reason"),
        ({"reason": "x", "yellow_high": 150, "red_high": 140}, None),  # not ordered
        ({"reason": "x", "yellow_low": 150, "yellow_high": 140}, None),
        ({"reason": "x"}, None),  # no limit at all
        ({"reason": "x", "yellow_high": "abc"}, "yellow_high"),
    ],
)
def test_a_wrong_threshold_is_refused_and_the_current_one_stays(world, gp_actor, systolic, limits, field):
    with pytest.raises(ValidationError) as excinfo:
        threshold_set(actor=gp_actor, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, **limits)

    if field:
        assert field in excinfo.value.message_dict
    assert Threshold.objects.get() == systolic
    assert systolic.valid_to is None


def test_an_unknown_threshold_code_is_refused(world, gp_actor):
    with pytest.raises(ValidationError) as excinfo:
        threshold_set(actor=gp_actor, citizen=world.citizen, code=BP, reason="BP is per component", yellow_high=150)
    assert "code" in excinfo.value.message_dict


# --- who is alerted -----------------------------------------------------------------------------------


def test_alerts_go_to_every_open_plans_coordinator_and_the_monitoring_organisation(
    world, actor, gp_actor, plan, systolic
):
    hospital_plan = active_plan(world, gp_actor, title="Hjertesvigt", coordinating_organisation=world.department)
    closed = active_plan(world, gp_actor, title="Afsluttet", coordinating_organisation=world.clinic_b)
    careplan_set_status(actor=gp_actor, plan=closed, status=CarePlanStatus.COMPLETED)
    # Another municipality on the care team monitors the weight (only the team may monitor).
    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE)
    schedule_create(
        actor=gp_actor, citizen=world.citizen, code=BP, every_hours=24, monitoring_organisation=world.municipality_a
    )
    schedule_create(
        actor=gp_actor,
        citizen=world.citizen,
        code=ObservationCode.BODY_WEIGHT,
        every_hours=24,
        monitoring_organisation=world.municipality_b,
    )

    record(gp_actor, world.citizen, blood_pressure("160", "80"))

    expected = {world.clinic_a, world.department, world.municipality_a}
    assert {a.organisation for a in Alert.objects.all()} == expected
    assert hospital_plan.coordinating_organisation in expected
    assert {e.organisation for e in CareEvent.objects.filter(kind=CareEventKind.ALERT_RAISED)} == expected


def test_without_plan_or_schedule_the_gp_clinic_is_alerted(world, gp_actor, systolic):
    assert alert_recipients(world.citizen, BP) == [world.clinic_a]

    record(gp_actor, world.citizen, blood_pressure("175", "80"))

    assert Alert.objects.get().organisation == world.clinic_a


def test_an_ended_schedule_no_longer_gets_alerts(world, gp_actor, plan):
    schedule = schedule_create(
        actor=gp_actor, citizen=world.citizen, code=BP, every_hours=24, monitoring_organisation=world.municipality_a
    )
    schedule.starts_at = timezone.now() - datetime.timedelta(days=2)
    schedule.ends_at = timezone.now() - datetime.timedelta(minutes=1)
    schedule.save()

    assert alert_recipients(world.citizen, BP) == [world.clinic_a]


def test_acknowledging_alerts(world, actor, gp_actor, plan, systolic):
    record(gp_actor, world.citizen, blood_pressure("155", "80"))
    record(gp_actor, world.citizen, blood_pressure("160", "80"))
    red_obs = record(gp_actor, world.citizen, blood_pressure("180", "80"))
    red = Alert.objects.get(observation=red_obs)

    with pytest.raises(PermissionDenied):
        alert_acknowledge(actor=actor("homecare_a"), alert=red)  # not its alert
    assert alerts_acknowledge_yellow(actor=gp_actor, citizen=world.citizen, note="Ringet op") == 2
    alert_acknowledge(actor=gp_actor, alert=red, note="Ringet op, ny måling i morgen")
    with pytest.raises(ValidationError):
        alert_acknowledge(actor=gp_actor, alert=red)

    red.refresh_from_db()
    assert red.acknowledged_by == world.users["gp_a"]
    assert not Alert.objects.filter(acknowledged_at__isnull=True).exists()


# --- corrections --------------------------------------------------------------------------------------


def test_a_correction_keeps_the_original(world, gp_actor, plan, systolic):
    original = record(gp_actor, world.citizen, blood_pressure("118", "80", note="tastet forkert"))

    corrected = observation_correct(actor=gp_actor, observation=original, reading=blood_pressure("181", "80"))

    original.refresh_from_db()
    assert original.status == ObservationStatus.AMENDED
    assert original.value == Decimal("118")  # never overwritten
    assert (corrected.status, corrected.replaces, corrected.value) == ("final", original, Decimal("181"))
    assert original.replaced_by == corrected
    assert Observation.objects.count() == 2
    assert list(observation_series(citizen=world.citizen, code=BP)) == [corrected]
    assert Alert.objects.get().observation == corrected  # the corrected value is evaluated


def test_entered_in_error_keeps_the_value(world, gp_actor, plan):
    original = record(gp_actor, world.citizen, blood_pressure("130", "80"))

    result = observation_correct(actor=gp_actor, observation=original, note="Forkert borger")

    original.refresh_from_db()
    assert result == original
    assert (original.status, original.value, original.note) == ("entered-in-error", Decimal("130"), "Forkert borger")
    assert Observation.objects.count() == 1
    assert not observation_series(citizen=world.citizen, code=BP).exists()


def test_only_the_current_version_is_corrected(world, gp_actor, plan):
    original = record(gp_actor, world.citizen, blood_pressure("130", "80"))
    observation_correct(actor=gp_actor, observation=original, reading=blood_pressure("131", "80"))

    with pytest.raises(ValidationError):
        observation_correct(actor=gp_actor, observation=original, reading=blood_pressure("132", "80"))
    with pytest.raises(ValidationError):
        observation_correct(actor=gp_actor, observation=original)
    assert Observation.objects.count() == 2


def test_a_correction_is_of_the_same_measurement(world, gp_actor, plan):
    original = record(gp_actor, world.citizen, blood_pressure("130", "80"))

    with pytest.raises(ValidationError) as excinfo:
        observation_correct(
            actor=gp_actor, observation=original, reading=single(ObservationCode.BODY_WEIGHT, "80", "kg")
        )

    assert "code" in excinfo.value.message_dict
    original.refresh_from_db()
    assert original.status == ObservationStatus.FINAL


# --- missing measurements -----------------------------------------------------------------------------


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def schedule(world, gp_actor, plan, start):
    with freeze_time(start):
        return schedule_create(
            actor=gp_actor,
            citizen=world.citizen,
            code=BP,
            every_hours=24,
            grace_hours=6,
            monitoring_organisation=world.municipality_a,
        )


def check_at(moment: datetime.datetime) -> int:
    with freeze_time(moment):
        return missing_measurements_check()


def missing():
    return Alert.objects.filter(kind=AlertKind.MISSING)


def measure_at(actor, citizen, moment):
    with freeze_time(moment):
        return record(actor, citizen, blood_pressure("130", "80", at=moment))


def test_a_missing_measurement_is_flagged_after_the_grace_period(world, gp_actor, schedule, start):
    hours = datetime.timedelta(hours=1)
    measure_at(gp_actor, world.citizen, start)

    assert check_at(start + 29 * hours) == 0
    assert check_at(start + 31 * hours) == 1
    assert check_at(start + 31 * hours) == 0  # not twice
    assert check_at(start + 40 * hours) == 0

    alert = missing().get()
    assert (alert.organisation, alert.severity, alert.schedule, alert.code) == (
        world.municipality_a,
        AlertSeverity.YELLOW,
        schedule,
        BP,
    )
    assert CareEvent.objects.filter(kind=CareEventKind.ALERT_RAISED, organisation=world.municipality_a).count() == 1


def test_without_any_measurement_the_schedule_start_counts(world, schedule, start):
    assert check_at(start + datetime.timedelta(hours=29)) == 0
    assert check_at(start + datetime.timedelta(hours=31)) == 1


def test_a_new_gap_after_a_new_measurement_raises_again(world, actor, gp_actor, schedule, start):
    hours = datetime.timedelta(hours=1)
    measure_at(gp_actor, world.citizen, start)
    assert check_at(start + 31 * hours) == 1
    with freeze_time(start + 32 * hours):
        alert_acknowledge(actor=actor("homecare_a"), alert=missing().get(), note="Ringet til borgeren")
    measure_at(gp_actor, world.citizen, start + 33 * hours)

    assert check_at(start + (33 + 29) * hours) == 0
    assert check_at(start + (33 + 31) * hours) == 1
    assert check_at(start + (33 + 32) * hours) == 0
    assert missing().count() == 2


def test_while_a_missing_alert_is_open_no_second_one_is_added(world, gp_actor, schedule, start):
    """One open "missing" alert per schedule: the staff already know the citizen is not measuring."""
    hours = datetime.timedelta(hours=1)
    measure_at(gp_actor, world.citizen, start)
    assert check_at(start + 31 * hours) == 1
    measure_at(gp_actor, world.citizen, start + 33 * hours)

    assert check_at(start + (33 + 31) * hours) == 0
    assert missing().count() == 1


def test_a_late_upload_does_not_hide_the_next_gap(world, actor, gp_actor, schedule, start):
    """A device that syncs late delivers a measurement taken before the alert was raised; the
    gap after that measurement is still flagged when it comes."""
    hours = datetime.timedelta(hours=1)
    measure_at(gp_actor, world.citizen, start)
    assert check_at(start + 31 * hours) == 1
    with freeze_time(start + 32 * hours):
        alert_acknowledge(actor=actor("homecare_a"), alert=missing().get())
        record(gp_actor, world.citizen, blood_pressure("130", "80", at=start + 20 * hours))  # taken before the alert

    assert check_at(start + (20 + 29) * hours) == 0
    assert check_at(start + (20 + 31) * hours) == 1
    assert missing().count() == 2


def test_an_ended_schedule_is_not_checked(world, schedule, start):
    schedule.ends_at = start + datetime.timedelta(hours=10)
    schedule.save()

    assert check_at(start + datetime.timedelta(hours=40)) == 0


def test_measurements_entered_in_error_do_not_count(world, gp_actor, schedule, start):
    hours = datetime.timedelta(hours=1)
    measure_at(gp_actor, world.citizen, start)
    wrong = measure_at(gp_actor, world.citizen, start + 20 * hours)
    with freeze_time(start + 21 * hours):
        observation_correct(actor=gp_actor, observation=wrong)

    assert check_at(start + 31 * hours) == 1
