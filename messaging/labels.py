"""What a hospital event is called, in one place: the inbox row, the thread, the hospital-events
page, a reply's topic and the admin all say "Cancelled: admission" for an AN_STIN, never the
"Admitted" of the event it withdraws."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .choices import HospitalCode, Revision

# The event as a noun, for "Cancelled: …" and "Corrected: …".
EVENT_NOUNS = {
    HospitalCode.STAA: gettext_lazy("acute ambulant visit"),
    HospitalCode.STIN: gettext_lazy("admission"),
    HospitalCode.STOR: gettext_lazy("start of leave"),
    HospitalCode.SLOR: gettext_lazy("end of leave"),
    HospitalCode.SLHJ: gettext_lazy("discharge"),
    HospitalCode.MORS: gettext_lazy("death"),
}


def hospital_event_label(code: str, revision: str = Revision.NEW) -> str:
    """ "Admitted" for a new STIN, "Corrected: admission" for RE_STIN, "Cancelled: admission" for
    AN_STIN (an unknown code is shown as it came)."""
    if code not in HospitalCode.values:
        return code
    if revision == Revision.CANCELLATION:
        return _("Cancelled: %(event)s") % {"event": EVENT_NOUNS[code]}
    if revision == Revision.CORRECTION:
        return _("Corrected: %(event)s") % {"event": EVENT_NOUNS[code]}
    return str(HospitalCode(code).label)


def hospital_code_label(code: str, revision: str = Revision.NEW) -> str:
    """The Danish code as MedCom writes it: STIN, RE_STIN, AN_STIN."""
    prefix = {Revision.CORRECTION: "RE_", Revision.CANCELLATION: "AN_"}.get(revision, "")
    return f"{prefix}{code}"
