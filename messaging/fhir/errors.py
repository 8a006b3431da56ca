"""The two ways ``$process-message`` refuses a bundle, and which failures are worth a resend.

- ``BadRequest``: the body is no message bundle; nothing to acknowledge, HTTP 400 with an
  OperationOutcome.
- ``Reject``: a rule is broken; a fatal-error acknowledgement. The sender must not resend it.

A transient-error acknowledgement asks the sender to send the same message again later, so it is
only answered when a resend can succeed: the database was unreachable, or a deadlock or
serialization failure rolled the work back. Everything else that fails (data the database refuses,
a bug) fails the same way again: fatal-error.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _

# django.db.OperationalError covers a lost connection, a deadlock and a serialization failure
# (PostgreSQL's TransactionRollbackError is an OperationalError); InterfaceError a closed connection.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)

# The MedCom code when a portal model field is shorter than what the sender wrote
# (medcom-acknowledgement-error-codes spells it so).
ELEMENT_TOO_LONG = "MSG_Element_To_Long"
# A service's field error: the MSG_ code that tells the sender what to fix.
SERVICE_FIELD_CODES = {
    "citizen": "MSG_NO_EXIST",
    "attachments": "MSG_VALUESET_VALUE_UNKNOWN",
    "cpr": "MSG_BAD_FORMAT",
    "name": "MSG_RESOURCE_REQUIRED",
    "receiver": "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
    "cc": "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
}


class BadRequest(Exception):
    """Not a message bundle: answered with an OperationOutcome, no acknowledgement."""

    def __init__(self, msg_code: str, text: str, issue_type: str = "structure"):
        super().__init__(text)
        self.issue = (msg_code, text, issue_type)


class Reject(Exception):
    """A MedCom rule is broken: a fatal-error acknowledgement. ``store`` is False when the answer
    must not be kept for the MessageHeader id (the sender was not proven, the id belongs to
    another message, or the portal itself failed and a later resend may be processed)."""

    def __init__(self, msg_code: str, text: str, issue_type: str = "invariant", *, store: bool = True):
        super().__init__(text)
        self.issue = (msg_code, text, issue_type)
        self.store = store


def service_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or _("The sender may not do this.")


def _codes(exc: ValidationError) -> set[str]:
    errors = exc.error_dict.values() if hasattr(exc, "error_dict") else [exc.error_list]
    return {error.code or "" for field_errors in errors for error in field_errors}


def service_rejection(exc: ValidationError | PermissionDenied) -> Reject:
    """A service refused the message (a rule the model or service enforces, e.g. a date out of
    bounds): the fatal-error answer, with the code of the field it names."""
    if isinstance(exc, PermissionDenied):
        return Reject("MSG_RESOURCE_NOT_ALLOWED", service_text(exc), "forbidden")
    if "max_length" in _codes(exc):
        return Reject(ELEMENT_TOO_LONG, service_text(exc), "too-long")
    field_name = next(iter(exc.error_dict), "") if hasattr(exc, "error_dict") else ""
    return Reject(SERVICE_FIELD_CODES.get(field_name, "MSG_PARAM_INVALID"), service_text(exc), "business-rule")


def portal_failure() -> Reject:
    """The portal failed on this message in a way a resend will not change (not a database
    outage): a fatal-error that is not kept, so the message can be processed once it is fixed."""
    return Reject(
        "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
        _("The portal could not process this message; sending it again will not help. Contact the portal's support."),
        "exception",
        store=False,
    )
