"""Messages delivered by a gateway (``sectors.models.Gateway``): the national MedCom network's
traffic for many senders through one connection.

The gateway's token proves the gateway, not the sender: the sender is found in the directory by
the SOR code and EAN number of the bundle's sender Organization (they must not name two
organisations), and one the directory does not know becomes an external entry marked "from a
message, unverified". The gateway may deliver only the events and to the receivers it was
registered for.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _

from sectors.choices import OrganisationKind
from sectors.models import Gateway, Organisation
from sectors.selectors import IdentifierConflict, organisation_by_identifier
from sectors.services import organisation_from_message

from . import codes
from .errors import Reject
from .parsing import MessageBundle


def gateway_of(user: Any) -> Gateway | None:
    """The gateway whose system account ``user`` is, if any."""
    try:
        return user.gateway if getattr(user, "is_authenticated", False) else None
    except ObjectDoesNotExist:
        return None


def gateway_sender(msg: MessageBundle, *, gateway: Gateway, sor: str, gln: str) -> Organisation:
    if not gateway.may_deliver(msg.event):
        raise Reject(
            "MSG_RESOURCE_NOT_ALLOWED",
            _("The gateway %(gateway)s may not deliver '%(event)s' messages.")
            % {"gateway": gateway.name, "event": msg.event},
            "forbidden",
            store=False,
        )
    try:
        sender = organisation_by_identifier(sor_code=sor, gln=gln)
    except IdentifierConflict:
        raise Reject(
            "MSG_PARAM_INVALID",
            _("The sender's SOR code and GLN do not name the same organisation."),
            "business-rule",
            store=False,
        ) from None
    if sender is not None:
        return sender
    resource = msg.sender_resource() or {}
    kind = (
        OrganisationKind.HOSPITAL_DEPARTMENT
        if msg.event == codes.EVENT_HOSPITAL_NOTIFICATION
        else OrganisationKind.OTHER  # a hospital notification comes from a hospital department
    )
    try:
        return organisation_from_message(sor_code=sor, gln=gln, name=resource.get("name") or "", kind=kind)
    except ValidationError as exc:
        raise Reject(
            "MSG_PARAM_INVALID",
            _("The sender's identifiers are not valid: %(problems)s") % {"problems": " ".join(exc.messages)},
            "value",
            store=False,
        ) from None


def check_gateway_receivers(gateway: Gateway | None, receivers: list[Organisation]) -> None:
    """Only the receivers the gateway was registered for."""
    if gateway is None:
        return
    for receiver in receivers:
        if not gateway.may_deliver_to(receiver):
            raise Reject(
                "MSG_RESOURCE_NOT_ALLOWED",
                _("The gateway %(gateway)s may not deliver messages to %(org)s.")
                % {"gateway": gateway.name, "org": receiver.name},
                "forbidden",
            )
