"""``$process-message``: a MedCom message bundle from an organisation's own system.

The bundle is read with ``fhir.resources.R4B`` (JSON or XML), then checked against MedCom's rules
and handed to the same services as a message written in the portal. The answer:

- a body that is not a FHIR message bundle with a MessageHeader (broken JSON/XML, another
  resource, another Bundle type): HTTP 400 with an OperationOutcome (nothing to acknowledge);
- a HospitalNotification or CareCommunication: HTTP 200 with a MedCom Acknowledgement bundle,
  ``ok`` when the message is in the receiver's inbox, ``fatal-error`` with an OperationOutcome
  (a ``MSG_…`` code and a readable text) when a rule is broken, and nothing is created;
  ``transient-error`` when the database failed in a way that passes (unreachable, or a deadlock or
  serialization conflict that persisted through the retries of the transaction,
  ``smartcare.transactions``): send it again later. The HTTP status is 200 for every
  acknowledgement: the acknowledgement code is the answer;
- an Acknowledgement: acknowledgements are never acknowledged (MedCom), so the answer is an
  OperationOutcome: 200 (information) when it settled the outgoing message, 422 when the
  acknowledged message is unknown to the portal or was not sent to the acknowledging organisation.

Duplicates, whichever way the message first came in: a MessageHeader id that the portal already
has (a resend with a new Bundle id, or a message created in the portal) is answered with the
acknowledgement given the first time, counted on the receivers, logged, and creates nothing. A
Bundle id that arrives again with another MessageHeader id is a fatal error.

This module is the façade and the order of the steps; the steps are elsewhere: ``parsing`` reads
the bundle (``MessageBundle``), ``checks`` has the rules every message meets (and the duplicates),
``care_communication`` and ``hospital_notification`` receive the two kinds of message,
``acknowledgement`` builds the acknowledgements and receives them, and ``intake.Incoming`` is what
one call knows so far.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from smartcare.transactions import retry_on_deadlock

from .. import services
from ..choices import AckCode
from ..models import FhirReceipt, Message
from . import codes
from .acknowledgement import Answer, acknowledgement_receive, operation_outcome
from .care_communication import care_communication_receive
from .checks import (
    check_bundle_id,
    check_header,
    check_patient_lengths,
    check_sender,
    check_unique_entries,
    duplicate_answer,
)
from .errors import TRANSIENT_ERRORS, BadRequest, Reject, portal_failure, service_rejection, service_text
from .hospital_notification import hospital_notification_receive
from .intake import Incoming
from .parsing import JSON, XML, MessageBundle, format_of, identifiers, parse
from .traffic import call_record

logger = logging.getLogger(__name__)


def process_message(body: bytes, content_type: str, *, user) -> tuple[int, dict[str, Any]]:
    """The answer (HTTP status, FHIR resource as JSON) to one posted bundle."""
    try:
        msg = MessageBundle.of(parse(body, format_of(content_type)))
    except BadRequest as exc:
        resource = operation_outcome([exc.issue])
        call_record(user=user, status=400, resource=resource)
        return 400, resource
    incoming = Incoming(msg, user)
    try:
        answer = _process(incoming)
    except TRANSIENT_ERRORS:
        logger.exception("$process-message: database unavailable")
        answer = _unavailable(incoming)
    except Exception:  # noqa: BLE001 - fails again on a resend: a fatal error, never a 500
        logger.exception("$process-message: unexpected error")
        answer = _failed(incoming)
    call_record(
        user=user, status=answer.status, resource=answer.resource, header_id=msg.header_id or "", event=msg.event or ""
    )
    return answer.status, answer.resource


def _unavailable(incoming: Incoming) -> Answer:
    """Send it again later (an acknowledgement is never acknowledged: an HTTP 503 for it)."""
    if incoming.msg.event == codes.EVENT_ACKNOWLEDGEMENT:
        return Answer(503, operation_outcome([("MSG_Mailbox_Out_Of_Operation", _("Try again later."), "transient")]))
    return Answer(200, incoming.transient())


def _failed(incoming: Incoming) -> Answer:
    if incoming.msg.event == codes.EVENT_ACKNOWLEDGEMENT:
        return Answer(422, operation_outcome([portal_failure().issue]))
    return Answer(200, incoming.fatal(portal_failure()))


def webhook_acknowledgement(body: bytes, content_type: str, *, delivery) -> bool:
    """The answer of an organisation's own system to a webhook delivery, when it is a MedCom
    Acknowledgement of the delivered message: recorded as that organisation's acknowledgement
    (no more resends). Anything else in the answer is ignored: the delivery itself succeeded."""
    message, organisation = delivery.message, delivery.recipient.organisation
    if not message.is_cross_organisation:
        return False  # an acknowledgement is never acknowledged
    fmt = XML if "xml" in content_type.lower() or body.lstrip().startswith(b"<") else JSON
    try:
        msg = MessageBundle.of(parse(body, fmt))
    except BadRequest:
        return False
    response = msg.header.get("response") or {}
    if msg.event != codes.EVENT_ACKNOWLEDGEMENT or response.get("identifier") != message.header_id:
        return False
    sor, gln = identifiers(msg.sender_resource())
    if (sor or gln) and sor != organisation.sor_code and gln != organisation.gln:
        return False  # it speaks for another organisation
    code = response.get("code") or ""
    if code not in AckCode.values:
        return False
    return bool(
        services.acknowledgement_record(message=message, organisation=organisation, code=code, reason=msg.ack_reason())
    )


def _process(incoming: Incoming) -> Answer:
    try:
        check_header(incoming.msg)
        check_unique_entries(incoming.msg.data)
        incoming.sender = check_sender(incoming.msg, user=incoming.user)
        if incoming.msg.event == codes.EVENT_ACKNOWLEDGEMENT:
            return _guarded(lambda: acknowledgement_receive(incoming.msg, sender=incoming.sender))
        check_bundle_id(incoming.msg)
        duplicate = duplicate_answer(incoming)
        if duplicate is not None:
            return Answer(200, duplicate)
    except Reject as exc:
        return Answer(200, incoming.fatal(exc))
    for attempt in (1, 2):
        try:
            return Answer(200, _create(incoming))
        except IntegrityError:
            # The same message posted twice at once: the other one won; answer as its duplicate.
            # Or another message registered the same citizen at the same time: once more.
            logger.warning("$process-message: integrity error (attempt %d)", attempt)
            try:
                duplicate = duplicate_answer(incoming)
            except Reject as exc:
                return Answer(200, incoming.fatal(exc))
            if duplicate is not None:
                return Answer(200, duplicate)
    logger.error("$process-message: integrity error twice for message %s", incoming.msg.header_id)
    return _failed(incoming)


@retry_on_deadlock
def _guarded(step) -> Answer:
    try:
        with transaction.atomic():
            return step()
    except (ValidationError, PermissionDenied) as exc:
        return Answer(422, operation_outcome([("MSG_PARAM_INVALID", service_text(exc), "invalid")]))


@retry_on_deadlock
def _create(incoming: Incoming) -> dict[str, Any]:
    """Create the message and its acknowledgement in one transaction, and keep the answer; a
    broken rule creates nothing and keeps the fatal-error answer."""
    handler = (
        care_communication_receive
        if incoming.msg.event == codes.EVENT_CARE_COMMUNICATION
        else hospital_notification_receive
    )
    try:
        with transaction.atomic():
            if incoming.msg.event == codes.EVENT_HOSPITAL_NOTIFICATION:
                check_patient_lengths(incoming.msg.all("Patient"))
            message = handler(incoming)
            ack = services.acknowledgement_send(message=message, organisation=incoming.receiver, code=AckCode.OK)
            answer = incoming.ok(ack)
            _keep(incoming, answer, AckCode.OK, message)
            return answer
    except Reject as exc:
        rejection = exc
    except (ValidationError, PermissionDenied) as exc:
        rejection = service_rejection(exc)
    answer = incoming.fatal(rejection)
    if rejection.store:
        with transaction.atomic():
            _keep(incoming, answer, AckCode.FATAL_ERROR, None)
    logger.info(
        "FHIR message %s from organisation %s rejected: %s",
        incoming.msg.header_id,
        incoming.sender.pk,
        rejection.issue[0],
    )
    return answer


def _keep(incoming: Incoming, answer: dict[str, Any], code: str, message: Message | None) -> None:
    if message is not None:
        # The message as it arrived: its Bundle id is the transmission's (a resend changes it).
        Message.objects.filter(pk=message.pk).update(bundle_id=incoming.msg.data["id"])
    FhirReceipt.objects.create(
        bundle_id=incoming.msg.data["id"],
        header_id=incoming.msg.header_id,
        sender=incoming.sender,
        message=message,
        ack_code=code,
        ack_bundle=answer,
    )
