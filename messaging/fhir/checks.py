"""Rules about a bundle that ``$process-message`` checks before anything is created: no two
entries that a reference cannot tell apart, organisations whose SOR code and GLN name the same
organisation, and no value longer than the portal keeps (refused, never cut short)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from citizens.models import Citizen
from sectors.models import Organisation

from .errors import ELEMENT_TOO_LONG, Reject


def check_unique_entries(data: dict[str, Any]) -> None:
    """bdl-7: a fullUrl appears once in a message bundle; and so does a resource type and id, or a
    reference ``Type/id`` could mean either entry."""
    full_urls: set[str] = set()
    typed_ids: set[tuple[str, str]] = set()
    for entry in data.get("entry") or []:
        resource = entry.get("resource") or {}
        full_url = entry.get("fullUrl")
        typed_id = (resource.get("resourceType"), resource.get("id"))
        if (full_url and full_url in full_urls) or (typed_id[1] and typed_id in typed_ids):
            raise Reject(
                "MSG_DUPLICATE_ID",
                _("Two entries of the bundle have the same fullUrl, or the same resource type and id."),
                "duplicate",
                store=False,
            )
        if full_url:
            full_urls.add(full_url)
        if typed_id[1]:
            typed_ids.add(typed_id)


class IdentifierConflict(Exception):
    """The SOR code and the GLN name different organisations (or one the portal knows otherwise)."""


def organisation_identified(sor: str | None, gln: str | None, queryset: QuerySet[Organisation]) -> Organisation | None:
    """The organisation in ``queryset`` that the identifiers given name, all of them: None when
    none does; ``IdentifierConflict`` when the organisation one of them finds has another value for
    the other (a message to or from it could be meant for someone else)."""
    found = (queryset.filter(sor_code=sor).first() if sor else None) or (
        queryset.filter(gln=gln).first() if gln else None
    )
    if found is None:
        return None
    if (sor and found.sor_code != sor) or (gln and found.gln != gln):
        raise IdentifierConflict
    return found


def check_length(model: type[Model], field: str, value: str, what: str) -> None:
    """``value`` fits the model field it is kept in."""
    limit = model._meta.get_field(field).max_length
    if limit is not None and len(value or "") > limit:
        raise Reject(
            ELEMENT_TOO_LONG,
            _("%(what)s is longer than the %(limit)d characters the portal keeps.") % {"what": what, "limit": limit},
            "too-long",
        )


def check_patient_lengths(patients: list[dict[str, Any]]) -> None:
    """A hospital notification keeps the Patient's name and address on the citizen."""
    for patient in patients:
        name = next(iter(patient.get("name") or []), {})
        address = next(iter(patient.get("address") or []), {})
        check_length(Citizen, "first_name", " ".join(name.get("given") or []).strip(), "Patient.name.given")
        check_length(Citizen, "last_name", (name.get("family") or "").strip(), "Patient.name.family")
        check_length(Citizen, "street", ", ".join(address.get("line") or []).strip(), "Patient.address.line")
        check_length(Citizen, "postal_code", (address.get("postalCode") or "").strip(), "Patient.address.postalCode")
        check_length(Citizen, "city", (address.get("city") or "").strip(), "Patient.address.city")
