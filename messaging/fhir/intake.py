"""One call of ``$process-message``: what is known so far, and the acknowledgements it is answered
with.

The checks fill in the sender and the receiver as they prove them; until then an acknowledgement
names the two ends as well as the bundle lets us know them (the bundle's own Organizations, or
the portal), so even a message whose sender is unknown gets an answer it can match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle

from citizens.access import Actor
from sectors.acting import Acting, resolve
from sectors.models import Gateway, Organisation

from ..choices import AckCode
from ..models import Message
from . import resources
from .acknowledgement import Issue, acknowledgement_bundle
from .errors import Reject
from .gateway import gateway_of
from .parsing import MessageBundle


def dump(bundle: Bundle) -> dict[str, Any]:
    return json.loads(bundle.model_dump_json())


@dataclass
class Incoming:
    """One posted message bundle, the integration token's user, and the sender and receiver once
    the checks have found them."""

    msg: MessageBundle
    user: Any
    sender: Organisation | None = None
    receiver: Organisation | None = None

    @property
    def gateway(self) -> Gateway | None:
        return gateway_of(self.user)

    def actor(self) -> Actor:
        """A member acting for the sender, or a gateway delivering for it (no membership: the
        gateway is not a person, and its sender may be anywhere in Denmark)."""
        if self.gateway is not None:
            return Actor(user=self.user, acting=Acting(organisation=self.sender))
        return Actor(user=self.user, acting=resolve(self.user, self.sender.pk))

    # the two ends of the acknowledgement, as well as the bundle lets us know them
    def ack_sender(self) -> Organisation | dict[str, Any]:
        if self.receiver is not None:
            return self.receiver
        for use, resource in self.msg.destinations():
            if use == "primary" and resource is not None:
                return resource
        return {"resourceType": "Organization", "id": resources.stable_id("portal"), "name": "SmartCare"}

    def ack_receiver(self) -> Organisation | dict[str, Any]:
        if self.sender is not None:
            return self.sender
        return self.msg.sender_resource() or {
            "resourceType": "Organization",
            "id": resources.stable_id("unknown-sender"),
            "name": "?",
        }

    def fatal(self, exc: Reject) -> dict[str, Any]:
        return self._error(AckCode.FATAL_ERROR, exc.issue)

    def transient(self) -> dict[str, Any]:
        text = _("The portal could not process the message just now. Send it again later.")
        return self._error(AckCode.TRANSIENT_ERROR, ("MSG_Mailbox_Out_Of_Operation", text, "transient"))

    def _error(self, code: str, issue: Issue) -> dict[str, Any]:
        return dump(
            acknowledgement_bundle(
                acknowledged_header_id=self.msg.header_id,
                sender=self.ack_sender(),
                receiver=self.ack_receiver(),
                code=code,
                issues=[issue],
            )
        )

    def ok(self, ack: Message) -> dict[str, Any]:
        """The acknowledgement the portal keeps as a message too, with the same ids (so a copy that
        reaches the sender's webhook is recognised as the same acknowledgement). It names the
        acknowledged message by the MessageHeader id its sender wrote."""
        return dump(
            acknowledgement_bundle(
                acknowledged_header_id=ack.acknowledges.header_id,
                sender=ack.sender,
                receiver=self.sender,
                code=ack.ack_code or AckCode.OK,
                header_id=ack.header_id,
                bundle_id=ack.bundle_id,
                timestamp=ack.sent_at,
                reason=ack.ack_reason,
            )
        )
