"""``ObservationSerializer`` writes its fields out by hand (a list page is mostly serializing):
its answer is ``ModelSerializer``'s, to the letter, for every kind of observation, read as the
list reads it and as a detail or a write reads it, in both languages."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation
from rest_framework import serializers

from careplans.api.observations import ObservationSerializer
from careplans.choices import ObservationCode
from careplans.models import Observation
from careplans.monitoring import observation_correct, observation_record
from careplans.selectors import observation_list
from careplans.tests.helpers import blood_pressure, single

pytestmark = pytest.mark.django_db


@pytest.fixture
def observations(world, gp_actor):
    """A blood pressure (two values), a weight from a device with the sender's id and a note,
    corrected once (amended, and the correction), and a withdrawn heart rate."""
    citizen = world.citizen
    observation_record(actor=gp_actor, citizen=citizen, reading=blood_pressure("135", "85"))
    weight = observation_record(
        actor=gp_actor,
        citizen=citizen,
        reading=single(
            ObservationCode.BODY_WEIGHT,
            "77.80",
            "kg",
            at=timezone.now() - datetime.timedelta(days=2, microseconds=7),
            device_id="scale-7",
            external_id="w-1",
            note="efter morgenmad",
            source="device",
        ),
    )
    observation_correct(actor=gp_actor, observation=weight, reading=single(ObservationCode.BODY_WEIGHT, "78.1", "kg"))
    pulse = single(ObservationCode.HEART_RATE, "61", "/min")
    pulse = observation_record(actor=gp_actor, citizen=citizen, reading=pulse)
    observation_correct(actor=gp_actor, observation=pulse)
    return citizen


def generic(observation: Observation) -> dict:
    return serializers.ModelSerializer.to_representation(ObservationSerializer(), observation)


@pytest.mark.parametrize("language", ["da", "en"])
def test_a_list_page_is_what_the_generic_serializer_answers(observations, gp_actor, language):
    with translation.override(language):
        rows = list(observation_list(actor=gp_actor, filters={"citizen": str(observations.pk)}))
        assert len(rows) == 4
        for row in rows:
            found = ObservationSerializer(row).data
            assert list(found) == list(ObservationSerializer().fields)  # every field, in order
            assert found == generic(row)
        amended = next(row for row in rows if row.status == "amended")
        assert ObservationSerializer(amended).data["replaced_by"] is not None
        shown = {row.code: ObservationSerializer(row).data["display_value"] for row in rows}
    assert shown[ObservationCode.BLOOD_PRESSURE] == "135/85 mmHg"


def test_an_observation_read_without_the_lists_annotations_is_the_same(observations):
    """A detail or a write reads the observation without ``replaced_by_pk``."""
    for observation in Observation.objects.all():
        assert ObservationSerializer(observation).data == generic(observation)
