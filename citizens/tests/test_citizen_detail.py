"""A citizen read with prepared statements (``citizens/citizen_detail.py``) is what the ORM's
``select_related`` and ``prefetch_related`` read for the overview, attached the same way."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citizens.choices import ObjectionTarget
from citizens.citizen_detail import citizen_read
from citizens.models import (
    Citizen,
    CitizenCondition,
    CitizenIdentifier,
    Condition,
    ContactPerson,
    HospitalStay,
    Objection,
)
from citizens.tests.factories import HospitalStayFactory

pytestmark = pytest.mark.django_db


def orm_read(pk) -> Citizen:
    return (
        Citizen.objects.select_related("municipality", "gp_clinic")
        .prefetch_related(
            Prefetch("conditions", queryset=CitizenCondition.objects.select_related("condition")),
            Prefetch(
                "stays",
                queryset=HospitalStay.objects.filter(discharged_at__isnull=True).select_related("department__parent"),
                to_attr="current_stays",
            ),
            "contact_persons",
            "identifiers",
            "objections__organisation",
        )
        .get(pk=pk)
    )


@pytest.fixture
def full_citizen(world, gp):
    citizen = world.citizen
    for code in ("J44", "E11", "I10"):
        CitizenCondition.objects.create(citizen=citizen, condition=Condition.objects.get(icd10_code=code))
    ContactPerson.objects.create(citizen=citizen, name="Åse", phone="1", is_primary=False)
    ContactPerson.objects.create(citizen=citizen, name="Bo", phone="2", is_primary=True)
    CitizenIdentifier.objects.create(citizen=citizen, system="urn:oid:1.2.208.176.1.6.1.1", value="0703921VJ5")
    HospitalStayFactory(
        citizen=citizen,
        admitted_at=timezone.now() - datetime.timedelta(days=20),
        discharged_at=timezone.now() - datetime.timedelta(days=19),
    )
    HospitalStayFactory(citizen=citizen)
    Objection.objects.create(citizen=citizen, target=ObjectionTarget.ORGANISATION, organisation=world.clinic_b,
                             recorded_by=gp)  # fmt: skip
    Objection.objects.create(citizen=citizen, target=ObjectionTarget.SECTOR, sector="hospital", recorded_by=gp,
                             recorded_at=timezone.now() - datetime.timedelta(days=1))  # fmt: skip
    return citizen


def test_the_citizen_and_its_lists_are_what_the_orm_reads(full_citizen):
    expected = orm_read(full_citizen.pk)
    with CaptureQueriesContext(connection) as ctx:
        citizen = citizen_read(str(full_citizen.pk), with_identifiers=True)
    assert len(ctx.captured_queries) == 6  # the citizen and its five lists (replacement numbers included)

    with CaptureQueriesContext(connection) as ctx:
        assert citizen == expected
        assert (citizen.municipality, citizen.gp_clinic) == (expected.municipality, expected.gp_clinic)
        assert [(c.condition.icd10_code, c.citizen) for c in citizen.conditions.all()] == [
            (c.condition.icd10_code, c.citizen) for c in expected.conditions.all()
        ]
        assert [c.condition.icd10_code for c in citizen.conditions.all()] == ["E11", "I10", "J44"]
        assert citizen.current_stays == expected.current_stays and len(citizen.current_stays) == 1
        assert citizen.current_stay.department.parent == expected.current_stay.department.parent
        assert list(citizen.contact_persons.all()) == list(expected.contact_persons.all())
        assert list(citizen.identifiers.all()) == list(expected.identifiers.all()) and citizen.identifiers.all()
        assert [o.organisation for o in citizen.objections.all()] == [o.organisation for o in expected.objections.all()]
    assert ctx.captured_queries == []  # everything was attached


def test_without_objections_four_statements_and_unknown_ids_are_none(full_citizen):
    with CaptureQueriesContext(connection) as ctx:
        assert citizen_read(full_citizen.pk, with_objections=False) == full_citizen
    assert len(ctx.captured_queries) == 4
    assert citizen_read(uuid.uuid4()) is None
    assert citizen_read("not-a-uuid") is None
