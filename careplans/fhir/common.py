"""Pieces the care-plan resources share: references, periods and the patient parameters."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import Q

from citizens.fhir.params import ReferenceParam, Token, key_uuid, token_codes
from citizens.fhir.registry import Include
from sectors.models import Organisation, User


def reference(kind: str, pk: Any, display: str = "") -> dict[str, str]:
    found = {"reference": f"{kind}/{pk}"}
    if display:
        found["display"] = display
    return found


def organisation_reference(org: Organisation) -> dict[str, str]:
    return reference("Organization", org.pk, org.name)


def person_reference(user: User) -> dict[str, str]:
    """A user as a Practitioner reference; the display is the name, never the e-mail address."""
    return reference("Practitioner", user.pk, user.get_full_name())


def period(start: datetime.date | None, end: datetime.date | None) -> dict[str, str]:
    found = {}
    if start is not None:
        found["start"] = start.isoformat()
    if end is not None:
        found["end"] = end.isoformat()
    return found


def patient_params(field_name: str) -> tuple[ReferenceParam, ReferenceParam]:
    """``patient`` and ``subject`` (FHIR has both on these types; both name the citizen). A
    ``patient`` parameter targeting Patient also makes ``_revinclude=<Type>:patient`` work from a
    Patient search."""
    return (
        ReferenceParam(
            "patient",
            "The citizen (Patient/<id>).",
            field_name=field_name,
            targets=("Patient",),
            convert=key_uuid,
        ),
        ReferenceParam(
            "subject",
            "The citizen (Patient/<id>), as patient.",
            field_name=field_name,
            targets=("Patient",),
            convert=key_uuid,
        ),
    )


def status_match(field_name: str, system: str, stored_of: dict[str, list[str]]) -> Callable[[Token], Q]:
    """A token parameter over FHIR codes that stand for one or more stored statuses."""

    def match(token: Token) -> Q:
        found = token_codes(token, system, stored_of)
        return Q(**{f"{field_name}__in": [stored for group in found for stored in group]})

    return match


# The plan a ServiceRequest or Task belongs to: searched and included the same way.
BASED_ON = ReferenceParam(
    "based-on", "The care plan (CarePlan/<id>).", field_name="care_plan_id", targets=("CarePlan",), convert=key_uuid
)
INCLUDE_PLAN = Include("based-on", "CarePlan", lambda rows: Q(pk__in=[row.care_plan_id for row in rows]))
