"""The checks of a message a user writes, each returning every problem it finds, so the form
shows them all at once next to their fields (not one per attempt).

The services raise what ``send_errors``, ``reply_errors`` and ``forward_errors`` find; the pages
ask them too while a field of their form is wrong, passing only the arguments the form could
read: an argument left out (``NOT_READ``) is not checked, nor any rule that needs it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from citizens.access import organisation_sees
from citizens.models import Citizen
from sectors.models import Organisation
from sectors.selectors import outgoing_gateway
from smartcare.validators import Errors, gather

from .attachments import attachment_type
from .choices import Category, Priority
from .models import Message


class _NotRead:
    def __repr__(self) -> str:
        return "NOT_READ"


# An argument the page's form could not read: the form shows its own error for it.
NOT_READ: Any = _NotRead()


def max_message_bytes() -> int:
    return getattr(settings, "MESSAGING_MAX_MESSAGE_BYTES", 50 * 1024 * 1024)


def content_errors(
    *, text: str = NOT_READ, category: str = NOT_READ, topic: str = NOT_READ, priority: str = NOT_READ
) -> Errors:
    """The CareCommunication rules. The model's constraints say the same; here the error names
    the field the user (or the sending system) must fix."""
    errors: Errors = {}
    if text is not NOT_READ and not (text or "").strip():
        errors["text"] = [_("Write a message.")]
    if category is NOT_READ:
        pass
    elif category not in Category.values:
        errors["category"] = [_("Choose a category.")]
    elif category == Category.OTHER and topic is not NOT_READ and not (topic or "").strip():
        errors["topic"] = [_("A topic is required when the category is 'other'.")]
    if priority is NOT_READ:
        pass
    elif priority not in Priority.values:
        errors["priority"] = [_("Choose a priority.")]
    elif priority == Priority.ASAP and category is not NOT_READ and category != Category.REGARDING_REFERRAL:
        errors["priority"] = [_("Priority 'as soon as possible' is only for messages regarding a referral.")]
    return errors


def receiver_errors(citizen: Citizen, organisations: Iterable[Organisation]) -> Errors:
    found = []
    for org in organisations:
        if not org.is_active:
            found.append(_("%(org)s is not active.") % {"org": org})
        elif org.is_external:
            # Outside the portal: what it knows of the citizen is not ours to see; the message
            # leaves through the gateway, so there must be one.
            if outgoing_gateway() is None:
                found.append(_("%(org)s is outside the portal, and no gateway carries messages there.") % {"org": org})
        elif not organisation_sees(org, citizen):
            found.append(
                _("%(org)s has no care relationship with the citizen and cannot receive messages about them.")
                % {"org": org}
            )
    return {"receiver": found} if found else {}


def incoming_receiver_errors(organisations: Iterable[Organisation]) -> Errors:
    """A message from the network may go to any active organisation of the portal: receiving is
    the receiver's business, and the message itself gives it the relationship with the citizen
    (``messaging.relationships``). An external directory entry receives nothing here."""
    found = [
        _("%(org)s is not an active organisation of the portal.") % {"org": org}
        for org in organisations
        if not org.is_active or org.is_external
    ]
    return {"receiver": found} if found else {}


def attachment_errors(attachments: Sequence[UploadedFile], *, text: str, max_bytes: int) -> Errors:
    """Every file that is not of an allowed type, and the size of the whole message."""
    errors: Errors = {}
    for upload in attachments:
        gather(errors, attachment_type, upload)
    if len((text or "").encode()) + sum(upload.size or 0 for upload in attachments) > max_bytes:
        errors.setdefault("attachments", []).append(
            _("A message is at most %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}
        )
    return errors


def _text(text: str) -> str:
    return "" if text is NOT_READ else text


def send_errors(
    citizen: Citizen,
    *,
    receiver: Organisation | None = None,
    cc: Sequence[Organisation] = (),
    category: str = NOT_READ,
    topic: str = NOT_READ,
    priority: str = NOT_READ,
    text: str = NOT_READ,
    attachments: Sequence[UploadedFile] = (),
) -> Errors:
    """Every problem of a new care communication (``message_send``); no receiver: not read."""
    receivers = [org for org in (receiver, *cc) if org is not None]
    return merged(
        content_errors(text=text, category=category, topic=topic, priority=priority),
        receiver_errors(citizen, receivers),
        attachment_errors(attachments, text=_text(text), max_bytes=max_message_bytes()),
    )


def reply_errors(message: Message, *, text: str = NOT_READ, attachments: Sequence[UploadedFile] = ()) -> Errors:
    """Every problem of a reply's text and files (``message_reply``), which goes to the sender."""
    return merged(
        content_errors(text=text),
        receiver_errors(message.citizen, [message.sender]),
        attachment_errors(attachments, text=_text(text), max_bytes=max_message_bytes()),
    )


def forward_errors(
    message: Message, *, receiver: Organisation | None = None, cc: Sequence[Organisation] = ()
) -> Errors:
    """The receivers of a forward (``message_forward``) that cannot receive it."""
    return receiver_errors(message.citizen, [org for org in (receiver, *cc) if org is not None])


def merged(*found: Errors) -> Errors:
    errors: Errors = {}
    for part in found:
        for field, messages in part.items():
            errors.setdefault(field, []).extend(messages)
    return errors


def check(*found: Errors) -> None:
    """Raise every error found, by field."""
    errors = merged(*found)
    if errors:
        raise ValidationError(errors)
