"""Replacement numbers (E-CPR): the identifier model, registering a citizen from a message's
Patient, the display of a person without a CPR number or family name, search and the API."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from citizens.choices import AccessAction, AccessReason, Sex
from citizens.identity import citizen_identifier_add, citizen_register_from_message
from citizens.models import AccessLogEntry, Citizen, CitizenIdentifier
from citizens.tests.factories import CitizenFactory
from tests.cast import actor_for

pytestmark = pytest.mark.django_db

NATIONAL = "urn:oid:1.2.208.176.1.6.1.1"
REGIONAL = "urn:oid:1.2.208.176.1.6.1.3.7"
LOCAL = "urn:oid:1.2.208.176.1.6.1.3.7.12"
ECPR = "0703921VJ5"
CPR = "0101809123"


def register(world, gp, **fields):
    fields.setdefault("cpr", None)
    fields.setdefault("replacement_ids", [(NATIONAL, ECPR)])
    fields.setdefault("first_name", "Ukendt")
    fields.setdefault("last_name", "Patient")
    fields.setdefault("municipality", world.municipality_a)
    fields.setdefault("gp_clinic", world.clinic_a)
    return citizen_register_from_message(by=actor_for(gp), **fields)


# --- the model -----------------------------------------------------------------------------------


@pytest.mark.parametrize("system", [NATIONAL, REGIONAL, LOCAL])
def test_issuers_under_the_ecpr_root_are_accepted(world, system):
    CitizenIdentifier(citizen=world.citizen, system=system, value=ECPR).full_clean()


@pytest.mark.parametrize(
    "system",
    [
        "urn:oid:1.2.208.176.1.2",
        "urn:oid:1.2.208.176.1.6.1",
        "urn:oid:1.2.208.176.1.6.10",
        "urn:oid:1.2.208.176.1.6.1.x",
    ],
)
def test_other_systems_are_refused(world, system):
    with pytest.raises(ValidationError) as exc:
        CitizenIdentifier(citizen=world.citizen, system=system, value=ECPR).full_clean()
    assert "system" in exc.value.message_dict


@pytest.mark.parametrize("value", ["", "07039 21VJ5", "0703921VJ5/", "æ0703921", "A" * 65])
def test_bad_values_are_refused(world, value):
    with pytest.raises(ValidationError) as exc:
        CitizenIdentifier(citizen=world.citizen, system=NATIONAL, value=value).full_clean()
    assert "value" in exc.value.message_dict


def test_the_database_refuses_a_value_twice_per_system_but_keeps_case(world):
    CitizenIdentifier.objects.create(citizen=world.citizen, system=NATIONAL, value=ECPR)
    other = CitizenFactory()
    CitizenIdentifier.objects.create(citizen=other, system=NATIONAL, value=ECPR.lower())  # another number
    CitizenIdentifier.objects.create(citizen=other, system=REGIONAL, value=ECPR)  # another issuer
    with pytest.raises(IntegrityError), transaction.atomic():
        CitizenIdentifier.objects.create(citizen=other, system=NATIONAL, value=ECPR)


def test_the_database_refuses_a_bad_system_and_keeps_the_cpr_check(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        CitizenIdentifier.objects.create(citizen=world.citizen, system="urn:oid:1.2.208.176.1.2", value=ECPR)
    with pytest.raises(IntegrityError), transaction.atomic():
        Citizen.objects.filter(pk=world.citizen.pk).update(cpr="01018O9123")
    Citizen.objects.filter(pk=world.citizen.pk).update(cpr=None)  # no CPR number: allowed


# --- registering from a message ------------------------------------------------------------------


def test_a_new_citizen_by_cpr_takes_birth_date_and_sex_from_it(world, gp):
    citizen = register(world, gp, cpr=CPR, replacement_ids=[], birth_date=datetime.date(1970, 5, 5), sex=Sex.FEMALE)
    assert (citizen.cpr, citizen.birth_date, citizen.sex) == (CPR, datetime.date(1980, 1, 1), Sex.MALE)
    assert citizen.registered_from_message
    assert not citizen.identifiers.exists()
    entry = AccessLogEntry.objects.get(citizen=citizen)
    assert (entry.action, entry.reason) == (AccessAction.CREATE, AccessReason.RECEIVED_MESSAGE)


def test_a_new_citizen_by_replacement_number_only(world, gp):
    citizen = register(world, gp, birth_date=datetime.date(1992, 3, 7), sex=Sex.FEMALE)
    citizen.refresh_from_db()
    assert citizen.cpr is None
    assert (citizen.birth_date, citizen.sex, citizen.registered_from_message) == (
        datetime.date(1992, 3, 7),
        Sex.FEMALE,
        True,
    )
    assert list(citizen.identifiers.values_list("system", "value")) == [(NATIONAL, ECPR)]
    assert citizen.cpr_formatted == f"Replacement no. {ECPR}"


def test_without_birth_date_and_gender_they_are_unknown(world, gp):
    citizen = register(world, gp)
    assert (citizen.birth_date, citizen.sex, citizen.age) == (None, Sex.UNKNOWN, None)


def test_a_new_citizen_by_cpr_and_replacement_number(world, gp):
    citizen = register(world, gp, cpr=CPR)
    assert citizen.cpr == CPR
    assert list(citizen.identifiers.values_list("value", flat=True)) == [ECPR]
    assert citizen.cpr_formatted == "010180-9123"


def test_three_identifiers_are_all_kept(world, gp):
    ids = [(NATIONAL, ECPR), (REGIONAL, "0703921VJ5"), (LOCAL, "X-17")]
    citizen = register(world, gp, cpr=CPR, replacement_ids=ids)
    assert sorted(citizen.identifiers.values_list("system", "value")) == sorted(ids)
    for system, value in ids:  # each one alone finds the same citizen
        assert register(world, gp, replacement_ids=[(system, value)]) == citizen
    assert Citizen.objects.count() == 2  # the world's citizen and this one


def test_an_existing_citizen_is_found_and_never_changed(world, gp):
    known = world.citizen
    before = Citizen.objects.filter(pk=known.pk).values().get()
    found = register(
        world,
        gp,
        cpr=known.cpr,
        first_name="Andet",
        last_name="Navn",
        birth_date=datetime.date(2001, 1, 1),
        sex=Sex.OTHER,
        municipality=world.municipality_b,
        gp_clinic=world.clinic_b,
        family_name_unknown=True,
    )
    assert found == known
    after = Citizen.objects.filter(pk=known.pk).values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    assert not after["registered_from_message"]
    # A replacement number the citizen was not known by is added, so it finds them next time.
    assert list(known.identifiers.values_list("value", flat=True)) == [ECPR]
    assert register(world, gp, cpr=None) == known
    assert AccessLogEntry.objects.filter(citizen=known, detail="replacement number added from a message").count() == 1


def test_identifiers_naming_two_citizens_are_refused(world, gp):
    other = register(world, gp)
    with pytest.raises(ValidationError) as exc:
        register(world, gp, cpr=world.citizen.cpr, replacement_ids=[(NATIONAL, ECPR)])
    assert "identifier" in exc.value.message_dict
    assert not world.citizen.identifiers.exists() and other.identifiers.count() == 1
    assert Citizen.objects.count() == 2


@pytest.mark.parametrize(
    "fields,key",
    [
        ({"replacement_ids": []}, "identifier"),
        ({"replacement_ids": [("urn:oid:1.2.208.176.1.2", ECPR)]}, "identifier"),
        ({"cpr": "3213801234"}, "cpr"),
    ],
)
def test_unusable_identifiers_are_refused(world, gp, fields, key):
    with pytest.raises(ValidationError) as exc:
        register(world, gp, **fields)
    assert key in exc.value.message_dict
    assert Citizen.objects.count() == 1


def test_identifier_add_refuses_another_citizens_number(world, gp):
    register(world, gp)
    with pytest.raises(ValidationError):
        citizen_identifier_add(by=actor_for(gp), citizen=world.citizen, system=NATIONAL, value=ECPR)
    added = citizen_identifier_add(by=actor_for(gp), citizen=world.citizen, system=REGIONAL, value=ECPR)
    assert added.citizen == world.citizen


# --- an unknown family name -------------------------------------------------------------------------


def test_an_unknown_family_name_is_shown_as_such(world, gp, gp_client):
    citizen = register(world, gp, last_name="", family_name_unknown=True)
    assert citizen.last_name == ""
    assert citizen.full_name == "Ukendt (unknown family name)"
    page = gp_client.get(reverse("citizens:detail", args=[citizen.pk])).content.decode()
    assert "Ukendt (unknown family name)" in page
    assert f"Replacement no. {ECPR}" in page and NATIONAL in page
    assert 'data-testid="registered-from-message"' in page


def test_a_missing_family_name_without_the_mark_is_refused(world, gp):
    with pytest.raises(ValidationError) as exc:
        register(world, gp, last_name="")
    assert "last_name" in exc.value.message_dict


# --- search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page,param", [("citizens:search", "q"), ("citizens:list", "search")])
def test_a_replacement_number_opens_the_citizen(world, gp, gp_client, page, param):
    citizen = register(world, gp)
    response = gp_client.get(reverse(page), {param: ECPR})
    assert response.status_code == 302
    assert response["Location"] == reverse("citizens:detail", args=[citizen.pk])
    assert AccessLogEntry.objects.filter(citizen=citizen, action=AccessAction.SEARCH).exists()


def test_a_replacement_number_is_matched_exactly(world, gp, gp_client):
    register(world, gp)
    for query in (ECPR.lower(), ECPR[:-1]):
        response = gp_client.get(reverse("citizens:list"), {"search": query})
        assert response.status_code == 200
        assert 'data-testid="citizen-row"' not in response.content.decode()


@pytest.mark.parametrize("page,param", [("citizens:search", "q"), ("citizens:list", "search")])
def test_the_outsider_finds_nothing_by_replacement_number(world, gp, outsider, client, page, param):
    citizen = register(world, gp)
    client.force_login(outsider)
    response = client.get(reverse(page), {param: ECPR})
    assert response.status_code == 200
    assert "Ukendt" not in response.content.decode()
    assert not AccessLogEntry.objects.filter(citizen=citizen, user=outsider).exists()


def test_the_list_shows_the_replacement_number_in_place_of_the_cpr(world, gp, gp_client):
    register(world, gp, first_name="Eva", last_name="Erstatning")
    page = gp_client.get(reverse("citizens:list"), {"search": "Erstatning"}).content.decode()
    assert f"Replacement no. {ECPR}" in page


# --- the API --------------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_shows_the_replacement_numbers(world, gp):
    citizen = register(world, gp, family_name_unknown=True, last_name="", birth_date=datetime.date(1992, 3, 7))
    citizen_identifier_add(by=actor_for(gp), citizen=citizen, system=LOCAL, value="X-17")
    body = api(gp).get(f"/api/v1/citizens/{citizen.pk}/").json()
    assert body["identifiers"] == [{"system": NATIONAL, "value": ECPR}, {"system": LOCAL, "value": "X-17"}]
    assert (body["cpr"], body["cpr_formatted"], body["birth_date"], body["sex"]) == (
        None,
        f"Erstatningsnr. {ECPR}",  # the API speaks Danish unless asked otherwise
        "1992-03-07",
        "unknown",
    )
    assert (body["last_name"], body["family_name_unknown"], body["registered_from_message"]) == ("", True, True)
    with_cpr = api(gp).get(f"/api/v1/citizens/{world.citizen.pk}/").json()
    assert (with_cpr["identifiers"], with_cpr["registered_from_message"]) == ([], False)


def test_the_api_search_finds_a_replacement_number_inside_the_gate_only(world, gp, outsider):
    citizen = register(world, gp)
    found = api(gp).get("/api/v1/citizens/", {"search": ECPR}).json()
    assert [row["id"] for row in found["results"]] == [str(citizen.pk)]
    assert found["results"][0]["identifiers"] == [{"system": NATIONAL, "value": ECPR}]
    assert api(outsider).get("/api/v1/citizens/", {"search": ECPR}).json()["results"] == []
    assert api(outsider).get(f"/api/v1/citizens/{citizen.pk}/").status_code == 404


def test_giving_the_family_name_later_clears_the_mark(world, gp):
    from citizens.services import citizen_update

    citizen = register(world, gp, last_name="", family_name_unknown=True)
    citizen_update(actor=actor_for(gp), citizen=citizen, last_name="Hansen")
    citizen.refresh_from_db()
    assert (citizen.family_name_unknown, citizen.full_name) == (False, "Ukendt Hansen")


def test_the_api_document_and_the_serializer_agree_without_a_cpr(world, gp):
    from citizens.tests.test_documents import document, serialized

    citizen = register(world, gp, family_name_unknown=True, last_name="")
    citizen_identifier_add(by=actor_for(gp), citizen=citizen, system=LOCAL, value="X-17")
    assert document(citizen, "gp_clinic") == serialized(citizen, "gp_clinic")
    assert document(world.citizen, "gp_clinic") == serialized(world.citizen, "gp_clinic")
