"""MedCom message bundles for the tests, built as plain FHIR JSON from the implementation guides
(dk-medcom-messaging, -carecommunication, -hospitalnotification, -acknowledgement): a
MessageHeader first with the event code and the destination-use extension, the Organizations with
SOR and GLN identifiers, the Patient with its CPR identifier, the focus resource and a Provenance
whose target is the MessageHeader. Written for this project, not copied from the guides' examples."""

from __future__ import annotations

import base64
import datetime
import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from messaging.fhir import codes
from sectors.models import Organisation

BASE = "https://sender.example.org/fhir"


def _url(resource: dict[str, Any]) -> str:
    return f"{BASE}/{resource['resourceType']}/{resource['id']}"


def _ref(resource: dict[str, Any]) -> dict[str, str]:
    return {"reference": f"{resource['resourceType']}/{resource['id']}"}


def _when(value: datetime.datetime) -> str:
    return value.isoformat(timespec="seconds")


def organization(org: Organisation | None = None, *, sor: str | None = None, gln: str | None = None, name="X"):
    identifiers = []
    sor = sor if sor is not None else (org.sor_code if org else None)
    gln = gln if gln is not None else (org.gln if org else None)
    if sor:
        identifiers.append({"system": codes.SOR, "value": sor})
    if gln:
        identifiers.append({"system": codes.GLN, "value": gln})
    return {
        "resourceType": "Organization",
        "id": str(uuid.uuid4()),
        "identifier": identifiers,
        "name": org.name if org else name,
    }


def patient(cpr: str, *, first_name="Karen", last_name="Jensen", deceased: bool | None = None, address=True):
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(uuid.uuid4()),
        "identifier": [{"system": codes.CPR, "value": cpr}],
        "name": [{"use": "official", "family": last_name, "given": first_name.split()}],
    }
    if address:
        resource["address"] = [{"line": ["Testvej 1"], "postalCode": "8000", "city": "Aarhus C"}]
    if deceased is not None:
        resource["deceasedBoolean"] = deceased
    return resource


def _destination(receiver: dict[str, Any], use: str) -> dict[str, Any]:
    return {
        "extension": [
            {"url": codes.DESTINATION_USE_EXTENSION, "valueCoding": {"system": codes.DESTINATION_USE, "code": use}}
        ],
        "endpoint": codes.UNKNOWN_ENDPOINT,
        "receiver": _ref(receiver),
    }


def provenance(header_id: str, activity: str, sender: dict[str, Any], *, earlier: str | None = None, role="revision"):
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": str(uuid.uuid4()),
        "target": [{"reference": f"MessageHeader/{header_id}"}],
        "occurredDateTime": _when(datetime.datetime.now(datetime.UTC)),
        "recorded": _when(datetime.datetime.now(datetime.UTC)),
        "activity": {"coding": [{"system": codes.ACTIVITY_CODES, "code": activity}]},
        "agent": [{"who": _ref(sender)}],
    }
    if earlier:
        resource["entity"] = [{"role": role, "what": {"reference": f"{BASE}/MessageHeader/{earlier}"}}]
    return resource


def _bundle(
    *,
    event: str,
    sender: dict[str, Any],
    receiver: dict[str, Any],
    focus: dict[str, Any] | None,
    others: list[dict[str, Any]],
    cc: list[dict[str, Any]] = (),
    header_id: str | None = None,
    bundle_id: str | None = None,
    header_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": header_id or str(uuid.uuid4()),
        "eventCoding": {"system": codes.EVENT_CODES, "code": event},
        "destination": [_destination(receiver, "primary"), *[_destination(org, "cc") for org in cc]],
        "sender": _ref(sender),
        "source": {"endpoint": BASE},
    }
    if focus is not None:
        header["focus"] = [_ref(focus)]
    header.update(header_extra or {})
    resources = [header, sender, receiver, *cc, *([focus] if focus else []), *others]
    return {
        "resourceType": "Bundle",
        "id": bundle_id or str(uuid.uuid4()),
        "type": "message",
        "timestamp": _when(datetime.datetime.now(datetime.UTC)),
        "entry": [{"fullUrl": _url(r), "resource": r} for r in resources],
    }


def header_of(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MessageHeader")


def resource_of(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type)


def without(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != resource_type]
    return bundle


def care_communication(
    *,
    sender: Organisation,
    receiver: Organisation | dict[str, Any],
    cpr: str,
    category: str = "nursing",
    topic: str = "",
    priority: str | None = None,
    text: str = "Borgeren har faaet ny medicin.",
    cc: list[Organisation] = (),
    activity: str = "new-message",
    earlier: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    header_id: str | None = None,
    bundle_id: str | None = None,
) -> dict[str, Any]:
    sender_org = organization(sender)
    receiver_org = receiver if isinstance(receiver, dict) else organization(receiver)
    the_patient = patient(cpr)
    practitioner = {
        "resourceType": "Practitioner",
        "id": str(uuid.uuid4()),
        "name": [{"family": "Hansen", "given": ["Mette"]}],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": str(uuid.uuid4()),
        "practitioner": _ref(practitioner),
        "code": [{"text": "Sygeplejerske"}],
    }
    now = _when(datetime.datetime.now(datetime.UTC))
    payloads: list[dict[str, Any]] = [
        {
            "extension": [
                {"url": codes.PAYLOAD_DATE_EXTENSION, "valueDateTime": now},
                {
                    "url": codes.PAYLOAD_IDENTIFIER_EXTENSION,
                    "valueIdentifier": {"value": f"urn:uuid:{uuid.uuid4()}", "assigner": _ref(sender_org)},
                },
                {"url": codes.PAYLOAD_AUTHOR_EXTENSION, "valueReference": _ref(role)},
                {
                    "url": codes.PAYLOAD_AUTHOR_CONTACT_EXTENSION,
                    "valueContactPoint": {"system": "phone", "value": "12345678"},
                },
            ],
            "contentString": text,
        }
    ]
    for title, mime, content in attachments:
        payloads.append(
            {
                "extension": [
                    {"url": codes.PAYLOAD_DATE_EXTENSION, "valueDateTime": now},
                    {
                        "url": codes.PAYLOAD_IDENTIFIER_EXTENSION,
                        "valueIdentifier": {"value": f"urn:uuid:{uuid.uuid4()}"},
                    },
                ],
                "contentAttachment": {
                    "contentType": mime,
                    "title": title,
                    "data": base64.b64encode(content).decode(),
                },
            }
        )
    communication: dict[str, Any] = {
        "resourceType": "Communication",
        "id": str(uuid.uuid4()),
        "identifier": [{"value": f"urn:uuid:{uuid.uuid4()}"}],
        "status": "unknown",
        "category": [{"coding": [{"system": codes.CATEGORY_CODES, "code": category}]}],
        "subject": _ref(the_patient),
        "payload": payloads,
    }
    if topic:
        communication["topic"] = {"text": topic}
    if priority:
        communication["priority"] = priority
    header_id = header_id or str(uuid.uuid4())
    cc_orgs = [organization(org) for org in cc]
    return _bundle(
        event=codes.EVENT_CARE_COMMUNICATION,
        sender=sender_org,
        receiver=receiver_org,
        cc=cc_orgs,
        focus=communication,
        others=[the_patient, role, practitioner, provenance(header_id, activity, sender_org, earlier=earlier)],
        header_id=header_id,
        bundle_id=bundle_id,
    )


def hospital_notification(
    *,
    sender: Organisation,
    receiver: Organisation | dict[str, Any],
    cpr: str,
    klass: str = "IMP",
    status: str = "in-progress",
    activity: str = "admit-inpatient",
    start: datetime.datetime,
    end: datetime.datetime | None = None,
    leave: dict[str, str] | None = None,
    deceased: bool | None = None,
    earlier: str | None = None,
    first_name: str = "Karen",
    last_name: str = "Jensen",
    header_id: str | None = None,
    bundle_id: str | None = None,
) -> dict[str, Any]:
    sender_org = organization(sender)
    receiver_org = receiver if isinstance(receiver, dict) else organization(receiver)
    the_patient = patient(cpr, first_name=first_name, last_name=last_name, deceased=deceased)
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(uuid.uuid4()),
        "status": status,
        "class": {"system": codes.ENCOUNTER_CLASS, "code": klass},
        "subject": _ref(the_patient),
        "episodeOfCare": [
            {"identifier": {"system": codes.EPISODE_OF_CARE_IDENTIFIER, "value": f"urn:uuid:{uuid.uuid4()}"}}
        ],
        "period": {"start": _when(start)},
        "serviceProvider": _ref(sender_org),
    }
    if end is not None:
        encounter["period"]["end"] = _when(end)
    if leave:
        encounter["extension"] = [{"url": codes.LEAVE_PERIOD_EXTENSION, "valuePeriod": leave}]
    header_id = header_id or str(uuid.uuid4())
    role = "removal" if activity.startswith("cancel-") else "revision"
    return _bundle(
        event=codes.EVENT_HOSPITAL_NOTIFICATION,
        sender=sender_org,
        receiver=receiver_org,
        focus=encounter,
        others=[the_patient, provenance(header_id, activity, sender_org, earlier=earlier, role=role)],
        header_id=header_id,
        bundle_id=bundle_id,
    )


def acknowledgement(
    *, sender: Organisation, receiver: Organisation, acknowledged: str, code: str = "ok", text: str = ""
) -> dict[str, Any]:
    sender_org, receiver_org = organization(sender), organization(receiver)
    header_id = str(uuid.uuid4())
    others = [provenance(header_id, "acknowledgement", sender_org, earlier=acknowledged)]
    response: dict[str, Any] = {"identifier": acknowledged, "code": code}
    if code != "ok":
        outcome = {
            "resourceType": "OperationOutcome",
            "id": str(uuid.uuid4()),
            "issue": [
                {
                    "severity": "error",
                    "code": "processing",
                    "details": {
                        "coding": [{"system": codes.ACK_ERROR_CODES, "code": "MSG_Receiver_Identifier_UNKNOWN"}],
                        "text": text,
                    },
                }
            ],
        }
        others.append(outcome)
        response["details"] = _ref(outcome)
    return _bundle(
        event=codes.EVENT_ACKNOWLEDGEMENT,
        sender=sender_org,
        receiver=receiver_org,
        focus=None,
        others=others,
        header_id=header_id,
        header_extra={"response": response},
    )


def as_xml(bundle: dict[str, Any]) -> bytes:
    return Bundle.model_validate(bundle).model_dump_xml()
