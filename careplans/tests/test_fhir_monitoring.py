"""The FHIR API's Observation (read, search, POST and transaction Bundles) and Flag, with the fixed
cast: the citizen's GP (insider) and a GP of another clinic (outsider), who gets nothing."""

from __future__ import annotations

import copy
import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from careplans.choices import AlertKind, AlertSeverity, ObservationCode, ThresholdCode
from careplans.models import Alert, CareEvent, Observation
from careplans.monitoring import observation_correct, observation_record, threshold_set
from citizens.choices import AccessAction
from citizens.fhir.codes import CPR, INTERPRETATION, LOINC, UCUM
from citizens.models import AccessLogEntry
from citizens.tests.factories import CitizenFactory
from citizens.tests.fhir_client import FhirClient, ids, of_type

from .helpers import blood_pressure, local, single

pytestmark = pytest.mark.django_db


@pytest.fixture
def fhir(client, token):
    return lambda name="gp_a": FhirClient(client, token(name))


@pytest.fixture
def gp_a(actor):
    return actor("gp_a")


@pytest.fixture
def limits(world, gp_a):
    """Blood pressure and weight limits: systolic yellow above 140, red above 180; diastolic
    yellow below 60, red below 50; weight yellow above 80, red above 85."""
    threshold_set(
        actor=gp_a, citizen=world.citizen, code=ThresholdCode.SYSTOLIC, reason="HT", yellow_high=140, red_high=180
    )
    threshold_set(
        actor=gp_a, citizen=world.citizen, code=ThresholdCode.DIASTOLIC, reason="HT", yellow_low=60, red_low=50
    )
    threshold_set(
        actor=gp_a, citizen=world.citizen, code=ThresholdCode.BODY_WEIGHT, reason="HF", yellow_high=80, red_high=85
    )


def weight(value, *, at=None, **fields):
    return single(ObservationCode.BODY_WEIGHT, value, "kg", at=at, **fields)


def interpretation(element) -> str | None:
    found = element.get("interpretation")
    if not found:
        return None
    coding = found[0]["coding"][0]
    assert coding["system"] == INTERPRETATION
    return coding["code"]


def posted(citizen, value="72.5", **changes) -> dict:
    resource = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:scale", "value": "scale-1"}],
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": ObservationCode.BODY_WEIGHT}]},
        "subject": {"reference": f"Patient/{citizen.pk}"},
        "effectiveDateTime": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
        "valueQuantity": {"value": float(value), "unit": "kg", "system": UCUM, "code": "kg"},
        "device": {"display": "scale-77"},
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def panel(citizen, systolic, diastolic, **changes) -> dict:
    resource = posted(citizen, valueQuantity=None, identifier=None, **changes)
    resource["code"] = {"coding": [{"system": LOINC, "code": ObservationCode.BLOOD_PRESSURE}]}
    resource["component"] = [
        {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        }
        for code, value in ((ThresholdCode.SYSTOLIC, systolic), (ThresholdCode.DIASTOLIC, diastolic))
    ]
    return resource


# --- read ----------------------------------------------------------------------------------------


def test_blood_pressure_reads_as_a_panel_with_each_component_interpreted(world, gp_a, limits, fhir):
    cases = {(150, 55): ("H", "L"), (190, 45): ("HH", "LL"), (120, 80): ("N", "N")}
    for (systolic, diastolic), expected in cases.items():
        stored = observation_record(
            actor=gp_a, citizen=world.citizen, reading=blood_pressure(systolic, diastolic, device_id="bp-9")
        )
        resource = fhir().get(f"Observation/{stored.pk}")
        assert resource["code"]["coding"][0] == {
            "system": LOINC,
            "code": "85354-9",
            "display": "Blood pressure panel with all children optional",
        }
        assert "valueQuantity" not in resource
        systolic_part, diastolic_part = resource["component"]
        assert systolic_part["code"]["coding"][0]["code"] == "8480-6"
        assert diastolic_part["code"]["coding"][0]["code"] == "8462-4"
        assert systolic_part["valueQuantity"] == {"value": systolic, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}
        assert diastolic_part["valueQuantity"]["value"] == diastolic
        assert (interpretation(systolic_part), interpretation(diastolic_part)) == expected
        assert resource["device"] == {"display": "bp-9"}
    assert resource["category"][0]["coding"][0]["code"] == "vital-signs"
    assert resource["subject"] == {"reference": f"Patient/{world.citizen.pk}"}
    assert resource["performer"][0]["reference"] == f"Organization/{world.clinic_a.pk}"
    assert resource["status"] == "final" and resource["effectiveDateTime"] and resource["issued"]
    entry = AccessLogEntry.objects.filter(action=AccessAction.API_READ).last()
    assert (entry.citizen_id, entry.detail) == (world.citizen.pk, "FHIR Observation read")


def test_a_single_value_has_a_quantity_an_identifier_and_an_interpretation_only_with_limits(world, gp_a, fhir):
    plain = observation_record(actor=gp_a, citizen=world.citizen, reading=weight("72.50", external_id="s-1"))
    resource = fhir().get(f"Observation/{plain.pk}")
    assert resource["valueQuantity"] == {"value": 72.5, "unit": "kg", "system": UCUM, "code": "kg"}
    assert resource["identifier"] == [{"value": "s-1"}] and "interpretation" not in resource
    assert b"<valueQuantity>" in fhir().get(f"Observation/{plain.pk}", {"_format": "xml"})["xml"]
    threshold_set(
        actor=gp_a, citizen=world.citizen, code=ThresholdCode.BODY_WEIGHT, reason="HF", yellow_low=60, red_low=50
    )
    low = observation_record(actor=gp_a, citizen=world.citizen, reading=weight("55"))
    assert interpretation(fhir().get(f"Observation/{low.pk}")) == "L"
    # The limits the reading was judged by when received, not the ones set since.
    assert "interpretation" not in fhir().get(f"Observation/{plain.pk}")


def test_a_correction_is_amended_and_the_new_version_names_the_old_one(world, gp_a, fhir):
    old = observation_record(actor=gp_a, citizen=world.citizen, reading=weight("72"))
    new = observation_correct(actor=gp_a, observation=old, reading=weight("73"))
    assert fhir().get(f"Observation/{old.pk}")["status"] == "amended"
    assert fhir().get(f"Observation/{new.pk}")["derivedFrom"] == [{"reference": f"Observation/{old.pk}"}]
    gone = observation_correct(actor=gp_a, observation=new)
    assert fhir().get(f"Observation/{gone.pk}")["status"] == "entered-in-error"
    assert ids(fhir().get("Observation", {"status": "final"})) == []


def test_outsider_gets_404_and_an_empty_searchset(world, gp_a, fhir):
    stored = observation_record(actor=gp_a, citizen=world.citizen, reading=weight("72"))
    assert fhir("gp_b").get(f"Observation/{stored.pk}", status=404)["issue"][0]["code"] == "not-found"
    empty = fhir("gp_b").get("Observation", {"patient": f"Patient/{world.citizen.pk}"})
    assert empty["total"] == 0 and "entry" not in empty
    assert not AccessLogEntry.objects.filter(action=AccessAction.API_READ).exists()
    assert fhir().get("Observation/not-a-uuid", status=404)["resourceType"] == "OperationOutcome"


# --- search --------------------------------------------------------------------------------------


@pytest.fixture
def series(world, gp_a):
    """Weights on 1, 2 and 3 March 2026 and a blood pressure on 2 March, at 9 o'clock Danish time."""
    days = [datetime.date(2026, 3, d) for d in (1, 2, 3)]
    stored = {
        f"w{day.day}": observation_record(
            actor=gp_a, citizen=world.citizen, reading=weight(70 + day.day, at=local(day))
        )
        for day in days
    }
    stored["bp"] = observation_record(
        actor=gp_a, citizen=world.citizen, reading=blood_pressure(130, 80, at=local(days[1], 10))
    )
    return {name: str(o.pk) for name, o in stored.items()}


def test_search_by_patient_code_and_status_newest_first(world, series, fhir):
    everything = fhir().get("Observation", {"patient": f"Patient/{world.citizen.pk}"})
    assert ids(everything) == [series["w3"], series["bp"], series["w2"], series["w1"]]
    assert everything["total"] == 4
    assert ids(fhir().get("Observation", {"subject": str(world.citizen.pk)}))[0] == series["w3"]
    assert ids(fhir().get("Observation", {"code": f"{LOINC}|85354-9"})) == [series["bp"]]
    assert ids(fhir().get("Observation", {"code": "8480-6"})) == [series["bp"]]
    assert len(ids(fhir().get("Observation", {"code": "29463-7"}))) == 3
    assert fhir().get("Observation", {"code": "http://snomed.info/sct|29463-7"})["total"] == 0
    assert fhir().get("Observation", {"status": "final"})["total"] == 4
    assert fhir().get("Observation", {"status": "amended"})["total"] == 0
    other = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
    assert fhir().get("Observation", {"patient": f"Patient/{other.pk}"})["total"] == 0
    entry = AccessLogEntry.objects.filter(detail="FHIR Observation search").first()
    assert entry is not None and entry.citizen_id == world.citizen.pk


def test_search_by_date_with_prefixes_at_day_precision(series, fhir):
    def found(value):
        return set(ids(fhir().get("Observation", {"date": value})))

    assert found("2026-03-02") == {series["w2"], series["bp"]}
    assert found("eq2026-03-02") == {series["w2"], series["bp"]}
    assert found("ge2026-03-02") == {series["w2"], series["bp"], series["w3"]}
    assert found("lt2026-03-02") == {series["w1"]}
    assert found("gt2026-03-02") == {series["w3"]}
    both = fhir().get("Observation", [("date", "ge2026-03-02"), ("date", "lt2026-03-03")])
    assert set(ids(both)) == {series["w2"], series["bp"]}
    assert fhir().get("Observation", {"date": "2. marts"}, status=400)["issue"][0]["code"] == "invalid"


def test_sort_by_date_and_count_pages(series, fhir):
    assert ids(fhir().get("Observation", {"_sort": "date"})) == [series["w1"], series["w2"], series["bp"], series["w3"]]
    assert ids(fhir().get("Observation", {"_sort": "-date"})) == [
        series["w3"],
        series["bp"],
        series["w2"],
        series["w1"],
    ]
    first = fhir().get("Observation", {"_sort": "-date", "_count": 3})
    assert ids(first) == [series["w3"], series["bp"], series["w2"]] and first["total"] == 4
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_offset=3" in following
    assert ids(fhir().get("Observation", {"_sort": "-date", "_count": 3, "_offset": 3})) == [series["w1"]]


def test_include_patient(world, series, fhir):
    bundle = fhir().get("Observation", {"code": "85354-9", "_include": "Observation:patient"})
    assert [p["id"] for p in of_type(bundle, "Patient")] == [str(world.citizen.pk)]
    assert ids(bundle, "include") == [str(world.citizen.pk)]


def test_search_uses_a_fixed_number_of_queries(world, gp_a, limits, fhir):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fhir().get("Observation", {"_count": 100, "_include": "Observation:patient"})
        return len(captured)

    observation_record(actor=gp_a, citizen=world.citizen, reading=weight("72"))
    queries()  # the token and memberships are cached from then on
    few = queries()
    for n in range(4):
        citizen = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
        threshold_set(actor=gp_a, citizen=citizen, code=ThresholdCode.SYSTOLIC, reason="HT", yellow_high=140 + n)
        observation_record(actor=gp_a, citizen=citizen, reading=blood_pressure(150, 80))
        observation_record(actor=gp_a, citizen=world.citizen, reading=weight(70 + n))
    assert queries() == few


# --- POST ----------------------------------------------------------------------------------------


def test_post_stores_the_measurement_and_raises_the_alert_the_rest_api_raises(
    world, token, client, limits, fhir, settings
):
    resource = fhir().post("Observation", posted(world.citizen, "86"), status=201)
    response = client.post(
        "/fhir/Observation",
        json.dumps(posted(world.citizen, "86", identifier=[{"value": "scale-2"}])),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Token {token('gp_a')}",
    )
    assert response.status_code == 201
    assert response["Location"].endswith(f"/fhir/Observation/{json.loads(response.content)['id']}")
    stored = Observation.objects.get(pk=resource["id"])
    assert (stored.value, stored.unit, stored.device_id, stored.external_id) == (86, "kg", "scale-77", "scale-1")
    assert interpretation(resource) == "HH" and resource["issued"]

    rest = APIClient()
    rest.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the FHIR client's language (alerts keep their text)
    rest.force_authenticate(world.users["gp_a"])
    payload = {
        "citizen": str(world.citizen.pk),
        "code": ObservationCode.BODY_WEIGHT,
        "value": "86",
        "unit": "kg",
        "effective_at": resource["effectiveDateTime"],
        "source": "device",
        "device_id": "scale-77",
        "external_id": "scale-3",
    }
    assert rest.post("/api/v1/observations/", payload, format="json").status_code == 201
    by_fhir, by_rest = (Alert.objects.get(observation__external_id=e) for e in ("scale-1", "scale-3"))
    same = ("organisation_id", "kind", "severity", "code", "message", "threshold_id", "citizen_id")
    assert [getattr(by_fhir, f) for f in same] == [getattr(by_rest, f) for f in same]
    assert (by_fhir.severity, by_fhir.kind, by_fhir.organisation_id) == (
        AlertSeverity.RED,
        AlertKind.THRESHOLD,
        world.clinic_a.pk,
    )
    assert CareEvent.objects.filter(dedupe_key=f"alert:{by_fhir.pk}").exists()
    assert AccessLogEntry.objects.filter(action=AccessAction.UPDATE, detail="observation 29463-7").count() == 3


def test_post_a_blood_pressure_panel_by_cpr(world, fhir):
    body = panel(world.citizen, 135, 85, subject={"identifier": {"system": CPR, "value": world.citizen.cpr}})
    resource = fhir().post("Observation", body, status=201)
    stored = Observation.objects.get(pk=resource["id"])
    assert (stored.code, stored.value, stored.value_2, stored.unit) == ("85354-9", 135, 85, "mm[Hg]")
    assert [c["valueQuantity"]["value"] for c in resource["component"]] == [135, 85]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"resourceType": "Patient"}, "Observation.resourceType"),
        ({"subject": None}, "Observation.subject"),
        ({"subject": {"reference": "Patient/00000000-0000-4000-8000-000000000000"}}, "Observation.subject"),
        ({"subject": {"reference": "Group/1"}}, "Observation.subject.reference"),
        ({"code": {"coding": [{"system": LOINC, "code": "1234-5"}]}}, "Observation.code"),
        ({"valueQuantity": {"value": 72, "system": UCUM, "code": "[lb_av]"}}, "Observation.valueQuantity.code"),
        ({"valueQuantity": {"value": 900, "system": UCUM, "code": "kg"}}, "Observation.valueQuantity.value"),
        ({"valueQuantity": {"value": 72.123, "system": UCUM, "code": "kg"}}, "Observation.valueQuantity.value"),
        ({"valueQuantity": {"value": "heavy", "code": "kg"}}, "Observation.valueQuantity.value"),
        ({"valueQuantity": None}, "Observation.valueQuantity.value"),
        ({"effectiveDateTime": "yesterday"}, "Observation.effectiveDateTime"),
        ({"effectiveDateTime": "2026-03-01"}, "Observation.effectiveDateTime"),
        ({"effectiveDateTime": "2099-03-01T10:00:00+01:00"}, "Observation.effectiveDateTime"),
        ({"status": "preliminary"}, "Observation.status"),
        ({"status": None}, "Observation.status"),
        ({"colour": "blue"}, "Observation.colour"),
        ({"note": [{"text": "x" * 301}]}, "Observation.note"),
    ],
)
def test_an_invalid_observation_is_a_400_naming_the_element(world, fhir, change, expression):
    body = posted(world.citizen)
    for key, value in change.items():
        body[key] = value
        if value is None:
            body.pop(key)
    answer = fhir().post("Observation", body, status=400)
    assert answer["resourceType"] == "OperationOutcome"
    assert expression in [e for i in answer["issue"] for e in i.get("expression", [])], answer
    assert not Observation.objects.exists()


def test_a_panel_without_its_diastolic_component_is_refused(world, fhir):
    body = panel(world.citizen, 135, 85)
    body["component"] = body["component"][:1]
    answer = fhir().post("Observation", body, status=400)
    assert answer["issue"][0]["expression"] == ["Observation.component"]
    body = panel(world.citizen, 135, 150)
    assert fhir().post("Observation", body, status=400)["issue"][0]["expression"] == [
        "Observation.component[1].valueQuantity.value"
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/fhir+json", 400),
        (b"[1, 2]", "application/fhir+json", 400),
        (b"\xff\xfe", "application/fhir+json", 400),
        (b"<Observation xmlns='http://hl7.org/fhir'/>", "application/fhir+xml", 400),
        (b"weight=72", "application/x-www-form-urlencoded", 415),
        (b"72.5", "text/plain", 415),
    ],
)
def test_a_body_that_cannot_be_read_is_an_operation_outcome_never_a_500(fhir, body, content_type, status):
    answer = fhir().post(
        "Observation", body, content_type=content_type, status=status, HTTP_ACCEPT="application/fhir+json"
    )
    assert answer["resourceType"] == "OperationOutcome"


def test_a_resend_with_the_same_identifier_is_not_stored_twice(world, fhir):
    first = fhir().post("Observation", posted(world.citizen), status=201)
    again = fhir().post("Observation", posted(world.citizen), status=200)
    assert first["id"] == again["id"] and Observation.objects.count() == 1


def test_the_outsider_cannot_post_for_a_patient_it_cannot_see(world, fhir):
    answer = fhir("gp_b").post("Observation", posted(world.citizen), status=400)
    assert answer["issue"][0]["expression"] == ["Observation.subject"]
    assert answer["issue"][0]["diagnostics"] == "No such patient."
    assert not Observation.objects.exists()


def test_a_session_cannot_write(world, client):
    client.force_login(world.users["gp_a"])
    response = client.post("/fhir/Observation", json.dumps(posted(world.citizen)), content_type="application/fhir+json")
    assert response.status_code == 401 and not Observation.objects.exists()
    response = client.post(
        "/fhir/", json.dumps({"resourceType": "Bundle", "type": "transaction"}), content_type="application/fhir+json"
    )
    assert response.status_code == 401


# --- transaction ---------------------------------------------------------------------------------


def transaction(*resources, method="POST") -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": resource, "request": {"method": method, "url": resource.get("resourceType", "Observation")}}
            for resource in resources
        ],
    }


def test_a_transaction_stores_every_entry_and_answers_a_transaction_response(world, limits, fhir):
    entries = [
        posted(world.citizen, "72", identifier=[{"value": "t-1"}]),
        panel(world.citizen, 190, 80),
        posted(world.citizen, "72", identifier=[{"value": "t-1"}]),  # the same reading twice
    ]
    answer = fhir().post("", transaction(*entries), status=200)
    assert answer["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created", "201 Created", "200 OK"]
    locations = [e["response"]["location"] for e in answer["entry"]]
    assert locations[0] == locations[2] and Observation.objects.count() == 2
    bp = Observation.objects.get(code=ObservationCode.BLOOD_PRESSURE)
    assert locations[1] == f"Observation/{bp.pk}"
    assert Alert.objects.get().observation == bp
    # The base URL without its slash takes the transaction too, and a resend stores nothing.
    again = fhir().client.post(
        "/fhir", json.dumps(transaction(entries[0])), content_type="application/fhir+json", **fhir().headers
    )
    assert again.status_code == 200 and Observation.objects.count() == 2


def test_a_transaction_with_a_wrong_entry_stores_nothing_and_names_each_wrong_entry(world, fhir):
    bad_unit = posted(world.citizen, "72", identifier=[{"value": "t-3"}])
    bad_unit["valueQuantity"]["code"] = "g"
    entries = [
        posted(world.citizen, "72", identifier=[{"value": "t-1"}]),
        posted(world.citizen, "900", identifier=[{"value": "t-2"}]),
        posted(world.citizen, "72", identifier=[{"value": "t-4"}]),
        bad_unit,
    ]
    answer = fhir().post("", transaction(*entries), status=400)
    expressions = [e for i in answer["issue"] for e in i["expression"]]
    assert expressions == [
        "Bundle.entry[1].resource.valueQuantity.value",
        "Bundle.entry[3].resource.valueQuantity.code",
    ]
    assert not Observation.objects.exists() and not Alert.objects.exists()
    outsider = fhir("gp_b").post("", transaction(posted(world.citizen)), status=400)
    assert outsider["issue"][0]["expression"] == ["Bundle.entry[0].resource.subject"]


def test_a_transaction_takes_only_creations_of_observations(world, fhir):
    updating = fhir().post("", transaction(posted(world.citizen), method="PUT"), status=400)
    assert updating["issue"][0]["expression"] == ["Bundle.entry[0].request.method"]
    patient = {"resourceType": "Patient", "name": [{"family": "X"}]}
    other = fhir().post("", transaction(posted(world.citizen), patient), status=400)
    assert other["issue"][0]["expression"] == ["Bundle.entry[1].resource.resourceType"]
    batch = {**transaction(posted(world.citizen)), "type": "batch"}
    assert fhir().post("", batch, status=400)["issue"][0]["code"] == "not-supported"
    assert fhir().post("", posted(world.citizen), status=400)["resourceType"] == "OperationOutcome"
    assert fhir().get("", status=405)["resourceType"] == "OperationOutcome"
    assert not Observation.objects.exists()


def test_the_capability_statement_lists_the_writes(fhir):
    statement = fhir().get("metadata")
    observation = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Observation")
    assert {"code": "create"} in observation["interaction"]
    assert {p["name"] for p in observation["searchParam"]} >= {"patient", "code", "date", "status"}
    assert "Observation:patient" in observation["searchInclude"]
    assert statement["rest"][0]["interaction"][0]["code"] == "transaction"


# --- Flag ----------------------------------------------------------------------------------------


@pytest.fixture
def alerts(world, gp_a, limits):
    """A red alert for clinic A (the GP clinic) and a yellow one for municipality A."""
    red = observation_record(actor=gp_a, citizen=world.citizen, reading=weight("90"))
    mine = Alert.objects.get(observation=red)
    theirs = Alert.objects.create(
        citizen=world.citizen,
        organisation=world.municipality_a,
        kind=AlertKind.MISSING,
        severity=AlertSeverity.YELLOW,
        code=ObservationCode.BODY_WEIGHT,
        message="No weight for 2 days",
    )
    return mine, theirs


def test_flag_read_shows_the_alert(world, alerts, fhir):
    mine, _theirs = alerts
    flag = fhir().get(f"Flag/{mine.pk}")
    assert flag["status"] == "active"
    assert flag["code"]["text"] == mine.message
    assert flag["code"]["coding"][0]["code"] == "red"
    assert flag["category"][0]["coding"][0]["code"] == "clinical"
    assert flag["subject"] == {"reference": f"Patient/{world.citizen.pk}"}
    assert flag["author"]["reference"] == f"Organization/{world.clinic_a.pk}"
    assert flag["period"]["start"] and "end" not in flag["period"]
    assert flag["extension"][0]["valueReference"] == {"reference": f"Observation/{mine.observation_id}"}
    assert AccessLogEntry.objects.filter(detail="FHIR Flag read", citizen=world.citizen).exists()


def test_flags_are_the_acting_organisations_own(world, alerts, fhir):
    mine, theirs = alerts
    fhir().get(f"Flag/{theirs.pk}", status=404)
    assert ids(fhir().get("Flag", {"patient": f"Patient/{world.citizen.pk}"})) == [str(mine.pk)]
    assert ids(fhir("homecare_a").get("Flag")) == [str(theirs.pk)]
    fhir("gp_b").get(f"Flag/{mine.pk}", status=404)
    assert fhir("gp_b").get("Flag")["total"] == 0


def test_flag_search_by_status(world, alerts, fhir):
    mine, _theirs = alerts
    assert ids(fhir().get("Flag", {"status": "active"})) == [str(mine.pk)]
    assert fhir().get("Flag", {"status": "inactive"})["total"] == 0
    Alert.objects.filter(pk=mine.pk).update(acknowledged_at=timezone.now())
    assert ids(fhir().get("Flag", {"status": "inactive"})) == [str(mine.pk)]
    assert fhir().get(f"Flag/{mine.pk}")["period"]["end"]
    entry = AccessLogEntry.objects.filter(detail="FHIR Flag search").first()
    assert entry is not None and entry.citizen_id == world.citizen.pk


def test_flag_search_uses_a_fixed_number_of_queries(world, gp_a, alerts, fhir):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fhir().get("Flag", {"_count": 100})
        return len(captured)

    queries()
    few = queries()
    for _ in range(3):
        citizen = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
        threshold_set(actor=gp_a, citizen=citizen, code=ThresholdCode.BODY_WEIGHT, reason="HF", red_high=85)
        observation_record(actor=gp_a, citizen=citizen, reading=copy.copy(weight("90")))
    assert fhir().get("Flag")["total"] == 4
    assert queries() == few


@pytest.mark.parametrize(
    "change",
    [
        {"code": "29463-7"},
        {"component": 5},
        {"valueQuantity": []},
        {"subject": "Patient/1"},
        {"subject": {"identifier": {"system": CPR}}},
        {"identifier": {"value": "x"}},
        {"note": "text"},
        {"effectiveDateTime": 5},
        {"device": {"identifier": "x"}},
        {"valueQuantity": {"value": 1e400, "code": "kg"}},
        {"valueQuantity": {"value": 72, "comparator": "<", "code": "kg"}},
    ],
)
def test_odd_shapes_are_400_never_500(world, fhir, change):
    assert fhir().post("Observation", {**posted(world.citizen), **change}, status=400)["issue"]
    bundle = transaction({**posted(world.citizen), **change})
    assert fhir().post("", bundle, status=400)["issue"]


@pytest.mark.parametrize(
    "bundle",
    [
        {"resourceType": "Bundle", "type": "transaction", "entry": "x"},
        {"resourceType": "Bundle", "type": "transaction", "entry": [1]},
        {"resourceType": "Bundle", "type": "transaction", "entry": [{"request": "POST"}]},
        {"resourceType": "Bundle", "type": "transaction", "entry": [{"request": {"method": "POST"}, "resource": []}]},
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [{"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Observation"}}],
        },
        {"resourceType": "Bundle", "type": "collection"},
    ],
)
def test_odd_bundles_are_400_never_500(fhir, bundle):
    assert fhir().post("", bundle, status=400)["resourceType"] == "OperationOutcome"
