"""Building blocks shared by the exporter and the receiver: organisations, patients, references.

Resources are built as plain dicts and validated once, as a whole Bundle, by
``fhir.resources.R4B`` (MedCom is R4; the top-level models of fhir.resources are R5)."""

from __future__ import annotations

import uuid
from typing import Any

from citizens.models import Citizen
from sectors.models import Organisation
from smartcare.links import absolute_url

from . import codes

# Stable ids for resources that have no id of their own in the portal (uuid5 of the portal's key).
NAMESPACE = uuid.UUID("6f1d3c52-8e0b-4f0e-9d7c-5b2a1c9e4d10")


def stable_id(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def stable_uuid4(*parts: Any) -> str:
    """A stable id in the form of a UUID version 4, for the identifiers MedCom requires to be
    UUIDv4 (``medcom-uuidv4``): the same message always exports the same identifiers."""
    return str(uuid.UUID(bytes=uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)).bytes, version=4))


def base_url() -> str:
    return absolute_url("/fhir")


def full_url(resource_type: str, resource_id: str) -> str:
    return f"{base_url()}/{resource_type}/{resource_id}"


def reference(resource_type: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def organization(org: Organisation) -> dict[str, Any]:
    """A MedComMessagingOrganization: SOR and GLN (EAN) identifiers, name."""
    identifiers = [{"system": codes.SOR, "value": org.sor_code}]
    if org.gln:
        identifiers.append({"system": codes.GLN, "value": org.gln})
    return {
        "resourceType": "Organization",
        "id": stable_id("organisation", org.pk),
        "identifier": identifiers,
        "name": org.name,
    }


def patient(citizen: Citizen, *, deceased: bool | None = None) -> dict[str, Any]:
    """A MedComCorePatient: the CPR number as official identifier, or without one the replacement
    numbers with their issuers' systems; name (an unknown family name as a data-absent-reason,
    as MedCom requires the family name), address."""
    if citizen.cpr:
        identifiers = [{"system": codes.CPR, "value": citizen.cpr}]
    else:
        identifiers = [{"system": i.system, "value": i.value} for i in citizen.identifiers.all()]
    name: dict[str, Any] = {"use": "official", "family": citizen.last_name, "given": citizen.first_name.split()}
    if citizen.family_name_unknown:
        del name["family"]
        name["_family"] = {"extension": [{"url": codes.DATA_ABSENT_REASON, "valueCode": "unknown"}]}
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(citizen.pk),
        "identifier": identifiers,
        "name": [name],
    }
    if citizen.street or citizen.postal_code:
        resource["address"] = [
            {
                "line": [citizen.street] if citizen.street else [],
                "postalCode": citizen.postal_code,
                "city": citizen.city,
            }
        ]
    if deceased is not None:
        resource["deceasedBoolean"] = deceased
    return resource


def entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": full_url(resource["resourceType"], resource["id"]), "resource": resource}


def identifier_of(resource: Any, system: str) -> str | None:
    """The value of the resource's identifier in ``system`` (R4B model or dict)."""
    identifiers = resource.get("identifier") if isinstance(resource, dict) else getattr(resource, "identifier", None)
    for ident in identifiers or []:
        ident_system = ident.get("system") if isinstance(ident, dict) else ident.system
        if ident_system == system:
            return ident.get("value") if isinstance(ident, dict) else ident.value
    return None
