"""Registration and edit report every problem at once, each next to its field."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from citizens.models import Citizen, Condition
from citizens.services import ConditionItem, ContactItem, citizen_create, citizen_update

from .test_views import _citizen_post, actor_for, make_citizen

pytestmark = pytest.mark.django_db

TWICE = "A condition is listed twice."
BEFORE_BIRTH = "The onset date cannot be before the birth date."
TWO_PRIMARY = "Only one contact person can be the primary contact."


def _bad_lists(copd, diabetes):
    conditions = [
        ConditionItem(condition=copd),
        ConditionItem(condition=copd),
        ConditionItem(condition=diabetes, onset_date=datetime.date(1950, 1, 1)),
    ]
    contacts = [ContactItem(name="A", phone="1", is_primary=True), ContactItem(name="B", phone="2", is_primary=True)]
    return conditions, contacts


def _register(gp, clinic, **fields) -> dict:
    """The errors of a registration by the clinic's GP."""
    defaults = {"first_name": "", "last_name": "Borger", "municipality": clinic.municipality, "gp_clinic": clinic}
    with pytest.raises(ValidationError) as caught:
        citizen_create(actor=actor_for(gp), **{**defaults, **fields})
    return caught.value.message_dict


def test_the_service_reports_every_problem_of_a_registration(gp, clinic):
    copd, diabetes = Condition.objects.get(icd10_code="J44"), Condition.objects.get(icd10_code="E11")
    conditions, contacts = _bad_lists(copd, diabetes)
    errors = _register(gp, clinic, cpr="0101559125", conditions=conditions, contact_persons=contacts)
    assert sorted(errors) == ["conditions", "contact_persons", "first_name"]
    assert errors["conditions"] == [TWICE, BEFORE_BIRTH]
    assert errors["contact_persons"] == [TWO_PRIMARY]
    assert not Citizen.objects.exists()


def test_an_invalid_cpr_is_reported_with_the_other_problems(gp, clinic):
    errors = _register(gp, clinic, cpr="12345", contact_persons=[ContactItem(name="A", phone="1", is_primary=True)] * 2)
    assert sorted(errors) == ["contact_persons", "cpr", "first_name"]


def test_the_registration_page_shows_every_problem_at_once(gp_client, clinic):
    copd, diabetes = Condition.objects.get(icd10_code="J44"), Condition.objects.get(icd10_code="E11")
    data = _citizen_post(
        clinic,
        **{
            "cpr": "0101559125",
            "conditions-TOTAL_FORMS": "3",
            "conditions-0-condition": copd.pk,
            "conditions-1-condition": copd.pk,
            "conditions-2-condition": diabetes.pk,
            "conditions-2-onset_date": "1950-01-01",
            "contacts-TOTAL_FORMS": "2",
            "contacts-0-name": "Pia Borger",
            "contacts-0-phone": "12345678",
            "contacts-0-is_primary": "on",
            "contacts-1-name": "Per Borger",
            "contacts-1-phone": "87654321",
            "contacts-1-is_primary": "on",
        },
    )
    response = gp_client.post(reverse("citizens:create"), data)
    content = response.content.decode()
    assert response.status_code == 400
    assert TWICE in content and BEFORE_BIRTH in content and TWO_PRIMARY in content
    assert not Citizen.objects.exists()


def test_an_edit_reports_every_problem_at_once(gp):
    citizen = make_citizen(gp, cpr="0101559126")
    copd, diabetes = Condition.objects.get(icd10_code="J44"), Condition.objects.get(icd10_code="E11")
    conditions, contacts = _bad_lists(copd, diabetes)
    with pytest.raises(ValidationError) as caught:
        citizen_update(
            actor=actor_for(gp), citizen=citizen, last_name="", conditions=conditions, contact_persons=contacts
        )
    assert sorted(caught.value.message_dict) == ["conditions", "contact_persons", "last_name"]
    citizen.refresh_from_db()
    assert citizen.last_name != "" and not citizen.conditions.exists()


def test_the_lists_problems_show_with_a_missing_name(gp_client, clinic):
    """The service's checks of the lists run although another field of the form is wrong."""
    diabetes = Condition.objects.get(icd10_code="E11")
    data = _citizen_post(
        clinic,
        **{"cpr": "0101559125", "first_name": "", "conditions-0-condition": diabetes.pk},
        **{"conditions-0-onset_date": "1950-01-01"},
    )
    response = gp_client.post(reverse("citizens:create"), data)
    content = response.content.decode()
    assert response.status_code == 400
    assert BEFORE_BIRTH in content
    assert "This field is required." in content
    assert not Citizen.objects.exists()
