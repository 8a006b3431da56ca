"""A home-care nurse's working day starts on the dashboard: the work overview's cards show what
waits (an overdue visit, a request from the GP), and each count opens its list."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from careplans.choices import CarePlanStatus
from careplans.services import activity_create, careplan_create
from citizens.tests.factories import CitizenFactory
from sectors.choices import MembershipRole
from sectors.tests.factories import GPClinicFactory, MembershipFactory, MunicipalityFactory
from tests.cast import actor_for

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def morning(db):
    """A citizen of the municipality with a visit overdue since yesterday, and the GP clinic's
    request that the municipality measure the blood pressure (awaiting its answer)."""
    clinic = GPClinicFactory(name="Lægehuset Test", municipality=MunicipalityFactory(name="Testkommune"))
    home_care = actor_for(MembershipFactory(organisation=clinic.municipality, role=MembershipRole.HOME_CARE_NURSE).user)
    gp = actor_for(MembershipFactory(organisation=clinic, role=MembershipRole.GP).user)
    citizen = CitizenFactory(municipality=clinic.municipality, gp_clinic=clinic)
    today = timezone.localdate()
    for actor, title, description, due in (
        (home_care, "Hjemmepleje", "Medicingivning", today - datetime.timedelta(days=1)),
        (gp, "KOL", "Blodtryksmåling", today),
    ):
        plan = careplan_create(
            actor=actor, citizen=citizen, title=title, coordinating_organisation=clinic, status=CarePlanStatus.ACTIVE
        )
        activity_create(
            actor=actor, plan=plan, description=description, responsible_organisation=clinic.municipality, due_date=due
        )
    return {"nurse": home_care.user, "citizen": citizen}


def test_the_home_care_nurse_opens_her_overdue_visits_from_the_dashboard(new_page, live_server, morning):
    page = new_page(viewport={"width": 1024, "height": 768}, language="en")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    sign_in(page, morning["nurse"].email, "correct horse battery staple")  # the factories' password
    page.wait_for_url(f"{live_server.url}/")

    visits = page.get_by_role("region", name="Visits today")
    assert visits.get_by_test_id("visits-overdue-count").inner_text() == "1"
    requests = page.get_by_role("region", name="Hand-off requests")
    assert requests.get_by_test_id("handoffs-waiting-count").inner_text() == "1"
    assert requests.get_by_test_id("handoffs-row").inner_text() == f"{morning['citizen'].full_name}: Blodtryksmåling"
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
