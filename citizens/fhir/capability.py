"""``/fhir/metadata``: the CapabilityStatement, written from the registry the views serve from,
so every type, interaction and search parameter listed is one that answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from . import registry

FHIR_VERSION = "4.0.1"
# Common and result parameters every type takes (search.RESULT_PARAMS that a client sets).
COMMON_PARAMS = [
    {"name": "_id", "type": "token", "documentation": "The resource's id; several separated by commas."},
]
RELEASE_DATE = "2026-12-07T00:00:00+01:00"


def _search_params(kind: registry.ResourceType) -> list[dict[str, Any]]:
    return [
        *COMMON_PARAMS,
        *(
            {
                "name": p.name,
                "type": p.kind,
                "documentation": f"{p.documentation} Required." if p.name in kind.required else p.documentation,
            }
            for p in kind.params
        ),
    ]


def _resource(kind: registry.ResourceType) -> dict[str, Any]:
    interactions = [{"code": "read"}]
    if kind.search:
        interactions.append({"code": "search-type"})
    if kind.create is not None:
        interactions.append({"code": "create"})
    resource: dict[str, Any] = {"type": kind.name, "documentation": kind.description}
    if kind.profile:
        resource["supportedProfile"] = [kind.profile]
    resource["interaction"] = interactions
    resource["versioning"] = "no-version"
    resource["readHistory"] = False
    resource["updateCreate"] = False
    if kind.includes:
        resource["searchInclude"] = [f"{kind.name}:{i.param}" for i in kind.includes]
    revincludes = [
        f"{other.name}:{param.name}"
        for other in registry.all_types()
        for param in other.params
        if kind.name in getattr(param, "targets", ())
    ]
    if revincludes:
        resource["searchRevInclude"] = revincludes
    if kind.search:
        resource["searchParam"] = _search_params(kind)
    return resource


def capability_statement(base: str) -> dict[str, Any]:
    types = registry.all_types()
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": (
            "Every read and search goes through the portal's access policy (the acting organisation's "
            "care relationships) and is written to the access log; what the organisation may not see "
            "answers 404 on read and is left out of searches. Searches take _count (at most "
            f"{getattr(settings, 'FHIR_MAX_COUNT', 500)}), _offset, _sort, _summary=count, _include and "
            "_revinclude; total is left out above the count cap."
        ),
        "security": {
            "cors": False,
            "service": [{"text": "Token"}],
            "description": (
                "Integrations send Authorization: Token <key>, browsers their session (reads only). "
                "X-Acting-Organisation: <organisation id> chooses the organisation acted for."
            ),
        },
        "resource": [_resource(kind) for kind in types],
    }
    if any(kind.create is not None for kind in types):
        rest["interaction"] = [{"code": "transaction", "documentation": "A transaction Bundle of Observations."}]
    return {
        "resourceType": "CapabilityStatement",
        "id": "smartcare",
        "url": f"{base}/metadata",
        "name": "SmartCare",
        "title": "SmartCare FHIR R4 API",
        "status": "active",
        "date": RELEASE_DATE,
        "publisher": "SmartCare",
        "kind": "instance",
        "software": {"name": "SmartCare"},
        "implementation": {"description": "SmartCare, cross-sector care coordination", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json", "xml"],
        "rest": [rest],
    }
