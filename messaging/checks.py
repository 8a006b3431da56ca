"""The checks of a message a user writes, each returning every problem it finds, so the form
shows them all at once next to their fields (not one per attempt)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from citizens.access import organisation_sees
from citizens.models import Citizen
from sectors.models import Organisation
from smartcare.validators import Errors, gather

from .attachments import attachment_type
from .choices import Category, Priority


def content_errors(*, text: str, category: str, topic: str, priority: str) -> Errors:
    """The CareCommunication rules. The model's constraints say the same; here the error names
    the field the user (or the sending system) must fix."""
    errors: Errors = {}
    if not (text or "").strip():
        errors["text"] = [_("Write a message.")]
    if category not in Category.values:
        errors["category"] = [_("Choose a category.")]
    elif category == Category.OTHER and not (topic or "").strip():
        errors["topic"] = [_("A topic is required when the category is 'other'.")]
    if priority not in Priority.values:
        errors["priority"] = [_("Choose a priority.")]
    elif priority == Priority.ASAP and category != Category.REGARDING_REFERRAL:
        errors["priority"] = [_("Priority 'as soon as possible' is only for messages regarding a referral.")]
    return errors


def receiver_errors(citizen: Citizen, organisations: Iterable[Organisation]) -> Errors:
    found = []
    for org in organisations:
        if not org.is_active:
            found.append(_("%(org)s is not active.") % {"org": org})
        elif not organisation_sees(org, citizen):
            found.append(
                _("%(org)s has no care relationship with the citizen and cannot receive messages about them.")
                % {"org": org}
            )
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
