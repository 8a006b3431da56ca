"""Flag: an alert the portal raised (a measurement outside the limits, a missing measurement),
active until the organisation acknowledges it.

An alert belongs to the organisation it was raised for, as on the alerts work list
(``selectors._organisation_alerts``): the acting organisation reads its own alerts, about citizens
it may see, and no other organisation's, even about the same citizen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet

from citizens.access import Actor
from citizens.fhir.codes import ALERT_KIND, ALERT_SEVERITY, FLAG_CATEGORY, FLAG_OBSERVATION, FLAG_STATUS
from citizens.fhir.params import DateParam, ReferenceParam, Token, TokenParam, key_int, key_uuid, token_codes
from citizens.fhir.registry import Include, ResourceType
from smartcare.datetimes import rfc3339

from ..choices import AlertKind, AlertSeverity
from ..models import Alert

CLINICAL = {"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]}


def flag(alert: Alert) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Flag", "id": str(alert.pk)}
    if alert.observation_id:
        resource["extension"] = [
            {"url": FLAG_OBSERVATION, "valueReference": {"reference": f"Observation/{alert.observation_id}"}}
        ]
    resource["status"] = "active" if alert.acknowledged_at is None else "inactive"
    resource["category"] = [CLINICAL]
    resource["code"] = {
        "coding": [
            {
                "system": ALERT_SEVERITY,
                "code": alert.severity,
                "display": str(AlertSeverity(alert.severity).label),
            },
            {"system": ALERT_KIND, "code": alert.kind, "display": str(AlertKind(alert.kind).label)},
        ],
        "text": alert.message,
    }
    resource["subject"] = {"reference": f"Patient/{alert.citizen_id}"}
    period = {"start": rfc3339(alert.created_at)}
    if alert.acknowledged_at is not None:
        period["end"] = rfc3339(alert.acknowledged_at)
    resource["period"] = period
    resource["author"] = {"reference": f"Organization/{alert.organisation_id}", "display": alert.organisation.name}
    return resource


def build(rows: Sequence[Alert]) -> list[dict[str, Any]]:
    return [flag(alert) for alert in rows]


def own_alerts(actor: Actor, rows: QuerySet) -> QuerySet:
    """The acting organisation's alerts only (the citizen gate applies on top)."""
    return rows.filter(organisation=actor.organisation) if actor.organisation is not None else rows.none()


def _status(token: Token) -> Q:
    wanted = token_codes(token, FLAG_STATUS, ["active", "inactive", "entered-in-error"])
    condition = Q(pk__in=[])
    if "active" in wanted:
        condition |= Q(acknowledged_at__isnull=True)
    if "inactive" in wanted:
        condition |= Q(acknowledged_at__isnull=False)
    return condition


def _citizens(rows: Sequence[Alert]) -> Q:
    return Q(pk__in={row.citizen_id for row in rows})


def _patient_param(name: str) -> ReferenceParam:
    return ReferenceParam(
        name, "The citizen (Patient/<id>).", field_name="citizen_id", targets=("Patient",), convert=key_uuid
    )


FLAG = ResourceType(
    name="Flag",
    description="The acting organisation's alerts: active until acknowledged.",
    rows=lambda: Alert.objects.select_related("organisation"),
    build=build,
    parse_id=key_int,
    params=(
        _patient_param("patient"),
        _patient_param("subject"),
        TokenParam("status", "active (not acknowledged) or inactive (acknowledged).", match=_status),
        DateParam("date", "When it was raised, with prefixes (ge, lt, …).", field_name="created_at"),
    ),
    sorts={"date": ("created_at",)},
    default_order=("-created_at",),
    includes=(Include("patient", "Patient", _citizens), Include("subject", "Patient", _citizens)),
    restrict=own_alerts,
)
