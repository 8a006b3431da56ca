"""Blood pressure and pulse typed as one entry: two observations (85354-9 and 8867-4) with the
same time, source and note; a wrong value in either stores neither."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from careplans.choices import AlertSeverity, ObservationCode, ThresholdCode
from careplans.models import Alert, Observation
from careplans.monitoring import Reading, threshold_set
from careplans.monitoring_entry import measurement_entry_record

pytestmark = pytest.mark.django_db

BLOOD_PRESSURE = ObservationCode.BLOOD_PRESSURE
HEART_RATE = ObservationCode.HEART_RATE


def blood_pressure(systolic="142", diastolic="88", **fields) -> Reading:
    return Reading(
        code=BLOOD_PRESSURE,
        value=systolic,
        value_2=diastolic,
        unit="mm[Hg]",
        effective_at=timezone.now() - datetime.timedelta(minutes=5),
        source="home-care",
        **fields,
    )


def test_blood_pressure_with_pulse_is_stored_as_two_observations(world, actor):
    reading = blood_pressure(note="Siddende")

    stored = measurement_entry_record(actor=actor("homecare_a"), citizen=world.citizen, reading=reading, pulse="72")

    assert [o.code for o in stored] == [BLOOD_PRESSURE, HEART_RATE]
    pressure, pulse = stored
    assert (pressure.value, pressure.value_2) == (Decimal("142"), Decimal("88"))
    assert (pulse.value, pulse.value_2, pulse.unit) == (Decimal("72"), None, "/min")
    for field in ("effective_at", "source", "note", "entered_by_organisation"):
        assert getattr(pulse, field) == getattr(pressure, field)
    assert Observation.objects.count() == 2


def test_without_a_pulse_only_the_blood_pressure_is_stored(world, actor):
    stored = measurement_entry_record(actor=actor("homecare_a"), citizen=world.citizen, reading=blood_pressure())

    assert [o.code for o in stored] == [BLOOD_PRESSURE]


@pytest.mark.parametrize(
    ("reading", "pulse", "fields"),
    [
        (blood_pressure(), "400", ["pulse"]),
        (blood_pressure(), "abc", ["pulse"]),
        (blood_pressure(diastolic="150"), "72", ["value_2"]),
        (blood_pressure(diastolic="150"), "400", ["value_2", "pulse"]),
    ],
)
def test_a_wrong_value_in_either_stores_neither(world, actor, reading, pulse, fields):
    with pytest.raises(ValidationError) as error:
        measurement_entry_record(actor=actor("homecare_a"), citizen=world.citizen, reading=reading, pulse=pulse)

    assert sorted(error.value.message_dict) == sorted(fields)
    assert not Observation.objects.exists()


def test_only_a_blood_pressure_takes_a_pulse(world, actor):
    weight = Reading(
        code=ObservationCode.BODY_WEIGHT, value="80", unit="kg", effective_at=timezone.now(), source="home-care"
    )

    with pytest.raises(ValidationError) as error:
        measurement_entry_record(actor=actor("homecare_a"), citizen=world.citizen, reading=weight, pulse="72")

    assert list(error.value.message_dict) == ["pulse"]
    assert not Observation.objects.exists()


def test_a_pulse_outside_its_limits_raises_its_own_alert(world, actor):
    threshold_set(
        actor=actor("gp_a"), citizen=world.citizen, code=ThresholdCode.HEART_RATE, reason="AFLI", red_high=110
    )

    measurement_entry_record(actor=actor("homecare_a"), citizen=world.citizen, reading=blood_pressure(), pulse="130")

    alert = Alert.objects.get()
    assert alert.severity == AlertSeverity.RED and alert.observation.code == HEART_RATE


# --- the keypad form ---------------------------------------------------------------------------


def post(client, world, **data):
    client.force_login(world.users["homecare_a"])
    data = {
        "code": BLOOD_PRESSURE,
        "effective_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "source": "home-care",
        **data,
    }
    return client.post(reverse("careplans:measurement_new", args=[world.citizen.pk]), data)


def test_the_keypad_form_saves_pressure_and_pulse_together(client, world, english):
    response = post(client, world, value="142", value_2="88", pulse="72")

    assert response.status_code == 302
    assert sorted(Observation.objects.values_list("code", flat=True)) == sorted([BLOOD_PRESSURE, HEART_RATE])
    content = client.get(response["Location"]).content.decode()
    assert "Blood pressure 142/88 mmHg recorded." in content
    assert "Heart rate 72 /min recorded." in content


def test_the_keypad_form_shows_a_wrong_pulse_on_the_pulse_field(client, world, english):
    response = post(client, world, value="142", value_2="88", pulse="400")

    assert response.status_code == 400
    assert "is not plausible" in " ".join(response.context["form"].errors["pulse"])
    assert 'id="id_pulse_errors"' in response.content.decode()
    assert not Observation.objects.exists()


def test_the_pulse_field_is_only_on_the_blood_pressure_form(client, world):
    client.force_login(world.users["homecare_a"])
    url = reverse("careplans:measurement_new", args=[world.citizen.pk])

    assert 'name="pulse"' in client.get(url, {"code": BLOOD_PRESSURE}).content.decode()
    assert 'name="pulse"' not in client.get(url, {"code": ObservationCode.BODY_WEIGHT}).content.decode()
