"""The ways a delivery leaves the outbox: e-mail (``mail``) and the organisation's own system
(``webhook``). A transport sends one claimed delivery and returns what happened; it changes
nothing in the portal (the delivery engine, ``messaging.delivery``, records the attempt and acts
on the answer through the services). In-app delivery needs no transport: the engine puts the
message in the inbox itself (``services.message_receive``)."""

from __future__ import annotations

from dataclasses import dataclass


class TransientError(Exception):
    """Worth trying again later."""


class PermanentError(Exception):
    """Trying again will not help; a person must look at it."""


@dataclass(frozen=True)
class Sent:
    """A transport's answer: the attempt's outcome (``AttemptOutcome``) and, from a webhook,
    the body the receiving system answered with and its content type, for the engine to read an
    acknowledgement from."""

    outcome: str
    answer: bytes = b""
    answer_type: str = ""
