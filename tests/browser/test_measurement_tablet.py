"""Recording a blood pressure on a tablet: at 1024×768 (landscape) and 820×1180 (portrait) the
keypad's "Save measurement" button is on the screen without scrolling, and the pulse is typed
with the pressure and saved as a second observation (heart rate, 8867-4)."""

import os

import pytest
from django.conf import settings

from careplans.choices import CarePlanStatus, ObservationCode
from careplans.models import Observation
from careplans.services import careplan_create
from citizens.access import Actor
from citizens.tests.factories import CitizenFactory
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import GPClinicFactory, MembershipFactory, MunicipalityFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"  # noqa: S105 - the factories' test password
SCREENSHOTS = os.environ.get("SMARTCARE_SCREENSHOTS")  # a folder, to look at the layout


@pytest.fixture
def visit(db):
    municipality = MunicipalityFactory(name="Testkommune")
    clinic = GPClinicFactory(name="Lægehuset Test", municipality=municipality)
    nurse = MembershipFactory(organisation=municipality, role=MembershipRole.HOME_CARE_NURSE).user
    citizen = CitizenFactory(municipality=municipality, gp_clinic=clinic, street="Algade 1", postal_code="5000")
    careplan_create(
        actor=Actor(user=nurse, acting=resolve(nurse, None)),
        citizen=citizen,
        title="Hjemmepleje",
        coordinating_organisation=clinic,
        status=CarePlanStatus.ACTIVE,
    )
    return {"nurse": nurse, "citizen": citizen}


def type_on(keypad, digits):
    for key in digits:
        keypad.locator(f"[data-key='{key}']").click()


@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 768}, {"width": 820, "height": 1180}])
def test_blood_pressure_and_pulse_on_the_keypad_with_save_on_screen(new_page, live_server, visit, viewport):
    page = new_page(viewport=viewport, language="en")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    sign_in(page, visit["nurse"].email, PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/care/citizens/{visit['citizen'].pk}/measurements/new/?code={ObservationCode.BLOOD_PRESSURE}")
    keypad = page.get_by_test_id("keypad")
    keypad.wait_for()

    save = page.get_by_test_id("save-measurement")
    box = save.bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], box
    assert box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    type_on(keypad, "142")
    keypad.get_by_role("button", name="Next field").click()
    type_on(keypad, "88")
    keypad.get_by_role("button", name="Next field").click()
    type_on(keypad, "72")
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"blood-pressure-{viewport['width']}.png"))
    assert page.get_by_label("Pulse (/min)").input_value() == "72"
    save.click()
    page.get_by_text("Heart rate 72 /min recorded.").wait_for()
    assert page.get_by_text("Blood pressure 142/88 mmHg recorded.").is_visible()
    stored = dict(Observation.objects.values_list("code", "value"))
    assert set(stored) == {ObservationCode.BLOOD_PRESSURE, ObservationCode.HEART_RATE}
    assert page.console_errors == []
