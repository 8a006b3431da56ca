"""The beat tasks, run eagerly (``CELERY_TASK_ALWAYS_EAGER`` in the test settings): each is safe to
run twice, as beat and a slow worker may overlap."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import AlertKind, CareEventKind, ObservationCode
from careplans.models import Alert, CareEvent
from careplans.monitoring import schedule_create
from careplans.services import activity_create
from careplans.tasks import handoffs_flag_overdue_task, missing_measurements_check_task

from .helpers import active_plan

pytestmark = pytest.mark.django_db


def test_the_test_settings_run_tasks_eagerly():
    assert settings.CELERY_TASK_ALWAYS_EAGER is True


def test_the_beat_schedule_names_the_tasks():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {missing_measurements_check_task.name, handoffs_flag_overdue_task.name} <= tasks


def test_missing_measurements_task_is_idempotent(world, gp_actor):
    start = timezone.now()
    with freeze_time(start):
        plan = active_plan(world, gp_actor)
        schedule_create(
            actor=gp_actor,
            citizen=world.citizen,
            code=ObservationCode.BLOOD_PRESSURE,
            every_hours=24,
            monitoring_organisation=world.municipality_a,
            care_plan=plan,
        )

    with freeze_time(start + datetime.timedelta(hours=29)):
        assert missing_measurements_check_task.delay().get() == 0
    with freeze_time(start + datetime.timedelta(hours=31)):
        assert missing_measurements_check_task.delay().get() == 1
        assert missing_measurements_check_task.delay().get() == 0
    with freeze_time(start + datetime.timedelta(hours=60)):
        assert missing_measurements_check_task.delay().get() == 0

    alert = Alert.objects.get()
    assert (alert.kind, alert.organisation) == (AlertKind.MISSING, world.municipality_a)
    assert CareEvent.objects.filter(kind=CareEventKind.ALERT_RAISED).count() == 1


def test_overdue_handoffs_task_is_idempotent(world, gp_actor):
    start = timezone.now()
    with freeze_time(start):
        plan = active_plan(world, gp_actor)
        for weekday in ("MO", "TH"):
            activity_create(
                actor=gp_actor,
                plan=plan,
                description=f"Besøg {weekday}",
                responsible_organisation=world.municipality_b,
                weekdays=weekday,
            )

    with freeze_time(start + datetime.timedelta(hours=73)):
        assert handoffs_flag_overdue_task.delay().get() == 2
        assert handoffs_flag_overdue_task.delay().get() == 0
    with freeze_time(start + datetime.timedelta(days=9)):
        assert handoffs_flag_overdue_task.apply().get() == 0

    overdue = CareEvent.objects.filter(kind=CareEventKind.HANDOFF_OVERDUE)
    assert overdue.count() == 2
    assert set(overdue.values_list("organisation", flat=True)) == {world.clinic_a.pk}


def test_tasks_with_nothing_to_do(db):
    assert missing_measurements_check_task.delay().get() == 0
    assert handoffs_flag_overdue_task.delay().get() == 0
