"""The organisation a user is acting for.

A person may work for several organisations (a GP who is also a care coordinator in a
municipality). Everything they see and do is on behalf of exactly one of them at a time: the
browser remembers the choice in the session, integrations name it in the
``X-Acting-Organisation`` header. A choice is honoured only while the user holds an active
membership there, so revoking a membership revokes access at the next request.

A requested organisation is never swapped for another: a value that is not an organisation id is
refused as a bad request (400), an organisation without an active membership as forbidden (403),
on pages, in the API and in the switcher alike. Only a choice remembered in the session that has
since been revoked is dropped, and the user acts for their first organisation again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .choices import CLINICAL_ROLES, MembershipRole
from .identity import Identity, identity_for, identity_get
from .models import Membership, Organisation

SESSION_KEY = "acting_organisation_id"
HEADER = "HTTP_X_ACTING_ORGANISATION"
_CACHE_ATTR = "_smartcare_acting"


class ActingOrganisationInvalid(BadRequest):
    """The requested organisation is not an organisation id (400)."""

    field = "X-Acting-Organisation"  # where the API's error body puts the message

    def __init__(self) -> None:
        super().__init__(_("The organisation to act for must be given as an organisation id."))


class ActingOrganisationRefused(PermissionDenied):
    """The user holds no active membership in the requested organisation (403)."""

    def __init__(self) -> None:
        super().__init__(_("You have no active membership of the organisation you asked to act for."))


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


def resolve(user, requested_organisation_id: int | str | None, *, identity: Identity | None = None) -> Acting:
    """The user's first organisation (by name) when none is requested, else the requested one.

    Raises ``ActingOrganisationInvalid`` for a value that is not an id and
    ``ActingOrganisationRefused`` for an organisation without an active membership. ``identity``
    is the user's, when the caller has it already.
    """
    if not getattr(user, "is_authenticated", False):
        return NOBODY
    chosen_id = None if requested_organisation_id is None else _organisation_id(requested_organisation_id)
    if identity is None or identity.user.pk != user.pk:
        identity = identity_get(user.pk)
    memberships = identity.active_memberships() if identity is not None else []
    if chosen_id is None:
        if not memberships:
            return NOBODY
        chosen_id = memberships[0].organisation_id
    mine = tuple(m for m in memberships if m.organisation_id == chosen_id)
    if not mine:
        raise ActingOrganisationRefused
    return Acting(organisation=mine[0].organisation, memberships=mine)


def _organisation_id(value: int | str) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) < 1:
        raise ActingOrganisationInvalid
    return int(text)


def acting_for(request: HttpRequest) -> Acting:
    """The acting organisation of this request (resolved once per request).

    A refused header fails the request; the rest of it (the error page) acts for nobody.
    """
    user = request.user
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None and cached[0] == user.pk:
        return cached[1]
    setattr(request, _CACHE_ATTR, (user.pk, NOBODY))
    requested = request.META.get(HEADER)
    identity = identity_for(request)
    if requested is not None:
        acting = resolve(user, requested, identity=identity)
    else:
        acting = _from_session(request, user, identity)
    setattr(request, _CACHE_ATTR, (user.pk, acting))
    return acting


def _from_session(request: HttpRequest, user, identity: Identity | None) -> Acting:
    """The switcher's remembered choice; one revoked since is forgotten."""
    session = getattr(request, "session", None)
    remembered = session.get(SESSION_KEY) if session is not None else None
    if session is not None and remembered is not None:
        try:
            return resolve(user, remembered, identity=identity)
        except (ActingOrganisationInvalid, ActingOrganisationRefused):
            del session[SESSION_KEY]
    return resolve(user, None, identity=identity)


def acting_set(request: HttpRequest, *, organisation_id: int) -> Acting:
    """Switch the browser session to another organisation of the user's own.

    Raises ``ActingOrganisationRefused`` (403) when the user has no active membership there: the
    switcher only offers the user's own organisations, so anything else is a forged request.
    """
    acting = resolve(request.user, organisation_id, identity=identity_for(request))
    request.session[SESSION_KEY] = organisation_id
    setattr(request, _CACHE_ATTR, (request.user.pk, acting))
    return acting
