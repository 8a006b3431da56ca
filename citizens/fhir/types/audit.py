"""AuditEvent: the access log of one patient, for the administrators of the organisations the
citizen belongs to (through the gate) and the region's, who look after the whole log. Reading it
is itself logged ("who has seen who has seen my data")."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from sectors.choices import OrganisationKind
from smartcare.datetimes import rfc3339

from ...access import Actor, citizen_visible
from ...accesslog_models import AccessLogEntry
from ...choices import AccessAction, AccessReason
from ..codes import ACCESS_ACTION, ACCESS_REASON
from ..params import DateParam, ReferenceParam, Token, TokenParam, key_int, token_codes
from ..registry import ResourceType
from .clinical import patient_param

AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
# FHIR's AuditEventAction: what was done (C create, R read, U update, E execute).
ACTIONS = {
    AccessAction.CREATE: "C",
    AccessAction.UPDATE: "U",
    AccessAction.CONSENT: "U",
    AccessAction.MERGE: "U",
    AccessAction.REGISTER_ATTEMPT: "E",
}


def audit_event(entry: AccessLogEntry) -> dict[str, Any]:
    agent: dict[str, Any] = {"requestor": True, "who": {"display": entry.user_name or "?"}}
    if entry.user_id:
        agent["who"]["reference"] = f"Practitioner/{entry.user_id}"
    if entry.role:
        agent["role"] = [{"text": entry.role}]
    if entry.ip_address:
        agent["network"] = {"address": entry.ip_address, "type": "2"}
    if entry.reason:
        label = str(AccessReason(entry.reason).label) if entry.reason in AccessReason.values else entry.reason
        agent["purposeOfUse"] = [{"coding": [{"system": ACCESS_REASON, "code": entry.reason, "display": label}]}]
        if entry.reason_text:
            agent["purposeOfUse"][0]["text"] = entry.reason_text
    organisation: dict[str, Any] = {"requestor": False, "who": {"display": entry.organisation_name or "?"}}
    if entry.organisation_id:
        organisation["who"]["reference"] = f"Organization/{entry.organisation_id}"
    action = str(AccessAction(entry.action).label) if entry.action in AccessAction.values else entry.action
    return {
        "resourceType": "AuditEvent",
        "id": str(entry.pk),
        "type": {"system": AUDIT_TYPE, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": ACCESS_ACTION, "code": entry.action, "display": action}],
        "action": ACTIONS.get(AccessAction(entry.action), "R") if entry.action in AccessAction.values else "R",
        "recorded": rfc3339(entry.at, timespec="milliseconds"),
        "outcome": "0",
        "agent": [agent, organisation],
        "source": {"observer": {"display": "SmartCare"}},
        "entity": [
            {
                "what": {"reference": f"Patient/{entry.citizen_id}"},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
                "description": entry.detail or action,
            }
        ],
    }


def _scope(actor: Actor, rows: QuerySet) -> QuerySet:
    """Administrators only: the region's for every citizen, an organisation's for the citizens the
    organisation has a relationship with."""
    acting = actor.acting
    if acting.organisation is None or not acting.is_organisation_admin:
        return rows.none()
    if acting.organisation.kind == OrganisationKind.REGION:
        return rows
    return rows.filter(citizen_visible(acting, actor.user, citizen="citizen_id"))


def _subtype(token: Token) -> Q:
    return Q(action__in=token_codes(token, ACCESS_ACTION, AccessAction.values))


AUDIT_EVENT = ResourceType(
    name="AuditEvent",
    description=(
        "The access log of one patient (patient= is required): for the administrators of the citizen's "
        "own organisations and the region's. Reading it is logged."
    ),
    rows=lambda: AccessLogEntry.objects.all(),
    build=lambda rows: [audit_event(entry) for entry in rows],
    parse_id=key_int,
    params=(
        patient_param(),
        DateParam("date", "When, with prefixes.", field_name="at"),
        ReferenceParam(
            "agent", "Who read (Practitioner/<id>).", field_name="user_id", targets=("Practitioner",), convert=key_int
        ),
        TokenParam("subtype", f"What was done ({ACCESS_ACTION}).", match=_subtype),
    ),
    sorts={"date": ("at",)},
    default_order=("-at",),
    gate=False,
    scope=_scope,
    log_action=AccessAction.ACCESS_REPORT,
    required=("patient",),
)
