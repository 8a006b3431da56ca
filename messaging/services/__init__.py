"""Writes for messages: send, reply, forward, hospital events, inbox state, acknowledgements,
resends, escalation and the portal's own notifications.

One module per concern, all names re-exported here so callers keep ``services.message_send``:

- ``routing``: writing a message with its receivers and deliveries (shared by the others);
- ``communication``: send, reply, forward, and import from a sender's own system;
- ``inbox``: read marks, handled, assigned;
- ``acknowledgements``: receiving, acknowledgements, resends and escalation;
- ``notices``: the portal's own notifications and the care-plan outbox;
- ``hospital``: hospital events, corrections and cancellations;
- ``operations``: delivery retry and e-mail preferences.

A test that replaces a helper the services use (``_enqueue``, say) patches it in the module that
looks it up (``messaging.services.operations._enqueue``), not here.
"""

from __future__ import annotations

from .acknowledgements import (
    Receipt,
    ack_timeout,
    acknowledgement_record,
    acknowledgement_send,
    escalate_after,
    max_resends,
    message_receive,
    unacknowledged_resend,
    unhandled_escalate,
)
from .communication import message_forward, message_import, message_reply, message_send
from .hospital import STAY_KIND_OF, hospital_event_cancel, hospital_event_correct, hospital_event_record
from .inbox import message_assign, message_mark_handled, message_mark_read, messages_mark_read
from .notices import care_events_dispatch, notice_send
from .operations import delivery_retry, email_preference_set
from .routing import _deliveries_for

__all__ = [
    "STAY_KIND_OF",
    "Receipt",
    "_deliveries_for",
    "ack_timeout",
    "acknowledgement_record",
    "acknowledgement_send",
    "care_events_dispatch",
    "delivery_retry",
    "email_preference_set",
    "escalate_after",
    "hospital_event_cancel",
    "hospital_event_correct",
    "hospital_event_record",
    "max_resends",
    "message_assign",
    "message_forward",
    "message_import",
    "message_mark_handled",
    "message_mark_read",
    "message_receive",
    "message_reply",
    "message_send",
    "messages_mark_read",
    "notice_send",
    "unacknowledged_resend",
    "unhandled_escalate",
]
