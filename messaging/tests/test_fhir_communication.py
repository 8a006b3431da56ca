"""The FHIR API's Communication: the MedCom messages the organisation sent or received."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citizens.models import AccessLogEntry
from citizens.tests.factories import CitizenFactory, HospitalStayFactory
from citizens.tests.fhir_client import FhirClient, ids, of_type
from messaging.choices import Category
from messaging.fhir import codes
from messaging.services import message_forward, message_send
from tests.cast import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def fhir(client, token):
    return lambda name="gp_a": FhirClient(client, token(name))


@pytest.fixture
def sent(world, django_capture_on_commit_callbacks):
    """Clinic A writes to municipality A about the citizen (delivered to the inbox)."""
    with django_capture_on_commit_callbacks(execute=True):
        return message_send(
            actor=actor_for(world.users["gp_a"]),
            citizen=world.citizen,
            receiver=world.municipality_a,
            category=Category.CARECOORDINATION,
            topic="Medicin",
            text="Ny dosering af inhalator.",
        )


def test_sender_and_receiver_read_the_message_and_the_outsider_gets_404(world, fhir, sent):
    for who in ("gp_a", "homecare_a"):
        resource = fhir(who).get(f"Communication/{sent.pk}")
        assert resource["sender"]["reference"] == f"Organization/{world.clinic_a.pk}"
        assert [r["reference"] for r in resource["recipient"]] == [f"Organization/{world.municipality_a.pk}"]
        assert resource["payload"] == [{"contentString": "Ny dosering af inhalator."}]
        assert resource["topic"] == {"text": "Medicin"}
        assert {"system": codes.CATEGORY_CODES, "code": "carecoordination", "display": "Care coordination"} in [
            c["coding"][0] for c in resource["category"]
        ]
    fhir("gp_b").get(f"Communication/{sent.pk}", status=404)
    assert fhir("gp_b").get("Communication")["total"] == 0
    # Municipality B has no part in it, nor does the hospital.
    assert fhir("homecare_b").get("Communication", {"patient": str(world.citizen.pk)})["total"] == 0
    assert AccessLogEntry.objects.filter(detail="FHIR Communication read").count() == 2


def test_search_by_patient_sender_recipient_category_and_sent(world, fhir, sent):
    me = [str(sent.pk)]
    assert ids(fhir().get("Communication", {"patient": f"Patient/{world.citizen.pk}"})) == me
    assert ids(fhir().get("Communication", {"sender": str(world.clinic_a.pk)})) == me
    assert ids(fhir().get("Communication", {"recipient": f"Organization/{world.municipality_a.pk}"})) == me
    assert ids(fhir().get("Communication", {"recipient": f"Organization/{world.municipality_b.pk}"})) == []
    assert ids(fhir().get("Communication", {"category": f"{codes.CATEGORY_CODES}|carecoordination"})) == me
    assert ids(fhir().get("Communication", {"category": f"{codes.EVENT_CODES}|care-communication-message"})) == me
    assert ids(fhir().get("Communication", {"category": "medicine"})) == []
    day = sent.sent_at.date().isoformat()
    assert ids(fhir().get("Communication", {"sent": f"ge{day}"})) == me
    assert ids(fhir().get("Communication", {"sent": f"lt{day}"})) == []
    bundle = fhir().get("Communication", {"_include": "Communication:patient"})
    assert ids(bundle, "include") == [str(world.citizen.pk)]


def test_a_forwards_receiver_sees_the_forward_but_not_the_original(
    world, fhir, sent, django_capture_on_commit_callbacks
):
    HospitalStayFactory(citizen=world.citizen, department=world.department)
    with django_capture_on_commit_callbacks(execute=True):
        forward = message_forward(actor=actor_for(world.users["homecare_a"]), message=sent, receiver=world.department)
    seen = ids(fhir("hospital_nurse").get("Communication", {"patient": str(world.citizen.pk)}))
    assert seen == [str(forward.pk)]
    fhir("hospital_nurse").get(f"Communication/{sent.pk}", status=404)
    assert fhir("homecare_a").get(f"Communication/{forward.pk}")["inResponseTo"] == [
        {"reference": f"Communication/{sent.pk}"}
    ]


def test_search_uses_a_fixed_number_of_queries(world, fhir, sent, django_capture_on_commit_callbacks):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            bundle = fhir().get("Communication", {"_count": 100})
        assert of_type(bundle, "Communication")
        return len(captured)

    queries()
    few = queries()
    for _ in range(4):
        citizen = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
        with django_capture_on_commit_callbacks(execute=True):
            message_send(
                actor=actor_for(world.users["gp_a"]),
                citizen=citizen,
                receiver=world.municipality_a,
                category=Category.NURSING,
                text="Hej",
            )
    assert queries() == few


def test_a_hospital_notification_names_the_event_and_the_stay(world, fhir, actor, django_capture_on_commit_callbacks):
    from messaging.tests.helpers import admit

    with django_capture_on_commit_callbacks(execute=True):
        event = admit(world, actor)
    found = fhir("homecare_a").get(
        "Communication", {"patient": str(world.citizen.pk), "category": "hospital-notification-message"}
    )
    (notification,) = of_type(found, "Communication")
    assert notification["sender"]["reference"] == f"Organization/{world.department.pk}"
    assert notification["payload"][0]["contentString"].startswith("STIN")
    assert notification["encounter"] == {"reference": f"Encounter/{event.stay_id}"}
    assert fhir("homecare_a").get(f"Encounter/{event.stay_id}")["status"] == "in-progress"
