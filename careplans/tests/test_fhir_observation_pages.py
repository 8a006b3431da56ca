"""``Observation?patient=<id>[&code=…]`` read in one prepared statement
(``careplans/fhir_monitoring/observation_pages.py``): the same resources, interpretations, pages
and totals as the general search, in three statements on PostgreSQL (the gate, the page with its
count and thresholds, the log), and nothing for the outsider."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careplans.choices import ObservationCode, ThresholdCode
from careplans.monitoring import observation_correct, observation_record, threshold_set
from citizens.fhir.codes import LOINC
from citizens.models import AccessLogEntry
from citizens.tests.fhir_client import compiled_selects, ids

from .helpers import blood_pressure, local
from .test_fhir_monitoring import fhir, gp_a, limits, weight  # noqa: F401  # the fixtures

pytestmark = pytest.mark.django_db

EVERY_STATUS = "final,amended,entered-in-error"  # a parameter more: the general search


@pytest.fixture
def readings(world, gp_a, limits):  # noqa: F811
    """Blood pressures and weights over five days; the weight limits change half-way (so two
    versions judge the readings), one weight is corrected and one withdrawn."""
    days = [datetime.date(2026, 3, d) for d in range(1, 6)]
    stored = []
    for n, day in enumerate(days):
        stored.append(
            observation_record(
                actor=gp_a, citizen=world.citizen, reading=blood_pressure(130 + 20 * n, 55 + 5 * n, at=local(day))
            )
        )
        stored.append(observation_record(actor=gp_a, citizen=world.citizen, reading=weight(78 + n, at=local(day, 10))))
        if n == 2:
            threshold_set(
                actor=gp_a,
                citizen=world.citizen,
                code=ThresholdCode.BODY_WEIGHT,
                reason="HF",
                yellow_high=79,
                red_high=81,
            )
    observation_correct(actor=gp_a, observation=stored[1], reading=weight(77, at=local(days[0], 10)))
    observation_correct(actor=gp_a, observation=stored[3])
    return stored


def _matches(bundle):
    return [entry["resource"] for entry in bundle.get("entry", []) if entry["search"]["mode"] == "match"]


SHAPES = [
    {},
    {"code": f"{LOINC}|{ObservationCode.BLOOD_PRESSURE}"},
    {"code": ThresholdCode.SYSTOLIC},  # a component finds its panels
    {"code": ObservationCode.BODY_WEIGHT, "_sort": "-date", "_count": 3},
    {"code": ObservationCode.BODY_WEIGHT, "_sort": "date", "_count": 2, "_offset": 2},
    {"_count": 4, "_offset": 8},
    {"_count": 4, "_offset": 40},
    {"code": ObservationCode.SPO2},
    {"subject": "00000000-0000-4000-8000-000000000000"},  # another citizen as well: nothing
]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_answers_as_the_general_search(world, readings, fhir, shape):  # noqa: F811
    gp = fhir()
    fast = gp.get("Observation", {"patient": str(world.citizen.pk), **shape})
    general = gp.get("Observation", {"patient": str(world.citizen.pk), "status": EVERY_STATUS, **shape})
    assert _matches(fast) == _matches(general)
    assert fast.get("total") == general.get("total")
    assert [link["relation"] for link in fast["link"]] == [link["relation"] for link in general["link"]]


def test_the_interpretations_follow_the_limits_in_force(world, readings, fhir):  # noqa: F811
    """Weights 78-80 were entered under the first limits (yellow above 80), 81, 82 and the
    correction to 77 under the second (yellow above 79, red above 81); 79 was withdrawn."""
    weights = _matches(
        fhir().get("Observation", {"patient": str(world.citizen.pk), "code": ObservationCode.BODY_WEIGHT})
    )
    judged = {
        w["valueQuantity"]["value"]: (w["status"], [c["coding"][0]["code"] for c in w.get("interpretation", [])])
        for w in weights
    }
    assert judged == {
        77: ("final", ["N"]),
        78: ("amended", ["N"]),
        79: ("entered-in-error", []),
        80: ("final", ["N"]),
        81: ("final", ["H"]),
        82: ("final", ["HH"]),
    }


def test_three_statements_with_the_total_counted_in_the_page(world, readings, fhir, monkeypatch):  # noqa: F811
    gp = fhir()
    params = {"patient": str(world.citizen.pk), "code": f"{LOINC}|{ObservationCode.BLOOD_PRESSURE}", "_count": 2}
    gp.get("Observation", params)
    built = compiled_selects(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        bundle = gp.get("Observation", params)
    assert len(ids(bundle)) == 2 and bundle["total"] == 5
    if connection.vendor == "postgresql":  # the gate, the page with its count and limits, the log
        assert len(queries.captured_queries) == 3 and built == []
    assert AccessLogEntry.objects.filter(citizen=world.citizen, detail="FHIR Observation search").exists()


def test_a_total_above_the_cap_is_left_out(world, readings, fhir, settings):  # noqa: F811
    settings.LIST_COUNT_CAP = 3
    bundle = fhir().get("Observation", {"patient": str(world.citizen.pk), "_count": 2})
    assert len(ids(bundle)) == 2 and "total" not in bundle
    settings.LIST_COUNT_CAP = 30
    assert fhir().get("Observation", {"patient": str(world.citizen.pk), "_count": 2})["total"] == 11


def test_the_outsider_gets_nothing(world, readings, fhir):  # noqa: F811
    bundle = fhir("gp_b").get("Observation", {"patient": str(world.citizen.pk), "code": ObservationCode.BODY_WEIGHT})
    assert bundle["total"] == 0 and "entry" not in bundle
    assert not AccessLogEntry.objects.filter(user=world.users["gp_b"]).exists()
