"""Practitioner (the portal's staff) and PractitionerRole (their memberships: an organisation and
a role, for a period). Not health data: as the directory, every signed-in user and integration
reads them, so that a care team's or an access-log entry's Practitioner can be resolved. System
accounts (integration memberships) are no practitioners and are left out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from sectors.choices import MembershipRole
from sectors.models import Membership, User

from ..codes import MEMBERSHIP_ROLE
from ..params import ReferenceParam, StringParam, Token, TokenParam, key_int, token_codes
from ..registry import Include, ResourceType

PRACTITIONER_ROLES = [role for role in MembershipRole.values if role != MembershipRole.INTEGRATION]


def _signed_in(actor, rows):
    return rows if actor.user.is_authenticated else rows.none()


def practitioner(user: User) -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official", "text": user.get_full_name() or user.email}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = user.first_name.split()
    if user.title:
        name["suffix"] = [user.title]
    return {"resourceType": "Practitioner", "id": str(user.pk), "active": user.is_active, "name": [name]}


def _practitioner_rows():
    practising = Membership.objects.filter(user_id=OuterRef("pk"), role__in=PRACTITIONER_ROLES)
    return User.objects.filter(Exists(practising))


def _active(token: Token) -> Q:
    return Q(is_active={"true": True, "false": False}[token.code]) if token.code in ("true", "false") else Q(pk__in=[])


PRACTITIONER = ResourceType(
    name="Practitioner",
    description="The portal's staff (people with a membership of an organisation).",
    rows=_practitioner_rows,
    build=lambda rows: [practitioner(user) for user in rows],
    parse_id=key_int,
    citizen=None,
    params=(
        StringParam(
            "name", "The start of a given or family name (:exact, :contains).", fields=("first_name", "last_name")
        ),
        StringParam("family", "The start of the family name.", fields=("last_name",)),
        TokenParam("active", "true or false.", match=_active),
    ),
    sorts={"name": ("last_name", "first_name")},
    default_order=("last_name", "first_name"),
    scope=_signed_in,
)


def _is_current(membership: Membership) -> bool:
    today = timezone.localdate()
    return membership.start_date <= today and (membership.end_date is None or membership.end_date >= today)


def practitioner_role(membership: Membership) -> dict[str, Any]:
    period = {"start": membership.start_date.isoformat()}
    if membership.end_date:
        period["end"] = membership.end_date.isoformat()
    role = MembershipRole(membership.role)
    return {
        "resourceType": "PractitionerRole",
        "id": str(membership.pk),
        "active": _is_current(membership) and membership.user.is_active,
        "period": period,
        "practitioner": {"reference": f"Practitioner/{membership.user_id}", "display": membership.user.get_full_name()},
        "organization": {
            "reference": f"Organization/{membership.organisation_id}",
            "display": membership.organisation.name,
        },
        "code": [{"coding": [{"system": MEMBERSHIP_ROLE, "code": role.value, "display": str(role.label)}]}],
    }


def _role(token: Token) -> Q:
    return Q(role__in=token_codes(token, MEMBERSHIP_ROLE, PRACTITIONER_ROLES))


def _role_active(token: Token) -> Q:
    today = timezone.localdate()
    current = Q(start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gte=today)) & Q(user__is_active=True)
    return {"true": current, "false": ~current}.get(token.code or "", Q(pk__in=[]))


def _build_roles(rows: Sequence[Membership]) -> list[dict[str, Any]]:
    return [practitioner_role(m) for m in rows]


PRACTITIONER_ROLE = ResourceType(
    name="PractitionerRole",
    description="Memberships: a practitioner's role at an organisation, for a period.",
    rows=lambda: Membership.objects.filter(role__in=PRACTITIONER_ROLES).select_related("user", "organisation"),
    build=_build_roles,
    parse_id=key_int,
    citizen=None,
    params=(
        ReferenceParam(
            "organization",
            "The organisation (Organization/<id>).",
            field_name="organisation_id",
            targets=("Organization",),
            convert=key_int,
        ),
        ReferenceParam(
            "practitioner",
            "The person (Practitioner/<id>).",
            field_name="user_id",
            targets=("Practitioner",),
            convert=key_int,
        ),
        TokenParam("role", f"The role ({MEMBERSHIP_ROLE}|gp, hospital_nurse, …).", match=_role),
        TokenParam("active", "true: current memberships; false: ended or not yet begun.", match=_role_active),
    ),
    sorts={"role": ("role",)},
    default_order=("organisation__name", "user__last_name"),
    scope=_signed_in,
    includes=(
        Include("practitioner", "Practitioner", lambda rows: Q(pk__in=[m.user_id for m in rows])),
        Include("organization", "Organization", lambda rows: Q(pk__in=[m.organisation_id for m in rows])),
    ),
)
