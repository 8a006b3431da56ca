"""Who may do what with a citizen's data: the role and relationship rules, kept in one place.

Services call the ``require_*`` helpers, which raise ``PermissionDenied`` (pages and the API answer
403); pages call the matching ``may_*`` helper only to hide what the user cannot do. A rule lives
here once, so a page, the API, a task or the admin cannot apply a different one.

Which citizens an organisation sees at all is the access gate (``citizens.access``); these rules
come on top of it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from sectors.choices import OrganisationKind
from sectors.models import Organisation

from .access import BREAK_THE_GLASS_ROLES, Actor, access_reason, organisation_sees, organisations_seeing
from .models import Citizen

# Limits and monitoring schedules are clinical decisions: the licensed clinicians (the same roles
# that may break the glass) make them; assistants, coordinators and administrators do not.
THRESHOLD_ROLES = BREAK_THE_GLASS_ROLES
REGISTERING_KINDS = frozenset({OrganisationKind.GP_CLINIC, OrganisationKind.MUNICIPALITY})


def may_set_thresholds(actor: Actor) -> bool:
    """Whether the actor sets a citizen's limits and monitoring schedules."""
    return bool(actor.acting and actor.acting.roles & THRESHOLD_ROLES)


def require_set_thresholds(actor: Actor) -> None:
    if not may_set_thresholds(actor):
        raise PermissionDenied(_("Only clinicians set thresholds and monitoring schedules."))


def may_break_the_glass(actor: Actor) -> bool:
    return bool(actor.acting and actor.acting.roles & BREAK_THE_GLASS_ROLES)


def require_break_the_glass(actor: Actor) -> None:
    if not may_break_the_glass(actor):
        raise PermissionDenied(_("Only clinicians can break the glass."))


def may_register_citizens(actor: Actor) -> bool:
    """Whether the acting organisation registers and edits citizens."""
    return bool(actor.acting) and actor.organisation.kind in REGISTERING_KINDS


def require_register_citizens(actor: Actor) -> None:
    if not may_register_citizens(actor):
        raise PermissionDenied(_("Only GP clinics and municipalities register and edit citizens."))


def may_monitor(organisation: Organisation | None, citizen: Citizen) -> bool:
    """Whether the organisation may follow a citizen's measurements (receive their alerts): only
    one with a care relationship with the citizen, since an alert shows the measurement. A
    person's break-the-glass access is no relationship of the organisation's."""
    return organisation is not None and organisation_sees(organisation, citizen)


def monitoring_organisations(organisations: list[Organisation], citizen: Citizen) -> set[int]:
    """The ids of those organisations that ``may_monitor`` the citizen, in a fixed number of queries."""
    return organisations_seeing(citizen, organisations)


def may_merge_citizens(actor: Actor) -> bool:
    """Whether the actor merges two registrations of one person: a superuser or an organisation's
    (or the region's) administrator. Which citizens an organisation's administrator may merge is
    still the gate's answer (``require_merge_citizens``)."""
    return bool(getattr(actor.user, "is_superuser", False) or (actor.acting and actor.acting.is_organisation_admin))


def require_merge_citizens(actor: Actor, *citizens: Citizen) -> None:
    """A superuser and the region's administrators merge any registrations (they look after the
    region's registry, where a duplicate may lie outside every organisation's care); an
    organisation's administrator only citizens the organisation sees (the gate)."""
    if not may_merge_citizens(actor):
        raise PermissionDenied(_("Only administrators merge citizens."))
    if getattr(actor.user, "is_superuser", False) or actor.organisation.kind == OrganisationKind.REGION:
        return
    if not all(access_reason(actor, citizen) is not None for citizen in citizens):
        raise PermissionDenied(_("Only administrators merge citizens."))
