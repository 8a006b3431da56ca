import pytest

from sectors.demo import demo_data_load

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_gp_signs_in_sees_clinic_switches_language_and_signs_out(new_page):
    demo_data_load()
    from sectors.models import Membership

    clinic = Membership.objects.get(user__email="gp@smartcare.example").organisation
    page = new_page()

    sign_in(page, "gp@smartcare.example")

    page.wait_for_url("**/")
    assert page.locator("[data-testid=dashboard-organisation]").inner_text() == clinic.name
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.get_by_role("link", name="Organisationer").is_visible()

    page.click("[data-testid=language-menu]")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Organisations").is_visible()
    assert page.locator("[data-testid=dashboard-organisation]").inner_text() == clinic.name

    page.click("[data-testid=user-menu]")
    page.click("[data-testid=sign-out]")
    page.wait_for_url("**/accounts/login/")
    page.goto("/")
    assert "/accounts/login/" in page.url
    assert page.console_errors == []
