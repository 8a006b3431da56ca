"""MedCom Acknowledgement message bundles (dk-medcom-acknowledgement).

One builder, used for the answer of ``$process-message`` and by the exporter for stored
acknowledgement messages: a MessageHeader with the event ``acknowledgement-message``, one primary
destination and no copies, ``response`` naming the acknowledged MessageHeader id and the code
(ok / transient-error / fatal-error), the sender and receiver Organizations (SOR and GLN), a
Provenance with the activity ``acknowledgement`` pointing at the acknowledged message, and, when
the code is not ok, an OperationOutcome whose issues carry a ``MSG_…`` code and a readable text.

Received, an acknowledgement posted to ``$process-message`` settles the outgoing message it names
for the acknowledging organisation (``acknowledgement_receive``). It is never acknowledged itself:
the answer is an OperationOutcome.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle

from sectors.models import Organisation
from smartcare.datetimes import rfc3339

from .. import services
from ..models import Message
from . import codes, resources
from .parsing import MessageBundle

# The MSG_ codes that MedCom defines itself (medcom-acknowledgement-error-codes); every other
# MSG_ code is one of HL7's operation-outcome codes (MedComAcknowledgementIssueDetailValues).
MEDCOM_ERROR_CODES = frozenset(
    {
        "MSG_Receiver_Identifier_UNKNOWN",
        "MSG_Receiver_Identifier_MISSING",
        "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
        "MSG_VALUESET_VALUE_UNKNOWN",
        "MSG_CodeSystem_VALUE_UNKNOWN",
        "MSG_Element_To_Long",
        "MSG_Datatype_Wrong",
        "MSG_Mailbox_Out_Of_Operation",
        "MSG_Damaged_durin_transport",
    }
)
# When a stored acknowledgement says only why (a reason, no code): the issue it is exported with.
DEFAULT_ISSUE = {
    "fatal-error": ("MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE", "processing"),
    "transient-error": ("MSG_Mailbox_Out_Of_Operation", "transient"),
}
_FHIR_ID = re.compile(r"[^A-Za-z0-9\-.]")

Issue = tuple[str, str, str]  # (MSG_… code, readable text, OperationOutcome issue type)


def issue_system(msg_code: str) -> str:
    return codes.ACK_ERROR_CODES if msg_code in MEDCOM_ERROR_CODES else codes.ACK_OPERATION_OUTCOME_CODES


def fhir_id(value: str) -> str:
    """A FHIR id (``[A-Za-z0-9-.]{1,64}``) for a value the sender chose: an acknowledgement must
    name the message it answers even when that message's id was the problem."""
    return _FHIR_ID.sub("", str(value or ""))[:64] or "unknown"


def _organization(org: Organisation | dict[str, Any]) -> dict[str, Any]:
    """A portal organisation, or the Organization resource a sender wrote (echoed when the
    receiver it names is unknown to the portal). FHIR lets a sender leave out the id of a resource
    it names by a ``urn:uuid:`` fullUrl; the echo gets one from its identifiers (the same each time,
    so a resend is answered alike)."""
    if not isinstance(org, dict):
        return resources.organization(org)
    resource = dict(org)
    if not resource.get("id"):
        resource["id"] = resources.stable_id("organization", json.dumps(resource.get("identifier"), sort_keys=True))
    return resource


def _endpoint(org: Organisation | dict[str, Any]) -> str:
    try:
        webhook = None if isinstance(org, dict) else getattr(org, "webhook", None)
    except DatabaseError:  # the answer that says "try again later" must not need the database
        webhook = None
    return webhook.url if webhook is not None and webhook.active else codes.UNKNOWN_ENDPOINT


def _instant(value: datetime.datetime | None) -> str:
    return rfc3339(value or timezone.now())


def acknowledgement_bundle(
    *,
    acknowledged_header_id: str,
    sender: Organisation | dict[str, Any],
    receiver: Organisation | dict[str, Any],
    code: str,
    issues: Sequence[Issue] = (),
    header_id: str | None = None,
    bundle_id: str | None = None,
    timestamp: datetime.datetime | None = None,
    reason: str = "",
) -> Bundle:
    """The acknowledgement that ``sender`` (the receiver of the acknowledged message) sends back
    to ``receiver`` (its sender). ``issues`` are ``(MSG_… code, text, issue type)``; a code other
    than ok with no issues gets one built from ``reason``."""
    if code not in codes.ACK_CODES.values():
        raise ValueError(f"unknown acknowledgement code {code!r}")
    header_id = header_id or str(uuid.uuid4())
    bundle_id = bundle_id or str(uuid.uuid4())
    when = _instant(timestamp)
    sender_org, receiver_org = _organization(sender), _organization(receiver)
    if receiver_org["id"] == sender_org["id"]:
        receiver_org["id"] = resources.stable_id("acknowledgement-receiver", receiver_org["id"])
    acknowledged = fhir_id(acknowledged_header_id)
    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {"system": codes.EVENT_CODES, "code": codes.EVENT_ACKNOWLEDGEMENT},
        "destination": [
            {
                "extension": [
                    {
                        "url": codes.DESTINATION_USE_EXTENSION,
                        "valueCoding": {"system": codes.DESTINATION_USE, "code": "primary"},
                    }
                ],
                "endpoint": _endpoint(receiver),
                "receiver": resources.reference("Organization", receiver_org["id"]),
            }
        ],
        "sender": resources.reference("Organization", sender_org["id"]),
        "source": {"endpoint": resources.base_url()},
        "response": {"identifier": acknowledged, "code": code},
    }
    provenance = {
        "resourceType": "Provenance",
        "id": resources.stable_id(header_id, "provenance"),
        "target": [resources.reference("MessageHeader", header_id)],
        "occurredDateTime": when,
        "recorded": when,
        "activity": {"coding": [{"system": codes.ACTIVITY_CODES, "code": "acknowledgement"}]},
        "agent": [{"who": resources.reference("Organization", sender_org["id"])}],
        "entity": [{"role": "revision", "what": {"reference": resources.full_url("MessageHeader", acknowledged)}}],
    }
    entries = [header, sender_org, receiver_org, provenance]
    if code != "ok":
        if not issues:
            msg_code, issue_type = DEFAULT_ISSUE[code]
            issues = [(msg_code, reason or msg_code, issue_type)]
        outcome = operation_outcome(issues, resource_id=resources.stable_id(header_id, "operationoutcome"))
        header["response"]["details"] = resources.reference("OperationOutcome", outcome["id"])
        entries.append(outcome)
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": bundle_id,
            "type": "message",
            "timestamp": when,
            "entry": [resources.entry(resource) for resource in entries],
        }
    )


def operation_outcome(
    issues: Sequence[Issue], *, resource_id: str | None = None, severity: str = "error"
) -> dict[str, Any]:
    """A MedComAcknowledgementOperationOutcome (also the plain answer when no acknowledgement can
    be given: a body that is not a message bundle)."""
    outcome: dict[str, Any] = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": issue_type,
                "details": (
                    {"coding": [{"system": issue_system(msg_code), "code": msg_code}], "text": text}
                    if msg_code
                    else {"text": text}
                ),
                "diagnostics": text,
            }
            for msg_code, text, issue_type in issues
        ],
    }
    if resource_id:
        outcome["id"] = resource_id
    return outcome


# --- received -----------------------------------------------------------------------------------


@dataclass
class Answer:
    """What ``$process-message`` answers: an HTTP status and a FHIR resource (an acknowledgement
    bundle or an OperationOutcome)."""

    status: int
    resource: dict[str, Any]


def acknowledgement_receive(msg: MessageBundle, *, sender: Organisation) -> Answer:
    """An acknowledgement from ``sender`` of a message the portal sent it."""
    response = msg.header.get("response") or {}
    code = response.get("code") or ""
    # The MessageHeader id the portal sent (a portal message's is its UUID), compared as written.
    acknowledged = response.get("identifier")
    message = Message.objects.filter(header_id=acknowledged).first() if isinstance(acknowledged, str) else None
    if message is None or not message.recipients.filter(organisation=sender).exists():
        return Answer(
            422,
            operation_outcome(
                [
                    (
                        "MSG_NO_EXIST",
                        _("The acknowledged message is unknown, or was not sent to the acknowledging organisation."),
                        "not-found",
                    )
                ]
            ),
        )
    reason = msg.ack_reason()
    settled = services.acknowledgement_record(message=message, organisation=sender, code=code, reason=reason)
    text = (
        _("The acknowledgement was recorded.")
        if settled
        else _("The message was already acknowledged by this organisation.")
    )
    return Answer(200, operation_outcome([("", text, "informational")], severity="information"))
