import pytest

from citizens.demo import citizen_demo_load
from citizens.models import Citizen
from sectors.demo import demo_data_load
from sectors.models import Membership

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _snapshot(citizen: Citizen) -> dict:
    citizen.refresh_from_db()
    fields = ("first_name", "last_name", "street", "postal_code", "city", "phone")
    return {
        **{name: getattr(citizen, name) for name in fields},
        "municipality": citizen.municipality_id,
        "gp_clinic": citizen.gp_clinic_id,
        "receives_home_care": citizen.receives_home_care,
        "conditions": sorted(citizen.conditions.values_list("condition__icd10_code", "onset_date")),
        "contacts": sorted(citizen.contact_persons.values_list("name", "relation", "phone", "is_primary")),
    }


def test_gp_saves_the_edit_form_unchanged_and_nothing_is_lost(new_page):
    """In Danish the dates used to be rendered as 15.03.2020, which a date input cannot show: saving
    an untouched form erased every onset date."""
    demo_data_load()
    citizen_demo_load()
    clinic = Membership.objects.get(user__email="gp@smartcare.example").organisation
    citizen = (
        Citizen.objects.filter(gp_clinic=clinic, conditions__onset_date__isnull=False, contact_persons__isnull=False)
        .order_by("cpr")
        .first()
    )
    before = _snapshot(citizen)
    assert before["conditions"] and all(onset for _, onset in before["conditions"])
    assert before["contacts"]

    page = new_page(language="da")
    sign_in(page, "gp@smartcare.example")
    page.wait_for_url("**/")
    page.goto(f"/citizens/{citizen.pk}/edit/")
    page.get_by_role("button", name="Gem ændringer").click()
    page.wait_for_url(f"**/citizens/{citizen.pk}/")

    assert _snapshot(citizen) == before
    assert page.console_errors == []
