"""The API's citizen read in one statement (``citizens/documents.py``) is exactly what
``CitizenSerializer`` answers, for citizens with and without every part, in both languages: the
serializer documents the shape (the OpenAPI schema) and answers writes, the statement answers
the detail read and the exact-CPR search."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from citizens.api.serializers import CitizenSerializer
from citizens.documents import citizen_documents
from citizens.models import AccessLogEntry, Citizen, CitizenCondition, Condition, ContactPerson
from citizens.tests.factories import CitizenFactory, HospitalStayFactory
from sectors.tests.factories import HospitalDepartmentFactory, HospitalUnitFactory

pytestmark = pytest.mark.django_db


def serialized(citizen: Citizen, reason: str) -> dict:
    citizen = Citizen.objects.get(pk=citizen.pk)  # nothing prefetched: the serializer reads what it needs
    citizen.access_via = reason
    return json.loads(json.dumps(CitizenSerializer(citizen).data))


def document(citizen: Citizen, reason: str) -> dict:
    return json.loads(json.dumps(citizen_documents([citizen.pk], {citizen.pk: reason})[citizen.pk]))


@pytest.fixture
def full_citizen(clinic):
    """A citizen with every part: two conditions (one with an onset date), three contact persons
    (the primary one sorts first), consent recorded, and a stay at a department of a hospital unit
    besides a discharged one."""
    citizen = CitizenFactory(
        gp_clinic=clinic,
        street="Vestergade 4",
        postal_code="5000",
        city="Odense C",
        phone="66 11 22 33",
        receives_home_care=True,
        consent_to_share=False,
        consent_recorded_at=timezone.now() - datetime.timedelta(days=3, microseconds=123),
    )
    CitizenCondition.objects.create(
        citizen=citizen, condition=Condition.objects.get(icd10_code="J44"), onset_date=datetime.date(2015, 6, 1)
    )
    CitizenCondition.objects.create(citizen=citizen, condition=Condition.objects.get(icd10_code="E11"))
    ContactPerson.objects.create(citizen=citizen, name="Åse Holm", relation="datter", phone="20304050")
    ContactPerson.objects.create(citizen=citizen, name="Ole Holm", relation="søn", phone="30405060", is_primary=True)
    ContactPerson.objects.create(citizen=citizen, name="Bo Holm", relation="", phone="40506070")
    department = HospitalDepartmentFactory(parent=HospitalUnitFactory(name="Odense Universitetshospital"))
    now = timezone.now()
    HospitalStayFactory(
        citizen=citizen,
        department=HospitalDepartmentFactory(),
        admitted_at=now - datetime.timedelta(days=9),
        discharged_at=now - datetime.timedelta(days=8),
    )
    HospitalStayFactory(citizen=citizen, department=department, admitted_at=now - datetime.timedelta(hours=5))
    return citizen


@pytest.mark.parametrize("language", ["da", "en"])
def test_a_citizen_with_every_part_is_what_the_serializer_answers(full_citizen, language):
    with translation.override(language):
        expected, found = serialized(full_citizen, "gp_clinic"), document(full_citizen, "gp_clinic")
    assert list(found) == list(expected)  # the same fields in the same order
    assert found == expected
    assert [c["icd10_code"] for c in found["conditions"]] == ["E11", "J44"]
    assert [c["name"] for c in found["contact_persons"]] == ["Ole Holm", "Bo Holm", "Åse Holm"]
    assert found["current_stay"]["unit"] == "Odense Universitetshospital"
    assert found["conditions"][0]["name"] == ("Type 2 diabetes" if language == "en" else "Type 2-diabetes")


def test_a_citizen_with_nothing_optional_is_what_the_serializer_answers(clinic):
    """No GP clinic, no conditions, contacts or stays, consent never asked, blank address."""
    citizen = CitizenFactory(municipality=clinic.municipality, gp_clinic=None)
    expected, found = serialized(citizen, "municipality"), document(citizen, "municipality")
    assert found == expected
    assert (found["gp_clinic"], found["current_stay"], found["consent"]["consent_to_share"]) == (None, None, None)
    assert found["conditions"] == found["contact_persons"] == []


def test_a_stay_on_leave_and_consent_given(clinic):
    citizen = CitizenFactory(gp_clinic=clinic, consent_to_share=True, consent_recorded_at=timezone.now())
    HospitalStayFactory(citizen=citizen, on_leave=True)
    assert document(citizen, "hospital_stay") == serialized(citizen, "hospital_stay")


def test_several_citizens_in_one_statement_and_unknown_ids_left_out(clinic):
    first, second = CitizenFactory(gp_clinic=clinic), CitizenFactory(gp_clinic=clinic)
    reasons = {first.pk: "gp_clinic", second.pk: "care_team"}
    with CaptureQueriesContext(connection) as ctx:
        found = citizen_documents([str(first.pk), second.pk, uuid.uuid4()], reasons)
    assert len(ctx.captured_queries) == 1
    assert set(found) == {first.pk, second.pk}
    assert found[second.pk]["access_via"] == "care_team"
    assert citizen_documents([], {}) == {}


def test_the_api_list_answers_the_documents_in_the_lists_order_and_logs_each(gp, clinic):
    for last_name in ("Østergaard", "Andersen", "Madsen"):
        CitizenFactory(gp_clinic=clinic, last_name=last_name)
    client = APIClient()
    client.force_authenticate(gp)
    before = AccessLogEntry.objects.count()
    body = client.get("/api/v1/citizens/").json()
    assert [row["last_name"] for row in body["results"]] == ["Andersen", "Madsen", "Østergaard"]
    for row in body["results"]:
        assert row == serialized(Citizen.objects.get(pk=row["id"]), "gp_clinic")
    assert AccessLogEntry.objects.count() == before + 3
