"""The exported Patient of a person without a CPR number: the replacement numbers with their
issuers' systems, and an unknown family name as a data-absent-reason (MedCom requires the family
name, so it is sent as absent rather than left out)."""

from __future__ import annotations

import pytest

from citizens.identity import citizen_register_from_message
from messaging.fhir import codes, resources
from tests.cast import actor_for

pytestmark = pytest.mark.django_db

NATIONAL = "urn:oid:1.2.208.176.1.6.1.1"
LOCAL = "urn:oid:1.2.208.176.1.6.1.3.7"


def test_a_person_without_cpr_is_sent_with_the_replacement_numbers(world, gp):
    citizen = citizen_register_from_message(
        by=actor_for(gp), cpr=None, replacement_ids=[(NATIONAL, "0703921VJ5"), (LOCAL, "X-17")],
        first_name="Ukendt", last_name="", family_name_unknown=True, municipality=world.municipality_a,
    )  # fmt: skip
    patient = resources.patient(citizen)
    assert patient["identifier"] == [{"system": NATIONAL, "value": "0703921VJ5"}, {"system": LOCAL, "value": "X-17"}]
    assert patient["name"] == [
        {
            "use": "official",
            "given": ["Ukendt"],
            "_family": {"extension": [{"url": codes.DATA_ABSENT_REASON, "valueCode": "unknown"}]},
        }
    ]


def test_a_person_with_cpr_is_sent_with_the_cpr_only(world):
    patient = resources.patient(world.citizen)
    assert patient["identifier"] == [{"system": codes.CPR, "value": world.citizen.cpr}]
    assert patient["name"][0]["family"] == world.citizen.last_name
