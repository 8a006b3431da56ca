"""Who may record hospital events, and what a recorded event leaves for review.

A hospital event changes the citizen's stay, and a stay opens the whole record to the
department, overriding objections while it lasts. So only the department's clinicians (hospital
physicians and nurses) and its own system (a member with the integration role, whose token
sends ``$process-message``) record them. An admission of a citizen the department had no
relationship with is logged with its reason and put on the review list next to break-the-glass;
so is every death.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction, AccessReason, ReviewKind
from citizens.models import Citizen
from citizens.services import access_review_flag
from sectors.choices import MembershipRole, OrganisationKind
from sectors.models import Gateway, Organisation

from .choices import HospitalCode

HOSPITAL_EVENT_ROLES = frozenset(
    {MembershipRole.HOSPITAL_PHYSICIAN, MembershipRole.HOSPITAL_NURSE, MembershipRole.INTEGRATION}
)
ADMISSIONS = {HospitalCode.STAA, HospitalCode.STIN}


def may_record_hospital_events(actor: Actor) -> bool:
    return (
        bool(actor.acting)
        and actor.organisation.kind == OrganisationKind.HOSPITAL_DEPARTMENT
        and bool(actor.acting.roles & HOSPITAL_EVENT_ROLES)
    )


def delivered_by_gateway(actor: Actor) -> bool:
    """A hospital notification a gateway delivers for a department (``messaging.fhir.gateway``)."""
    return not actor.acting.memberships and Gateway.objects.filter(user_id=actor.user.pk, is_active=True).exists()


def require_hospital_recorder(actor: Actor) -> Organisation:
    """The acting department, when the actor may record its hospital events."""
    if not actor.acting or actor.organisation.kind != OrganisationKind.HOSPITAL_DEPARTMENT:
        raise PermissionDenied(_("Only hospital departments record hospital events."))
    if not actor.acting.roles & HOSPITAL_EVENT_ROLES and not delivered_by_gateway(actor):
        raise PermissionDenied(
            _("Only hospital physicians and nurses, or the department's system integration, record hospital events.")
        )
    return actor.organisation


def hospital_event_log(
    *, actor: Actor, citizen: Citizen, code: str, occurred_at: datetime.datetime, had_relationship: bool
) -> None:
    """The access-log entry of a recorded event; an admission without an earlier relationship
    and a death are flagged for review as well."""
    when = timezone.localtime(occurred_at).strftime("%d-%m-%Y %H:%M")
    event = f"{code} ({HospitalCode(code).label}), {when}"
    unrelated_admission = code in ADMISSIONS and not had_relationship
    reason_text = ""
    if unrelated_admission:
        reason_text = _("%(event)s: admission of a citizen the department had no relationship with.") % {"event": event}
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=f"hospital event {code}",
        reason=AccessReason.HOSPITAL_ADMISSION if unrelated_admission else "",
        reason_text=reason_text,
    )
    if unrelated_admission:
        access_review_flag(actor=actor, citizen=citizen, kind=ReviewKind.ADMISSION, reason=reason_text)
    elif code == HospitalCode.MORS:
        access_review_flag(
            actor=actor,
            citizen=citizen,
            kind=ReviewKind.DEATH,
            reason=_("%(event)s: death recorded.") % {"event": event},
        )
