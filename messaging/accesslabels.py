"""The messaging app's codes in the access log ("what" was read or changed), as labels in the
reader's language (``citizens.accesslabels``)."""

from __future__ import annotations

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citizens.accesslabels import choice_label, register_detail_pattern, register_details

from .choices import HospitalCode, Revision

register_details(
    {
        "inbox": _("the inbox"),
        "sent messages": _("the sent messages"),
        "message thread": _("a message thread"),
        "message": _("a message"),
        "new message": _("writing a message"),
        "message sent": _("message sent"),
        "message replied": _("reply sent"),
        "message forwarded": _("message forwarded"),
        "message received from the sender's system": _("message received from the sender's system"),
        "hospital events": _("the hospital events"),
        "hospital event CPR look-up": _("CPR look-up for a hospital event"),
        "api message inbox": _("API: the inbox"),
        "api message sent": _("API: the sent messages"),
        "api hospital events": _("API: hospital events"),
    }
)


@register_detail_pattern(r"hospital event (?P<code>\w+)")
def _hospital_event(match: re.Match[str]) -> str | None:
    """The event's code (STIN) when it was recorded, the revision when it was corrected."""
    code = match["code"]
    if code in HospitalCode.values:
        return gettext("hospital event: %(event)s") % {"event": choice_label(HospitalCode, code)}
    if code in Revision.values:
        return gettext("hospital event revised: %(revision)s") % {"revision": choice_label(Revision, code)}
    return None
