"""Organization: the directory (the SOR tree), with SOR and EAN (GLN) identifiers. Not health
data: every signed-in user and integration reads it, as they read the directory page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from sectors.choices import OrganisationKind
from sectors.models import LocationNumber, Organisation

from ..codes import GLN, ORGANISATION_KIND, SOR
from ..params import ReferenceParam, StringParam, Token, TokenParam, key_int, token_codes
from ..registry import ResourceType


def organization(org: Organisation, extra_glns: Sequence[str] = ()) -> dict[str, Any]:
    identifiers = [{"use": "official", "system": SOR, "value": org.sor_code}]
    identifiers += [{"system": GLN, "value": gln} for gln in dict.fromkeys([org.gln, *extra_glns]) if gln]
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(org.pk),
        "identifier": identifiers,
        "active": org.is_active,
        "type": [
            {
                "coding": [
                    {"system": ORGANISATION_KIND, "code": org.kind, "display": str(OrganisationKind(org.kind).label)}
                ]
            }
        ],
        "name": org.name,
    }
    telecom = [{"system": "phone", "value": org.phone}] if org.phone else []
    if org.email:
        telecom.append({"system": "email", "value": org.email})
    if telecom:
        resource["telecom"] = telecom
    if org.street or org.postal_code or org.city:
        address: dict[str, Any] = {"country": "DK"}
        if org.street:
            address["line"] = [org.street]
        if org.postal_code:
            address["postalCode"] = org.postal_code
        if org.city:
            address["city"] = org.city
        resource["address"] = [address]
    if org.parent is not None:
        resource["partOf"] = {"reference": f"Organization/{org.parent_id}", "display": org.parent.name}
    return resource


def build(rows: Sequence[Organisation]) -> list[dict[str, Any]]:
    extra: dict[int, list[str]] = {}
    for org_id, gln in LocationNumber.objects.filter(organisation__in=rows).values_list("organisation_id", "gln"):
        extra.setdefault(org_id, []).append(gln)
    return [organization(org, extra.get(org.pk, ())) for org in rows]


def _identifier(token: Token) -> Q:
    if token.code is None:
        return Q(pk__in=[]) if token.system not in (SOR, GLN) else Q()
    by_sor = Q(sor_code=token.code)
    by_gln = Q(gln=token.code) | Q(pk__in=LocationNumber.objects.filter(gln=token.code).values("organisation_id"))
    return {SOR: by_sor, GLN: by_gln, None: by_sor | by_gln}.get(token.system, Q(pk__in=[]))


def _kind(token: Token) -> Q:
    return Q(kind__in=token_codes(token, ORGANISATION_KIND, OrganisationKind.values))


def _active(token: Token) -> Q:
    return Q(is_active={"true": True, "false": False}[token.code]) if token.code in ("true", "false") else Q(pk__in=[])


ORGANIZATION = ResourceType(
    name="Organization",
    description="The portal's organisations and the rest of the national SOR directory.",
    rows=lambda: Organisation.objects.select_related("parent"),
    build=build,
    parse_id=key_int,
    citizen=None,
    params=(
        TokenParam(
            "identifier",
            "SOR code (urn:oid:1.2.208.176.1.1|…) or EAN/GLN (https://www.gs1.org/gln|…).",
            match=_identifier,
        ),
        StringParam("name", "The start of the name (:exact, :contains).", fields=("name",)),
        TokenParam("type", f"The kind of unit ({ORGANISATION_KIND}).", match=_kind),
        ReferenceParam(
            "partof",
            "The unit above (Organization/<id>).",
            field_name="parent_id",
            targets=("Organization",),
            convert=key_int,
        ),
        TokenParam("active", "true or false.", match=_active),
    ),
    sorts={"name": ("name",)},
    default_order=("name",),
    scope=lambda actor, rows: rows if actor.user.is_authenticated else rows.none(),
)
