"""Nothing impossible is stored: dates within the citizen's life and a sensible horizon, periods
in order, thresholds within the plausible range, no control characters in text; and every
datetime leaves the portal as RFC 3339 with a real offset."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from careplans.choices import CarePlanStatus, ObservationCode, ThresholdCode
from careplans.models import MonitoringSchedule, Observation
from careplans.monitoring import Reading, observation_record, threshold_set
from careplans.services import careplan_create, goal_create
from citizens.cpr import validate_cpr
from citizens.models import Citizen
from messaging.choices import HospitalCode
from messaging.services import hospital_event_record
from messaging.tests import fixtures_fhir as fx
from messaging.tests.fhir_post import ack_of
from smartcare.apps import text_fields
from smartcare.datetimes import rfc3339
from smartcare.validators import free_text, single_line_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

COPENHAGEN_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+0[12]:00$")


PLAN_FORM = {"title": "KOL", "intent": "plan", "status": "draft", "period_start": "2026-01-05"}


def aware(year: int, month: int = 6, day: int = 1) -> datetime.datetime:
    return datetime.datetime(year, month, day, 12, tzinfo=datetime.UTC)


@pytest.fixture
def born_1955(world):
    Citizen.objects.filter(pk=world.citizen.pk).update(birth_date=datetime.date(1955, 5, 1))
    world.citizen.refresh_from_db()
    return world.citizen


def api(user) -> APIClient:
    from django.conf import settings

    client = APIClient()
    client.force_authenticate(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [8, 1800, 1901])
def test_an_admission_before_the_patients_birth_is_refused(born_1955, actor, year):
    with pytest.raises(ValidationError) as exc:
        hospital_event_record(
            actor=actor("hospital_nurse"), citizen=born_1955, code=HospitalCode.STIN, occurred_at=aware(year)
        )
    assert "occurred_at" in exc.value.message_dict
    assert not born_1955.stays.exists()


def test_an_admission_in_1800_through_the_api_is_a_400(world, born_1955):
    body = {"cpr": born_1955.cpr, "code": HospitalCode.STIN, "occurred_at": "1800-06-01T12:00:00+00:00"}
    response = api(world.users["hospital_nurse"]).post("/api/v1/hospital-events/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"occurred_at": ["The date cannot be before 1900."]}
    assert not born_1955.stays.exists()


def reading(at: datetime.datetime) -> Reading:
    return Reading(code=ObservationCode.BODY_WEIGHT, value="72.5", unit="kg", effective_at=at, source="citizen")


def test_an_observation_in_year_73_is_refused(world, actor):
    with pytest.raises(ValidationError) as exc:
        observation_record(actor=actor("gp_a"), citizen=world.citizen, reading=reading(aware(73)))
    assert "effective_at" in exc.value.message_dict
    assert not Observation.objects.exists()


def test_an_observation_in_year_73_through_the_api_is_a_400_naming_the_field(world):
    body = {
        "citizen": str(world.citizen.pk),
        "code": ObservationCode.BODY_WEIGHT,
        "value": "72.5",
        "unit": "kg",
        "effective_at": "0073-06-01T12:00:00+00:00",
        "source": "device",
    }
    response = api(world.users["gp_a"]).post("/api/v1/observations/", body, format="json")
    assert response.status_code == 400, response.content
    assert "effective_at" in response.json()


def test_an_observation_before_birth_is_refused(world, actor):
    before = timezone.make_aware(datetime.datetime.combine(world.citizen.birth_date, datetime.time())) - (
        datetime.timedelta(days=1)
    )
    with pytest.raises(ValidationError) as exc:
        observation_record(actor=actor("gp_a"), citizen=world.citizen, reading=reading(before))
    assert "birth" in exc.value.message_dict["effective_at"][0]


def test_a_plan_starting_in_year_1_is_refused_by_service_and_api(world, actor):
    with pytest.raises(ValidationError) as exc:
        careplan_create(
            actor=actor("gp_a"),
            citizen=world.citizen,
            title="KOL",
            coordinating_organisation=world.clinic_a,
            period_start=datetime.date(1, 1, 1),
        )
    assert "period_start" in exc.value.message_dict

    body = {
        "citizen": str(world.citizen.pk),
        "title": "KOL",
        "coordinating_organisation": world.clinic_a.pk,
        "period_start": "0001-01-01",
    }
    response = api(world.users["gp_a"]).post("/api/v1/careplans/", body, format="json")
    assert response.status_code == 400, response.content
    assert "period_start" in response.json()


def test_a_plan_start_before_1900_is_refused_by_the_database(world, actor):
    plan = careplan_create(
        actor=actor("gp_a"), citizen=world.citizen, title="KOL", coordinating_organisation=world.clinic_a
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        type(plan).objects.filter(pk=plan.pk).update(period_start=datetime.date(1899, 12, 31))


def test_a_plan_page_form_shows_the_date_error(world, client):
    client.force_login(world.users["gp_a"])
    response = client.post(
        f"/care/citizens/{world.citizen.pk}/plans/new/",
        {**PLAN_FORM, "coordinating_organisation": world.clinic_a.pk, "period_start": "1800-01-01"},
    )
    assert response.status_code == 400
    assert "period_start" in response.context["form"].errors
    assert b"cannot be before 1900" in response.content


def test_a_goal_due_9999_12_31_is_refused(world, actor):
    plan = careplan_create(
        actor=actor("gp_a"),
        citizen=world.citizen,
        title="KOL",
        coordinating_organisation=world.clinic_a,
        status=CarePlanStatus.ACTIVE,
    )
    with pytest.raises(ValidationError) as exc:
        goal_create(
            actor=actor("gp_a"),
            plan=plan,
            description="Går 30 minutter",
            responsible_organisation=world.clinic_a,
            due_date=datetime.date(9999, 12, 31),
        )
    assert "due_date" in exc.value.message_dict
    goal = goal_create(
        actor=actor("gp_a"),
        plan=plan,
        description="Går 30 minutter",
        responsible_organisation=world.clinic_a,
        due_date=timezone.localdate() + datetime.timedelta(days=365 * 5),
    )
    assert goal.pk


def test_a_schedule_that_ends_before_it_starts_is_refused(world):
    now = timezone.now()
    schedule = MonitoringSchedule(
        citizen=world.citizen,
        code=ObservationCode.BODY_WEIGHT,
        monitoring_organisation=world.clinic_a,
        starts_at=now,
        ends_at=now - datetime.timedelta(days=1),
    )
    with pytest.raises(ValidationError) as exc:
        schedule.full_clean()
    assert "ends_at" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        schedule.save()


def test_a_cpr_number_with_a_future_birth_date_is_refused():
    # 7th digit 4 and year 36: born in 2036.
    with pytest.raises(ValidationError) as exc:
        validate_cpr("0101364234")
    assert exc.value.code == "cpr_future"
    validate_cpr("0101374234")  # 1937


def test_a_cpr_number_with_a_future_birth_date_is_a_400_through_the_api(world):
    body = {
        "cpr": "010136-4234",
        "first_name": "Birthe",
        "last_name": "Kjær",
        "municipality": world.municipality_a.pk,
        "gp_clinic": world.clinic_a.pk,
    }
    response = api(world.users["gp_a"]).post("/api/v1/citizens/", body, format="json")
    assert response.status_code == 400, response.content
    assert "cpr" in response.json()
    assert not Citizen.objects.filter(cpr="0101364234").exists()


def test_a_condition_onset_in_the_future_is_refused(world):
    from citizens.models import CitizenCondition
    from citizens.tests.factories import ConditionFactory

    row = CitizenCondition(
        citizen=world.citizen,
        condition=ConditionFactory(),
        onset_date=timezone.localdate() + datetime.timedelta(days=2),
    )
    with pytest.raises(ValidationError) as exc:
        row.full_clean()
    assert "onset_date" in exc.value.message_dict


# --- datetimes leave as RFC 3339 -----------------------------------------------------------------


def test_a_datetime_renders_with_the_danish_offset():
    assert rfc3339(datetime.datetime(2026, 1, 15, 8, 30, tzinfo=datetime.UTC)) == "2026-01-15T09:30:00+01:00"
    assert rfc3339(datetime.datetime(2026, 7, 15, 8, 30, tzinfo=datetime.UTC)) == "2026-07-15T10:30:00+02:00"


def test_a_local_mean_time_offset_is_never_rendered():
    text = rfc3339(aware(1893))
    assert "+00:50" not in text
    assert text == "1893-06-01T12:00:00Z"


def test_the_api_renders_a_model_datetime_with_a_real_offset(world, actor):
    observation = observation_record(
        actor=actor("gp_a"), citizen=world.citizen, reading=reading(timezone.now() - datetime.timedelta(hours=1))
    )
    data = api(world.users["gp_a"]).get(f"/api/v1/observations/{observation.pk}/").json()
    assert COPENHAGEN_OFFSET.match(data["effective_at"]), data["effective_at"]
    assert COPENHAGEN_OFFSET.match(data["entered_at"]), data["entered_at"]


def test_the_api_field_never_renders_local_mean_time():
    from smartcare.api.fields import DateTimeField

    assert DateTimeField().to_representation(aware(1893)) == "1893-06-01T12:00:00Z"


def test_a_moment_before_1900_is_refused_by_the_database(world, actor):
    observation = observation_record(
        actor=actor("gp_a"), citizen=world.citizen, reading=reading(timezone.now() - datetime.timedelta(hours=1))
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Observation.objects.filter(pk=observation.pk).update(effective_at=aware(1893))


# --- thresholds ----------------------------------------------------------------------------------


def test_a_threshold_outside_the_plausible_range_is_refused(world, actor):
    with pytest.raises(ValidationError) as exc:
        threshold_set(
            actor=actor("gp_a"), citizen=world.citizen, code=ThresholdCode.BODY_WEIGHT, reason="x", red_high=900
        )
    assert "red_high" in exc.value.message_dict
    assert threshold_set(
        actor=actor("gp_a"), citizen=world.citizen, code=ThresholdCode.BODY_WEIGHT, reason="x", red_high=120
    ).pk


def test_a_threshold_outside_the_plausible_range_is_a_400_through_the_api(world):
    body = {"citizen": str(world.citizen.pk), "code": ThresholdCode.SPO2, "reason": "KOL", "red_low": 10}
    response = api(world.users["gp_a"]).post("/api/v1/thresholds/", body, format="json")
    assert response.status_code == 400, response.content
    assert "red_low" in response.json()


# --- text ----------------------------------------------------------------------------------------


def test_every_text_field_of_every_model_refuses_control_characters():
    fields = list(text_fields())
    assert len(fields) > 50
    for model, field in fields:
        expected = free_text if field.get_internal_type() == "TextField" else single_line_text
        assert expected in field.validators, f"{model.__name__}.{field.name}"
        with pytest.raises(ValidationError):
            field.run_validators("a\x00b")
        with pytest.raises(ValidationError):
            field.run_validators("a\x1bb")


def test_free_text_keeps_tabs_and_line_breaks_and_a_line_does_not():
    free_text("line one\r\n\tline two")
    with pytest.raises(ValidationError):
        single_line_text("a\nb")
    with pytest.raises(ValidationError) as exc:
        free_text("bell \x07")
    assert "U+0007" in exc.value.messages[0]


def test_a_control_character_through_the_api_is_a_400_naming_the_field(world):
    body = {"citizen": str(world.citizen.pk), "title": "K\x0bOL", "coordinating_organisation": world.clinic_a.pk}
    response = api(world.users["gp_a"]).post("/api/v1/careplans/", body, format="json")
    assert response.status_code == 400, response.content
    assert "title" in response.json()


def test_a_control_character_in_a_text_no_model_validates_is_a_400_naming_the_field(world):
    """The comment goes into the plan's history without a model's full_clean()."""
    body = {
        "citizen": str(world.citizen.pk),
        "title": "KOL",
        "coordinating_organisation": world.clinic_a.pk,
        "comment": "Aftalt med\x07 borgeren",
    }
    response = api(world.users["gp_a"]).post("/api/v1/careplans/", body, format="json")
    assert response.status_code == 400, response.content
    assert "comment" in response.json()
    assert not world.citizen.care_plans.exists()


def test_every_form_and_serializer_text_field_refuses_control_characters():
    from django import forms
    from rest_framework import serializers

    for field in (forms.CharField(), forms.CharField(widget=forms.Textarea), serializers.CharField()):
        with pytest.raises((ValidationError, serializers.ValidationError)):
            field.run_validation("a\x1bb") if isinstance(field, serializers.Field) else field.clean("a\x1bb")
    assert forms.CharField().clean("line one\r\nline two") == "line one\r\nline two"


def test_a_control_character_in_a_page_form_is_a_field_error(world, client):
    client.force_login(world.users["gp_a"])
    response = client.post(
        f"/care/citizens/{world.citizen.pk}/plans/new/",
        {**PLAN_FORM, "title": "K\x1bOL", "coordinating_organisation": world.clinic_a.pk},
    )
    assert response.status_code == 400
    assert "title" in response.context["form"].errors
    assert b"control character" in response.content


def test_a_message_bundle_with_a_nul_in_its_text_is_refused_not_a_500(world, post):
    """FHIR strings may hold no control character but tab and line breaks: such a body is no valid
    bundle, answered 400 with an OperationOutcome naming the problem, and nothing is stored."""
    bundle = fx.care_communication(
        sender=world.clinic_a, receiver=world.municipality_a, cpr=world.citizen.cpr, text="Ny medicin\x00"
    )
    response = post(bundle)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not world.citizen.messages.exists()


def test_a_hospital_notification_with_an_admission_before_the_birth_is_a_fatal_error(world, post):
    bundle = fx.hospital_notification(
        sender=world.department, receiver=world.municipality_a, cpr=world.citizen.cpr, start=aware(1901)
    )
    ack = ack_of(post(bundle, as_user="hospital_nurse"))
    assert ack["code"] == "fatal-error", ack
    assert not world.citizen.stays.exists()
