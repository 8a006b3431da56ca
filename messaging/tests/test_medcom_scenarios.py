"""MedCom's receive scenarios (DOMAIN.md, "MedCom certifies receivers"), each in JSON and XML,
delivered through a gateway from senders anywhere in Denmark: a geriatric department at Aarhus
University Hospital, cardiology at Herlev, a health-visitor unit in Aarhus. The bundles are the
project's own (``fixtures_fhir``). Each must be acknowledged as MedCom's test protocol expects and
shown exactly once.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

import pytest
from django.utils import timezone, translation

from citizens.choices import ReviewKind
from citizens.models import AccessReviewItem, Citizen, CitizenIdentifier
from messaging.choices import Activity, HospitalCode, MessageType
from messaging.fhir import codes
from messaging.models import Message, Recipient, Thread
from sectors.choices import OrganisationKind, OrganisationSource
from sectors.identifiers import synthetic_gln
from sectors.models import Gateway, Organisation
from sectors.services import gateway_create
from sectors.tests.factories import MunicipalUnitFactory

from . import fixtures_fhir as fx
from .fhir_post import FHIR_JSON, FHIR_XML, NEW_CPR, URL, ack_of

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]
ECPR_SYSTEM = "urn:oid:1.2.208.176.1.6.1.1"
REGIONAL_SYSTEM = "urn:oid:1.2.208.176.1.6.1.3.7"
CATEGORIES = [
    "alcohol-and-drug-treatment",
    "assistive-devices",
    "carecoordination",
    "decease",
    "discharge",
    "examination-results",
    "healthcare",
    "home-care-assessment",
    "medicine",
    "nursing",
    "outpatient",
    "psychiatry-social-disability",
    "regarding-referral",
    "telemedicine",
    "training",
    "acute-ambulant",
    "extended-care-responsibility",
    "other",
]


def elsewhere(number: int, name: str, kind: str = OrganisationKind.OTHER) -> Organisation:
    """A unit elsewhere in Denmark that the portal does not know (not saved)."""
    return Organisation(sor_code=f"9000000{number:05d}", gln=synthetic_gln(0, 90_000 + number), name=name, kind=kind)


AUH_GERIATRICS = elsewhere(1, "Aarhus Universitetshospital, Geriatrisk afdeling")
HERLEV_CARDIOLOGY = elsewhere(2, "Herlev og Gentofte Hospital, Kardiologisk afdeling")
AARHUS_HEALTH_VISITORS = elsewhere(3, "Aarhus Kommune, Sundhedsplejen")


@pytest.fixture
def unit(world):
    """The receiving unit: a home-care district of the citizen's municipality."""
    return MunicipalUnitFactory(parent=world.municipality_a, name="Hjemmeplejen Distrikt Syd", phone="66 11 22 33")


@pytest.fixture
def gateway_post(client, django_capture_on_commit_callbacks):
    _gateway, key = gateway_create(by=None, name="MedCom EHMI")

    def _post(bundle: dict[str, Any], fmt: str) -> dict[str, Any]:
        body = fx.as_xml(bundle) if fmt == "xml" else json.dumps(bundle).encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                URL,
                data=body,
                content_type=FHIR_XML if fmt == "xml" else FHIR_JSON,
                HTTP_AUTHORIZATION=f"Token {key}",
            )
        assert response.status_code == 200, response.content[:500]
        return ack_of(response)

    return _post


def care(world, receiver, *, sender=AUH_GERIATRICS, cpr=None, **kwargs) -> dict[str, Any]:
    return fx.care_communication(sender=sender, receiver=receiver, cpr=cpr or world.citizen.cpr, **kwargs)


def resource(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return fx.resource_of(bundle, resource_type)


def shown(header_id: str) -> int:
    """How many inbox rows the message has (one per receiver: shown once)."""
    return Recipient.objects.filter(message__header_id=header_id, received_at__isnull=False).count()


def header(bundle: dict[str, Any]) -> str:
    return fx.header_of(bundle)["id"]


# --- message types ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_new_message_from_a_sender_the_portal_does_not_know(world, unit, gateway_post, fmt):
    bundle = care(world, unit, text="Borgeren er udskrevet fra geriatrisk afdeling.")
    ack = gateway_post(bundle, fmt)
    assert (ack["code"], ack["acknowledged"]) == ("ok", header(bundle))
    assert shown(header(bundle)) == 1
    sender = Organisation.objects.get(sor_code=AUH_GERIATRICS.sor_code)
    assert (sender.is_external, sender.source, sender.gln) == (True, OrganisationSource.MESSAGE, AUH_GERIATRICS.gln)
    assert sender.memberships.count() == 0
    message = Message.objects.get(header_id=header(bundle))
    assert (message.sender, message.citizen) == (sender, world.citizen)
    # the same sender again is the same directory entry
    assert gateway_post(care(world, unit), fmt)["code"] == "ok"
    assert Organisation.objects.filter(sor_code=AUH_GERIATRICS.sor_code).count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_reply_to_an_earlier_message_that_is_here_and_one_that_is_not(world, unit, gateway_post, fmt):
    first = care(world, unit)
    assert gateway_post(first, fmt)["code"] == "ok"
    reply = care(world, unit, activity=Activity.REPLY, earlier=header(first), text="Svar på det forrige.")
    assert gateway_post(reply, fmt)["code"] == "ok"
    original, answer = Message.objects.get(header_id=header(first)), Message.objects.get(header_id=header(reply))
    assert (answer.parent, answer.thread_id) == (original, original.thread_id)
    lost = care(world, unit, activity=Activity.REPLY, earlier="never-seen.0001", text="Svar på noget, vi ikke har.")
    assert gateway_post(lost, fmt)["code"] == "ok"
    alone = Message.objects.get(header_id=header(lost))
    assert alone.parent is None and alone.thread_id != original.thread_id and shown(header(lost)) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_forward_keeps_the_originals_author_and_text(world, unit, gateway_post, fmt):
    first = care(world, unit, text="Oprindelig besked fra geriatrien.")
    assert gateway_post(first, fmt)["code"] == "ok"
    forward = care(
        world,
        unit,
        sender=HERLEV_CARDIOLOGY,
        activity=Activity.FORWARD,
        earlier=header(first),
        text="Videresendt: Oprindelig besked fra geriatrien.",
    )
    assert gateway_post(forward, fmt)["code"] == "ok"
    message = Message.objects.get(header_id=header(forward))
    assert message.activity == Activity.FORWARD and "Oprindelig besked fra geriatrien." in message.text
    assert message.author_name == "Mette Hansen" and message.author_phone == "12345678"
    assert shown(header(forward)) == 1


# --- ordering --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_new_messages_about_the_same_person_in_parallel(world, unit, gateway_post, fmt):
    first, second = care(world, unit, cpr=NEW_CPR), care(world, unit, sender=HERLEV_CARDIOLOGY, cpr=NEW_CPR)
    assert [gateway_post(b, fmt)["code"] for b in (second, first)] == ["ok", "ok"]
    assert Citizen.objects.filter(cpr=NEW_CPR).count() == 1  # registered once
    threads = set(
        Message.objects.filter(header_id__in=[header(first), header(second)]).values_list("thread", flat=True)
    )
    assert len(threads) == 2 and shown(header(first)) == shown(header(second)) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_reply_that_arrives_before_the_message_it_answers(world, unit, gateway_post, fmt):
    first = care(world, unit, header_id=f"auh.{uuid.uuid4().hex[:12]}")
    reply = care(world, unit, activity=Activity.REPLY, earlier=header(first), text="Opfølgning.")
    assert gateway_post(reply, fmt)["code"] == "ok"
    waiting = Message.objects.get(header_id=header(reply))
    assert waiting.parent is None
    waiting_thread = waiting.thread_id
    assert gateway_post(first, fmt)["code"] == "ok"
    original = Message.objects.get(header_id=header(first))
    waiting.refresh_from_db()
    assert (waiting.parent, waiting.thread_id) == (original, original.thread_id)  # stitched
    assert not Thread.objects.filter(pk=waiting_thread).exists()
    assert shown(header(first)) == shown(header(reply)) == 1


# --- duplicates ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_positive_duplicate_is_acknowledged_the_same_and_shown_once(world, unit, gateway_post, fmt):
    bundle = care(world, unit)
    first = gateway_post(bundle, fmt)
    again = dict(bundle, id=str(uuid.uuid4()), timestamp=fx._when(timezone.now()))
    second = gateway_post(again, fmt)
    assert first["code"] == second["code"] == "ok"
    assert first["bundle"]["id"] == second["bundle"]["id"]  # the same acknowledgement
    assert shown(header(bundle)) == 1 and Message.objects.filter(header_id=header(bundle)).count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_negative_duplicate_is_refused_both_times_and_shows_nothing(world, unit, gateway_post, fmt):
    bundle = care(world, unit, category="gossip")
    first = gateway_post(bundle, fmt)
    second = gateway_post(dict(bundle, id=str(uuid.uuid4())), fmt)
    assert first["code"] == second["code"] == "fatal-error"
    assert first["issues"] == second["issues"] == ["MSG_VALUESET_VALUE_UNKNOWN"]
    assert not Message.objects.filter(header_id=header(bundle)).exists()


# --- identifiers -----------------------------------------------------------------------------


def with_identifiers(bundle: dict[str, Any], *identifiers: tuple[str, str]) -> dict[str, Any]:
    resource(bundle, "Patient")["identifier"] = [{"system": s, "value": v} for s, v in identifiers]
    return bundle


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_person_with_only_a_replacement_number(world, unit, gateway_post, fmt):
    bundle = with_identifiers(care(world, unit, cpr=NEW_CPR), (ECPR_SYSTEM, "0703921VJ5"))
    assert gateway_post(bundle, fmt)["code"] == "ok"
    citizen = Message.objects.get(header_id=header(bundle)).citizen
    assert citizen.cpr is None and citizen.registered_from_message
    assert list(citizen.identifiers.values_list("system", "value")) == [(ECPR_SYSTEM, "0703921VJ5")]
    again = with_identifiers(care(world, unit, cpr=NEW_CPR), (ECPR_SYSTEM, "0703921VJ5"))
    assert gateway_post(again, fmt)["code"] == "ok"
    assert Message.objects.get(header_id=header(again)).citizen == citizen  # found by the number


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_person_with_a_cpr_and_a_replacement_number_and_three_identifiers(world, unit, gateway_post, fmt):
    both = with_identifiers(care(world, unit), (codes.CPR, world.citizen.cpr), (ECPR_SYSTEM, "1111111AB1"))
    assert gateway_post(both, fmt)["code"] == "ok"
    assert Message.objects.get(header_id=header(both)).citizen == world.citizen
    three = with_identifiers(
        care(world, unit),
        (codes.CPR, world.citizen.cpr),
        (ECPR_SYSTEM, "1111111AB1"),
        (REGIONAL_SYSTEM, "RSD-000417"),
    )
    assert gateway_post(three, fmt)["code"] == "ok"
    assert set(CitizenIdentifier.objects.filter(citizen=world.citizen).values_list("value", flat=True)) == {
        "1111111AB1",
        "RSD-000417",
    }
    world.citizen.refresh_from_db()
    assert not world.citizen.registered_from_message  # a known citizen is never changed by a message


# --- unusual but legal content ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_family_name(world, unit, gateway_post, fmt):
    bundle = with_identifiers(care(world, unit), (ECPR_SYSTEM, "2412851XY3"))
    name = resource(bundle, "Patient")["name"][0]
    name.pop("family")
    name["_family"] = {
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]
    }
    assert gateway_post(bundle, fmt)["code"] == "ok"
    citizen = Message.objects.get(header_id=header(bundle)).citizen
    assert citizen.family_name_unknown and citizen.last_name == ""
    with translation.override("da"):
        assert citizen.full_name == "Karen (ukendt efternavn)"


@pytest.mark.parametrize("fmt", FORMATS)
def test_organizations_without_names_and_with_an_extra_identifier(world, unit, gateway_post, fmt):
    bundle = care(world, unit, sender=AARHUS_HEALTH_VISITORS)
    for organization in [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Organization"]:
        organization.pop("name", None)
        organization["identifier"].append({"system": "urn:oid:1.2.208.176.1.4", "value": "012345"})
    assert gateway_post(bundle, fmt)["code"] == "ok"
    sender = Organisation.objects.get(sor_code=AARHUS_HEALTH_VISITORS.sor_code)
    assert AARHUS_HEALTH_VISITORS.sor_code in sender.name  # named after its SOR code
    assert shown(header(bundle)) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_ids_that_are_not_uuids(world, unit, gateway_post, fmt):
    bundle = care(world, unit, header_id="AUH-GER.2026.000117", bundle_id="vans.7734.b")
    ack = gateway_post(bundle, fmt)
    assert (ack["code"], ack["acknowledged"]) == ("ok", "AUH-GER.2026.000117")
    assert shown("AUH-GER.2026.000117") == 1


# --- categories and people -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category(world, unit, gateway_post, fmt, category):
    bundle = care(world, unit, category=category, topic="Emne" if category == "other" else "")
    assert gateway_post(bundle, fmt)["code"] == "ok"
    assert Message.objects.get(header_id=header(bundle)).category == category


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_death_notice_to_a_gp_clinic_that_is_not_the_persons_own_about_a_deceased_person(world, gateway_post, fmt):
    bundle = care(world, world.clinic_b, sender=HERLEV_CARDIOLOGY, category="decease", text="Borgeren er død.")
    resource(bundle, "Patient")["deceasedBoolean"] = True
    assert world.citizen.gp_clinic != world.clinic_b
    assert gateway_post(bundle, fmt)["code"] == "ok"
    assert Recipient.objects.get(message__header_id=header(bundle)).organisation == world.clinic_b
    world.citizen.refresh_from_db()
    assert world.citizen.deceased_at is None  # a care communication changes no registry data


# --- hospital notifications ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_hospital_notification_from_a_department_outside_the_region_to_a_municipal_unit(world, gateway_post, fmt):
    receiving = MunicipalUnitFactory(
        parent=world.municipality_a, kind=OrganisationKind.NOTIFICATION_UNIT, name="Sygehusadviser"
    )
    start = timezone.now() - datetime.timedelta(hours=12)

    def notify(cpr: str, code: str, **kwargs) -> dict[str, Any]:
        klass, status, activity = codes.HOSPITAL[code]
        bundle = fx.hospital_notification(
            sender=HERLEV_CARDIOLOGY,
            receiver=receiving,
            cpr=cpr,
            klass=klass,
            status=status,
            activity=activity,
            start=start,
            deceased=True if code == HospitalCode.MORS else None,
            **kwargs,
        )
        ack = gateway_post(bundle, fmt)
        assert ack["code"] == "ok", (code, ack["texts"])
        message = Message.objects.get(header_id=header(bundle))
        assert (message.type, message.hospital_code) == (MessageType.HOSPITAL_NOTIFICATION, code)
        assert list(message.recipients.filter(role="primary").values_list("organisation", flat=True)) == [receiving.pk]
        assert shown(header(bundle)) >= 1
        return bundle

    left = (start + datetime.timedelta(hours=2)).isoformat(timespec="seconds")
    back = (start + datetime.timedelta(hours=4)).isoformat(timespec="seconds")
    notify(world.citizen.cpr, HospitalCode.STIN)
    notify(world.citizen.cpr, HospitalCode.STOR, leave={"start": left})
    notify(world.citizen.cpr, HospitalCode.SLOR, leave={"start": left, "end": back})
    notify(world.citizen.cpr, HospitalCode.SLHJ, end=start + datetime.timedelta(hours=6))
    notify(NEW_CPR, HospitalCode.STAA)
    notify(NEW_CPR, HospitalCode.MORS, end=start + datetime.timedelta(hours=8))
    # the unit had no relationship with either person: both are on its access review list
    reviewed = AccessReviewItem.objects.filter(organisation=receiving, kind=ReviewKind.RECEIVED_MESSAGE)
    assert reviewed.count() == 2
    department = Organisation.objects.get(sor_code=HERLEV_CARDIOLOGY.sor_code)
    assert (department.kind, department.is_external) == (OrganisationKind.HOSPITAL_DEPARTMENT, True)
    assert Citizen.objects.get(cpr=NEW_CPR).deceased_at is not None


# --- what a gateway may not do ---------------------------------------------------------------


def gateway_token(**fields) -> str:
    return gateway_create(by=None, name=f"Gateway {uuid.uuid4().hex[:6]}", **fields)[1]


def post_as(client, key: str, bundle: dict[str, Any]) -> dict[str, Any]:
    response = client.post(URL, data=json.dumps(bundle), content_type=FHIR_JSON, HTTP_AUTHORIZATION=f"Token {key}")
    return ack_of(response)


def test_a_gateway_delivers_only_its_events(world, unit, client):
    key = gateway_token(event_codes=[codes.EVENT_HOSPITAL_NOTIFICATION])
    ack = post_as(client, key, care(world, unit))
    assert (ack["code"], ack["issues"]) == ("fatal-error", ["MSG_RESOURCE_NOT_ALLOWED"])
    assert not Organisation.objects.filter(sor_code=AUH_GERIATRICS.sor_code).exists()


def test_a_gateway_delivers_only_to_its_receivers(world, unit, client):
    key = gateway_token(all_receivers=False, receivers=[world.municipality_a])
    ack = post_as(client, key, care(world, unit))
    assert (ack["code"], ack["issues"]) == ("fatal-error", ["MSG_RESOURCE_NOT_ALLOWED"])
    assert post_as(client, key, care(world, world.municipality_a))["code"] == "ok"


def test_a_sender_whose_sor_code_and_ean_contradict_is_refused(world, unit, client):
    key = gateway_token()
    contradicting = Organisation(sor_code=world.clinic_b.sor_code, gln=world.clinic_a.gln, name="?")
    ack = post_as(client, key, care(world, unit, sender=contradicting))
    assert (ack["code"], ack["issues"]) == ("fatal-error", ["MSG_PARAM_INVALID"])


def test_a_known_sender_is_taken_from_the_directory_and_an_inactive_gateway_delivers_nothing(world, unit, client):
    key = gateway_token()
    bundle = care(world, unit, sender=world.clinic_b)  # a portal clinic's message, relayed by the gateway
    assert post_as(client, key, bundle)["code"] == "ok"
    assert Message.objects.get(header_id=header(bundle)).sender == world.clinic_b
    assert Organisation.objects.filter(sor_code=world.clinic_b.sor_code).count() == 1  # no new entry
    Gateway.objects.update(is_active=False)
    ack = post_as(client, key, care(world, unit))
    assert (ack["code"], ack["issues"]) == ("fatal-error", ["MSG_RESOURCE_NOT_ALLOWED"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_hospital_notifications_about_a_person_with_only_a_replacement_number(world, gateway_post, fmt):
    receiving = MunicipalUnitFactory(parent=world.municipality_a, kind=OrganisationKind.NOTIFICATION_UNIT)
    start = timezone.now() - datetime.timedelta(hours=12)
    headers = []
    for code, extra in ((HospitalCode.STIN, {}), (HospitalCode.SLHJ, {"end": start + datetime.timedelta(hours=3)})):
        klass, status, activity = codes.HOSPITAL[code]
        bundle = fx.hospital_notification(
            sender=HERLEV_CARDIOLOGY,
            receiver=receiving,
            cpr=NEW_CPR,
            klass=klass,
            status=status,
            activity=activity,
            start=start,
            **extra,
        )
        with_identifiers(bundle, (ECPR_SYSTEM, "0101801AB4"))
        ack = gateway_post(bundle, fmt)
        assert ack["code"] == "ok", ack["texts"]
        headers.append(header(bundle))
    citizens = {m.citizen for m in Message.objects.filter(header_id__in=headers)}
    assert len(citizens) == 1
    (citizen,) = citizens
    assert citizen.cpr is None and citizen.municipality == world.municipality_a
    stay = citizen.stays.get()
    assert stay.discharged_at is not None  # admitted and discharged, by the replacement number alone
