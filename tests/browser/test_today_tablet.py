"""Home care on a tablet: the Today list in visiting order, "Mark done" swapped in place, and a
measurement typed on the on-screen keypad that raises a red alert for the GP clinic."""

import datetime
import os

import pytest
from django.conf import settings
from django.utils import timezone

from careplans.choices import CarePlanStatus, ObservationCode, ThresholdCode
from careplans.models import MonitoringSchedule
from careplans.monitoring import threshold_set
from careplans.services import activity_create, careplan_create
from citizens.access import Actor
from citizens.models import AccessLogHead
from citizens.tests.factories import CitizenFactory
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import GPClinicFactory, MembershipFactory, MunicipalityFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"  # noqa: S105 - the factories' test password
SCREENSHOTS = os.environ.get("SMARTCARE_SCREENSHOTS")  # a folder, to look at the layout


def as_actor(user):
    return Actor(user=user, acting=resolve(user, None))


@pytest.fixture
def rounds(db):
    # A transactional test before this one flushed the rows the migrations created; the access
    # log needs its head row (serialized_rollback cannot help: Playwright's greenlet sees another
    # database connection object than the one the test database was serialized on).
    AccessLogHead.objects.get_or_create(id=1, defaults={"last_hash": "0" * 64, "count": 0})
    municipality = MunicipalityFactory(name="Testkommune")
    clinic = GPClinicFactory(name="Lægehuset Test", municipality=municipality)
    nurse = MembershipFactory(organisation=municipality, role=MembershipRole.HOME_CARE_NURSE).user
    gp = as_actor(MembershipFactory(organisation=clinic, role=MembershipRole.GP).user)
    homecare = as_actor(nurse)
    today = timezone.localdate()
    citizens = []
    for street, postal_code in (("Vestergade 5", "5000"), ("Algade 1", "5000")):
        citizen = CitizenFactory(
            municipality=municipality, gp_clinic=clinic, street=street, postal_code=postal_code, city="Odense C"
        )
        plan = careplan_create(
            actor=homecare,
            citizen=citizen,
            title="Hjemmepleje",
            coordinating_organisation=clinic,
            status=CarePlanStatus.ACTIVE,
        )
        activity_create(
            actor=homecare,
            plan=plan,
            description=f"Medicin til {citizen.first_name}",
            responsible_organisation=municipality,
            due_date=today - datetime.timedelta(days=len(citizens)),
        )
        citizens.append(citizen)
    threshold_set(actor=gp, citizen=citizens[1], code=ThresholdCode.BODY_WEIGHT, reason="Hjertesvigt", red_high=100)
    # the municipality also watches the weight (so it gets the alert), and has a request to answer
    MonitoringSchedule.objects.create(
        citizen=citizens[1], code=ObservationCode.BODY_WEIGHT, monitoring_organisation=municipality
    )
    activity_create(
        actor=gp,
        plan=careplan_create(actor=gp, citizen=citizens[0], title="KOL", coordinating_organisation=clinic),
        description="Blodtryk",
        responsible_organisation=municipality,
        due_date=today,
    )
    return {"nurse": nurse, "citizens": citizens, "clinic": clinic}


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [{"width": 768, "height": 1024}, {"width": 1024, "height": 768}])
def test_home_care_nurse_works_through_today_on_a_tablet(new_page, live_server, rounds, viewport):
    first, second = rounds["citizens"][1], rounds["citizens"][0]  # Algade before Vestergade
    page = new_page(viewport=viewport, language="en")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    sign_in(page, rounds["nurse"].email, PASSWORD)
    page.wait_for_url("**/")
    page.goto("/care/today/")
    page.wait_for_url("**/care/today/")
    addresses = page.get_by_test_id("visit-address").all_inner_texts()
    assert ["Algade 1" in addresses[0], "Vestergade 5" in addresses[1]] == [True, True]
    assert page.get_by_text("Overdue 1 day").is_visible()
    shot(page, f"today-{viewport['width']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scrolling
    assert page.get_by_test_id("nav-handoffs-count").inner_text().startswith("1")

    # Mark done: the card is swapped in place (htmx), the page is not reloaded.
    card = page.locator(f"#visit-{second.pk}")
    card.get_by_placeholder("Note (optional)").fill("Taget med vand")
    button = card.get_by_test_id("mark-done")
    assert button.bounding_box()["height"] >= 44
    button.click()
    card.get_by_test_id("activity-done").wait_for()
    assert page.url.endswith("/care/today/")

    # Record a weight on the keypad: 104,5 kg is above the red limit of 100.
    page.locator(f"#visit-{first.pk}").get_by_test_id("record-measurement").click()
    page.get_by_role("link", name="Body weight").click()
    keypad = page.get_by_test_id("keypad")
    keypad.wait_for()
    for key in ["1", "0", "4"]:
        keypad.locator(f"[data-key='{key}']").click()
    keypad.get_by_role("button", name="Decimal separator").click()
    keypad.locator("[data-key='5']").click()
    assert page.locator("input[name=value]").input_value() == "104.5"
    keypad.get_by_role("button", name="Delete last digit").click()
    keypad.locator("[data-key='5']").click()
    assert keypad.locator("[data-key='7']").bounding_box()["height"] >= 44
    shot(page, f"measurement-{viewport['width']}")
    keypad.get_by_role("button", name="Next field").click()
    page.get_by_test_id("save-measurement").click()
    page.wait_for_url("**/care/today/**")
    banner = page.get_by_role("alert").filter(has_text="Outside the limits")
    assert rounds["clinic"].name in banner.inner_text()
    shot(page, f"after-measurement-{viewport['width']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert page.get_by_test_id("nav-alerts-count").inner_text().startswith("1")
    assert page.console_errors == []
