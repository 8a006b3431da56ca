import pytest

from citizens.demo import citizen_demo_load
from citizens.models import Citizen
from sectors.demo import demo_data_load
from sectors.models import Membership

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_odense_gp_finds_a_citizen_by_cpr_and_the_svendborg_nurse_cannot(new_page):
    demo_data_load()
    citizen_demo_load()
    clinic = Membership.objects.get(user__email="gp@smartcare.example").organisation
    citizen = Citizen.objects.filter(gp_clinic=clinic, municipality__municipality_code="0461").order_by("cpr").first()

    gp = new_page()
    sign_in(gp, "gp@smartcare.example")
    gp.wait_for_url("**/")
    gp.goto("/citizens/search/")
    gp.fill("input[name=q]", citizen.cpr_formatted)
    gp.keyboard.press("Enter")
    # A whole CPR number with one hit opens the overview at once.
    gp.wait_for_url(f"**/citizens/{citizen.pk}/")
    assert citizen.cpr_formatted in gp.content()
    assert clinic.name in gp.content()
    assert citizen.municipality.name in gp.content()
    assert gp.console_errors == []

    nurse = new_page(viewport={"width": 768, "height": 1024})
    sign_in(nurse, "homecare.svendborg@smartcare.example")
    nurse.wait_for_url("**/")
    nurse.goto("/citizens/search/")
    nurse.fill("input[name=q]", citizen.cpr)
    nurse.keyboard.press("Enter")
    nurse.wait_for_url("**/citizens/search/?q=*")
    nurse.wait_for_load_state()
    assert citizen.full_name not in nurse.content()
    assert citizen.cpr_formatted not in nurse.content()
    response = nurse.goto(f"/citizens/{citizen.pk}/")
    assert response.status == 404


def test_gp_finds_a_citizen_by_name_in_any_order_and_opens_one_by_cpr_from_the_list(new_page):
    demo_data_load()
    citizen_demo_load()
    clinic = Membership.objects.get(user__email="gp@smartcare.example").organisation
    citizen = Citizen.objects.filter(gp_clinic=clinic).order_by("cpr").first()

    gp = new_page()
    sign_in(gp, "gp@smartcare.example")
    gp.wait_for_url("**/")
    gp.goto("/citizens/search/")
    gp.fill("input[name=q]", f"{citizen.last_name} {citizen.first_name}")
    gp.keyboard.press("Enter")
    gp.wait_for_url("**/citizens/search/?q=*")
    gp.get_by_role("link", name=citizen.full_name).first.click()
    gp.wait_for_url(f"**/citizens/{citizen.pk}/")

    # The list's search runs as you type (htmx): a whole CPR number opens the citizen.
    gp.goto("/citizens/")
    gp.fill("input[name=search]", citizen.cpr)
    gp.wait_for_url(f"**/citizens/{citizen.pk}/")
    assert citizen.cpr_formatted in gp.content()
    assert gp.console_errors == []
