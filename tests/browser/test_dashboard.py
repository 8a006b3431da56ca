"""A home-care nurse's working day starts on the dashboard: the work overview's cards show what
waits (an overdue visit, a request from the GP), and each count opens its list."""

import datetime
import os

import pytest
from django.conf import settings
from django.utils import timezone

from careplans.choices import CarePlanStatus
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
def morning(db):
    AccessLogHead.objects.get_or_create(id=1, defaults={"last_hash": "0" * 64, "count": 0})
    municipality = MunicipalityFactory(name="Testkommune")
    clinic = GPClinicFactory(name="Lægehuset Test", municipality=municipality)
    nurse = MembershipFactory(organisation=municipality, role=MembershipRole.HOME_CARE_NURSE).user
    homecare = as_actor(nurse)
    gp = as_actor(MembershipFactory(organisation=clinic, role=MembershipRole.GP).user)
    citizen = CitizenFactory(municipality=municipality, gp_clinic=clinic, street="Algade 1", postal_code="5000")
    plan = careplan_create(
        actor=homecare, citizen=citizen, title="Hjemmepleje", coordinating_organisation=clinic,
        status=CarePlanStatus.ACTIVE,
    )  # fmt: skip
    activity_create(
        actor=homecare,
        plan=plan,
        description="Medicingivning",
        responsible_organisation=municipality,
        due_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    activity_create(  # the GP clinic asks the municipality: a request awaiting its answer
        actor=gp,
        plan=careplan_create(actor=gp, citizen=citizen, title="KOL", coordinating_organisation=clinic),
        description="Blodtryksmåling",
        responsible_organisation=municipality,
        due_date=timezone.localdate(),
    )
    return {"nurse": nurse, "citizen": citizen}


def test_the_home_care_nurse_opens_her_overdue_visits_from_the_dashboard(new_page, live_server, morning):
    page = new_page(viewport={"width": 1024, "height": 768}, language="en")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    sign_in(page, morning["nurse"].email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/")

    visits = page.get_by_role("region", name="Visits today")
    assert visits.get_by_test_id("visits-overdue-count").inner_text() == "1"
    requests = page.get_by_role("region", name="Hand-off requests")
    assert requests.get_by_test_id("handoffs-waiting-count").inner_text() == "1"
    assert requests.get_by_test_id("handoffs-row").inner_text() == f"{morning['citizen'].full_name}: Blodtryksmåling"
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "dashboard-home-care.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024  # no sideways scrolling

    # The count is a link with a clear name, to the list it counts.
    visits.get_by_role("link", name="Visits today: 1 overdue").click()
    page.wait_for_url("**/care/today/")
    assert page.get_by_test_id("visit-citizen").inner_text() == morning["citizen"].full_name

    page.go_back()
    page.get_by_role("region", name="Hand-off requests").get_by_role("link", name="Go to the hand-off requests").click()
    page.wait_for_url("**/care/handoffs/")
    assert page.get_by_test_id("handoff").count() == 1
    assert page.console_errors == []
