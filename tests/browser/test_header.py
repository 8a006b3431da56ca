"""The header on a 1366×768 laptop stays one row, in Danish (the longer labels), for a person with
every menu item (an organisation administrator who is also a nurse), several memberships and a
long organisation name and own name."""

import os

import pytest

from sectors.choices import MembershipRole
from sectors.tests.factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    MembershipFactory,
    MunicipalityFactory,
    UserFactory,
)

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"  # noqa: S105 - the factories' test password
SCREENSHOTS = os.environ.get("SMARTCARE_SCREENSHOTS")  # a folder, to look at the layout
LONG = "Odense Universitetshospital, Medicinsk Afdeling M, Endokrinologisk Sengeafsnit"


@pytest.mark.parametrize("kind", ["hospital", "municipality"])
def test_header_is_one_row_at_1366(new_page, kind):
    organisation = (
        HospitalDepartmentFactory(name=LONG) if kind == "hospital" else MunicipalityFactory(name=f"{LONG} Kommune")
    )
    user = UserFactory(first_name="Anne-Marie Christiansen", last_name="Østergaard-Frederiksen")
    role = MembershipRole.HOSPITAL_NURSE if kind == "hospital" else MembershipRole.HOME_CARE_NURSE
    MembershipFactory(user=user, organisation=organisation, role=role)
    MembershipFactory(user=user, organisation=organisation, role=MembershipRole.ORGANISATION_ADMIN)
    clinic = GPClinicFactory(name="Lægerne Vestergade og Omegn")
    MembershipFactory(user=user, organisation=clinic, role=MembershipRole.GP)
    page = new_page(viewport={"width": 1366, "height": 768})
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/")
    if page.get_by_test_id("acting-organisation").inner_text().startswith("Lægerne"):
        page.get_by_test_id("acting-switcher").locator("button").first.click()
        page.get_by_role("button", name=organisation.name).click()
        page.wait_for_load_state()
    assert page.get_by_test_id("nav-oversight").is_visible()  # every item is there
    assert page.get_by_test_id(f"nav-{'hospital-events' if kind == 'hospital' else 'today'}").is_visible()

    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"header-1366-{kind}.png"))
    navbar = page.get_by_role("navigation", name="Hovednavigation")
    brand = page.locator(".navbar-brand").bounding_box()
    height = navbar.bounding_box()["height"]
    assert height < 2 * brand["height"], height
    tops = {round(box["y"]) for box in (e.bounding_box() for e in navbar.locator(".nav-link").all()) if box}
    assert max(tops) - min(tops) < brand["height"] / 2, tops
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
