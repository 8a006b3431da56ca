"""Home care on a tablet: a citizen in hospital is not visited. The visit is set apart as paused
(greyed, not overdue) and opens on a tap; after the discharge it is back on the list, saying when
the citizen came home."""

import datetime

import pytest
from django.conf import settings
from django.utils import formats, timezone, translation

from careplans.tests.helpers import home_visit
from citizens.access import Actor
from citizens.models import AccessLogHead
from citizens.services import hospital_stay_end, hospital_stay_start
from citizens.tests.factories import CitizenFactory
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import GPClinicFactory, HospitalDepartmentFactory, MembershipFactory, MunicipalityFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"  # noqa: S105 - the factories' test password


@pytest.fixture
def rounds(db):
    AccessLogHead.objects.get_or_create(id=1, defaults={"last_hash": "0" * 64, "count": 0})
    municipality = MunicipalityFactory(name="Testkommune")
    clinic = GPClinicFactory(name="Lægehuset Test", municipality=municipality)
    department = HospitalDepartmentFactory(name="Kardiologisk afdeling")
    nurse = MembershipFactory(organisation=municipality, role=MembershipRole.HOME_CARE_NURSE).user
    homecare = Actor(user=nurse, acting=resolve(nurse, None))
    today = timezone.localdate()
    citizens = []
    for street in ("Algade 1", "Vestergade 5"):
        citizen = CitizenFactory(
            municipality=municipality, gp_clinic=clinic, street=street, postal_code="5000", city="Odense C"
        )
        home_visit(homecare, citizen, municipality, today - datetime.timedelta(days=2))
        citizens.append(citizen)
    admitted_at = timezone.now() - datetime.timedelta(days=3)
    hospital_stay_start(citizen=citizens[0], department=department, admitted_at=admitted_at)
    return {"nurse": nurse, "admitted": citizens[0], "home": citizens[1], "admitted_at": admitted_at}


def short(moment: datetime.datetime) -> str:
    with translation.override("en"):
        return formats.date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def test_the_visit_of_an_admitted_citizen_is_paused_until_the_discharge(new_page, live_server, rounds):
    page = new_page(viewport={"width": 768, "height": 1024}, language="en")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    sign_in(page, rounds["nurse"].email, PASSWORD)
    page.wait_for_url("**/")
    page.goto("/care/today/")

    # Only the citizen at home is on the round, overdue; the admitted one is folded away.
    visits = page.get_by_test_id("visits").get_by_test_id("visit")
    assert visits.count() == 1 and "Vestergade 5" in visits.first.inner_text()
    assert "overdue: 1" in page.get_by_test_id("today-count").inner_text()
    paused = page.locator(f"#visit-{rounds['admitted'].pk}")
    assert not paused.is_visible()
    page.get_by_test_id("paused-toggle").click()
    paused.wait_for()
    stay = paused.get_by_test_id("visit-admitted")
    assert f"Admitted since {short(rounds['admitted_at'])}, Kardiologisk afdeling" in stay.inner_text()
    assert paused.get_by_test_id("overdue").count() == 0 and paused.get_by_test_id("mark-done").count() == 0
    assert "visit-paused" in paused.get_attribute("class")
    described = page.locator(f"#{paused.get_attribute('aria-describedby')}").text_content()
    assert "The visit is paused while the citizen is in hospital and is not overdue." in described

    # The hospital reports the discharge: the visit is back on the round and says so.
    discharged_at = timezone.now() - datetime.timedelta(hours=2)
    hospital_stay_end(citizen=rounds["admitted"], discharged_at=discharged_at)
    page.reload()
    assert page.get_by_test_id("paused-visits").count() == 0
    card = page.get_by_test_id("visits").locator(f"#visit-{rounds['admitted'].pk}")
    assert f"Discharged {short(discharged_at)}" in card.get_by_test_id("visit-discharged").inner_text()
    assert card.get_by_test_id("mark-done").is_visible()
    assert page.get_by_test_id("visits").get_by_test_id("visit").count() == 2
    assert page.console_errors == []
