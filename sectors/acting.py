"""The organisation a user is acting for.

A person may work for several organisations (a GP who is also a care coordinator in a
municipality). Everything they see and do is on behalf of exactly one of them at a time: the
browser remembers the choice in the session, integrations name it in the
``X-Acting-Organisation`` header. A choice is honoured only while the user holds an active
membership there, so revoking a membership revokes access at the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .choices import CLINICAL_ROLES, MembershipRole
from .models import Membership, Organisation
from .selectors import user_memberships

SESSION_KEY = "acting_organisation_id"
HEADER = "HTTP_X_ACTING_ORGANISATION"
_CACHE_ATTR = "_smartcare_acting"


@dataclass(frozen=True)
class Acting:
    organisation: Organisation | None
    memberships: tuple[Membership, ...] = field(default_factory=tuple)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(m.role for m in self.memberships)

    @property
    def primary_role(self) -> str | None:
        """The clinical role if there is one: the access log names the role a person acted in."""
        ordered = sorted(self.roles, key=lambda r: (r not in CLINICAL_ROLES, list(MembershipRole.values).index(r)))
        return ordered[0] if ordered else None

    @property
    def is_organisation_admin(self) -> bool:
        return MembershipRole.ORGANISATION_ADMIN in self.roles

    def __bool__(self) -> bool:
        return self.organisation is not None


NOBODY = Acting(organisation=None)


def resolve(user, requested_organisation_id: int | str | None) -> Acting:
    if not getattr(user, "is_authenticated", False):
        return NOBODY
    memberships = list(user_memberships(user=user))
    if not memberships:
        return NOBODY
    chosen_id = None
    if requested_organisation_id not in (None, ""):
        try:
            chosen_id = int(requested_organisation_id)
        except (TypeError, ValueError):
            chosen_id = None
    if chosen_id is None or not any(m.organisation_id == chosen_id for m in memberships):
        chosen_id = memberships[0].organisation_id
    mine = tuple(m for m in memberships if m.organisation_id == chosen_id)
    return Acting(organisation=mine[0].organisation, memberships=mine)


def acting_for(request: HttpRequest) -> Acting:
    """The acting organisation of this request (resolved once per request)."""
    user = request.user
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None and cached[0] == user.pk:
        return cached[1]
    requested = request.META.get(HEADER)
    if requested is None and hasattr(request, "session"):
        requested = request.session.get(SESSION_KEY)
    acting = resolve(user, requested)
    setattr(request, _CACHE_ATTR, (user.pk, acting))
    return acting


def acting_set(request: HttpRequest, *, organisation_id: int) -> Acting:
    """Switch the browser session to another organisation of the user's own.

    Raises PermissionDenied when the user has no active membership there: the switcher only
    offers the user's own organisations, so anything else is a forged request.
    """
    acting = resolve(request.user, organisation_id)
    if not acting or acting.organisation.pk != organisation_id:
        raise PermissionDenied("Not a member of that organisation")
    request.session[SESSION_KEY] = organisation_id
    setattr(request, _CACHE_ATTR, (request.user.pk, acting))
    return acting
