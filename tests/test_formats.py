"""Dates and numbers as each language writes them: English never month first (6 Dec 2026, not
12/06/2026), Danish 06.12.2026 and a decimal comma (77,8 kg), on the pages of a working day."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from freezegun import freeze_time

from careplans.choices import ObservationCode, ThresholdCode
from careplans.measurements import number_text
from careplans.monitoring import Reading, observation_record, threshold_set
from careplans.services import activity_create, goal_create
from careplans.tests.helpers import active_plan
from messaging.services import message_send

pytestmark = pytest.mark.django_db

MONTH_FIRST = re.compile(r"\b\d{1,2}/\d{1,2}/(\d{4}|\d{2})\b")
TODAY = datetime.date(2026, 12, 6)


@pytest.fixture(autouse=True)
def frozen():
    """Sunday 6 December 2026, 10:00 in Copenhagen: day and month both fit in a month number."""
    with freeze_time("2026-12-06 09:00:00", tick=False):
        yield


@pytest.fixture
def day(world, actor, django_capture_on_commit_callbacks):
    """A plan with a weight goal, a weight of 77.8 kg over the yellow limit (an alert for the GP
    clinic), an overdue home-care visit and a message to the municipality."""
    gp, homecare = actor("gp_a"), actor("homecare_a")
    plan = active_plan(world, gp, title="Hjertesvigt", period_start=TODAY)
    goal_create(
        actor=gp,
        plan=plan,
        description="Vægten holdes",
        responsible_organisation=world.clinic_a,
        target_code=ThresholdCode.BODY_WEIGHT,
        target_comparator="<",
        target_value=Decimal("79.50"),
        target_unit="kg",
        due_date=TODAY + datetime.timedelta(days=30),
    )
    threshold_set(
        actor=gp, citizen=world.citizen, code=ThresholdCode.BODY_WEIGHT, reason="Ødemer", yellow_high=Decimal("77.5")
    )
    reading = Reading(
        code=ObservationCode.BODY_WEIGHT,
        value=Decimal("77.8"),
        unit="kg",
        effective_at=timezone.now() - datetime.timedelta(minutes=30),
        source="gp",
    )
    with translation.override("da"):
        observation_record(actor=gp, citizen=world.citizen, reading=reading)
    home_plan = active_plan(
        world,
        homecare,
        title="Hjemmepleje",
        coordinating_organisation=world.municipality_a,
        period_start=TODAY - datetime.timedelta(days=10),
    )
    activity_create(
        actor=homecare,
        plan=home_plan,
        description="Sårskift",
        responsible_organisation=world.municipality_a,
        due_date=TODAY - datetime.timedelta(days=2),
    )
    with django_capture_on_commit_callbacks(execute=True):
        message_send(
            actor=gp, citizen=world.citizen, receiver=world.municipality_a, category="nursing", text="Ny medicin."
        )
    return plan


def _page(client, world, user: str, url: str, language: str) -> str:
    client.force_login(world.users[user])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _pages(world, plan) -> list[tuple[str, str]]:
    return [
        ("gp_a", reverse("citizens:detail", args=[world.citizen.pk])),
        ("gp_a", reverse("careplans:detail", args=[plan.pk])),
        ("gp_a", reverse("careplans:alerts")),
        ("homecare_a", reverse("careplans:today")),
        ("homecare_a", reverse("messaging:inbox")),
    ]


def test_english_pages_never_write_the_month_first(client, world, day):
    for user, url in _pages(world, day):
        html = _page(client, world, user, url, "en")
        assert not MONTH_FIRST.search(html), (url, MONTH_FIRST.search(html).group(0))
        assert "6 Dec 2026" in html or url == reverse("careplans:today"), url


def test_danish_pages_write_day_month_year_with_dots(client, world, day):
    for user, url in _pages(world, day):
        html = _page(client, world, user, url, "da")
        assert not MONTH_FIRST.search(html), url
        assert "06.12.2026" in html or url == reverse("careplans:today"), url


def test_today_names_the_day_and_the_overdue_date_unambiguously(client, world, day):
    english = _page(client, world, "homecare_a", reverse("careplans:today"), "en")
    danish = _page(client, world, "homecare_a", reverse("careplans:today"), "da")
    assert "Sunday 6 December" in english
    assert "søndag 6 december" in danish.lower()


@pytest.mark.parametrize(("language", "shown", "not_shown"), [("da", "77,8 kg", "77.8 kg"), ("en", "77.8 kg", "77,8")])
def test_a_decimal_measurement_uses_the_languages_separator(client, world, day, language, shown, not_shown):
    for user, url in _pages(world, day)[:3]:
        html = _page(client, world, user, url, language)
        assert shown in html, url
        if language == "da":
            assert not_shown not in html, url
    plan_page = _page(client, world, "gp_a", reverse("careplans:detail", args=[day.pk]), language)
    assert ("&lt; 79,5 kg" if language == "da" else "&lt; 79.5 kg") in plan_page  # the goal's target
    assert ("77,5" if language == "da" else "77.5") in plan_page  # the yellow limit


def test_the_alert_text_is_written_in_the_language_it_was_raised_in(world, day):
    from careplans.models import Alert

    assert "77,8 kg" in Alert.objects.get().message


def test_number_text_follows_the_active_language():
    with translation.override("da"):
        assert number_text(Decimal("77.80")) == "77,8"
        assert number_text(Decimal("100")) == "100"
        assert number_text(Decimal("1E+2")) == "100"
    with translation.override("en"):
        assert number_text(Decimal("77.80")) == "77.8"
        assert number_text(Decimal("12345.5")) == "12345.5"  # no grouping: a measurement, not an amount


def test_the_format_modules_write_unambiguous_dates():
    moment = timezone.make_aware(datetime.datetime(2026, 12, 6, 14, 30))
    expected = {
        "en": ("6 Dec 2026", "6 Dec 2026 14:30"),
        "da": ("06.12.2026", "06.12.2026 14:30"),
    }
    for language, (date_text, datetime_text) in expected.items():
        with translation.override(language):
            for name in ("DATE_FORMAT", "SHORT_DATE_FORMAT"):
                assert formats.date_format(moment.date(), name) == date_text
            for name in ("DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"):
                assert formats.date_format(timezone.localtime(moment), name) == datetime_text
            assert formats.number_format(Decimal("77.8")) == ("77,8" if language == "da" else "77.8")


def test_english_forms_do_not_read_a_typed_date_month_first():
    from django import forms

    field = forms.DateField()
    with translation.override("en"):
        assert field.clean("2026-12-06") == TODAY
        assert field.clean("06.12.2026") == TODAY
        with pytest.raises(forms.ValidationError):
            field.clean("12/06/2026")


def test_a_missing_measurement_alert_writes_the_date_as_the_language_does(world, actor):
    from careplans.choices import AlertKind
    from careplans.models import Alert
    from careplans.monitoring import missing_measurements_check, schedule_create

    gp = actor("gp_a")
    active_plan(world, gp, title="KOL")
    schedule_create(
        actor=gp,
        citizen=world.citizen,
        code=ObservationCode.BODY_WEIGHT,
        every_hours=24,
        grace_hours=6,
        monitoring_organisation=world.municipality_a,
    )
    with freeze_time("2026-12-08 09:00:00"), translation.override("da"):
        assert missing_measurements_check() == 1
    assert "ingen siden 06.12.2026 10:00" in Alert.objects.get(kind=AlertKind.MISSING).message
