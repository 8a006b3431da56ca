"""CarePlan and CareTeam: a plan, and the organisations and people on it (one team per plan, with
the plan's id). Both are read from the plan rows, so a team is gated and logged as its plan.

A plan's ``category`` is the disease-management programme (forløbsprogram) of each chronic
condition it addresses, coded by the condition's ICD-10 code: what a municipality or hospital
filters plans by ("the COPD plans"). HL7's careplan-category codes are US Core's, so they are not
used. ``addresses`` points at the citizen's Condition (``Condition/<CitizenCondition id>``); a
condition the citizen's list lacks is named by display only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch, Q

from citizens.fhir.codes import CARE_TEAM_ROLE, CARE_TEAM_STATUS, ICD10, REQUEST_INTENT, REQUEST_STATUS
from citizens.fhir.params import DateParam, Token, TokenParam, key_uuid, token_codes
from citizens.fhir.registry import Include, ResourceType
from citizens.models import CitizenCondition
from smartcare.datetimes import rfc3339

from ..choices import CarePlanIntent, CarePlanStatus, CareTeamRole
from ..models import Activity, CarePlan, CareTeamParticipant, Goal
from .common import organisation_reference, patient_params, period, person_reference, reference, status_match
from .plan_pages import plans_of_citizen

# A care team's status follows its plan's (FHIR care-team-status).
TEAM_STATUS = {
    CarePlanStatus.DRAFT: "proposed",
    CarePlanStatus.ACTIVE: "active",
    CarePlanStatus.ON_HOLD: "suspended",
    CarePlanStatus.REVOKED: "inactive",
    CarePlanStatus.COMPLETED: "inactive",
    CarePlanStatus.ENTERED_IN_ERROR: "entered-in-error",
}
PLANS_OF_TEAM_STATUS: dict[str, list[str]] = {}
for _plan_status, _team_status in TEAM_STATUS.items():
    PLANS_OF_TEAM_STATUS.setdefault(_team_status, []).append(_plan_status)


def plan_rows() -> Any:
    return CarePlan.objects.select_related("coordinating_organisation").prefetch_related(
        "conditions",
        Prefetch("participants", queryset=CareTeamParticipant.objects.select_related("organisation")),
        Prefetch("goals", queryset=Goal.objects.only("pk", "care_plan_id", "description")),
        Prefetch("activitys", queryset=Activity.objects.only("pk", "care_plan_id", "description")),
    )


def _citizen_conditions(plans: Sequence[CarePlan]) -> dict[tuple[Any, int], int]:
    """The citizens' condition rows the plans address, by (citizen, condition): one query, or none
    when the plans were read with them (``plan_pages``)."""
    read: list[dict[tuple[Any, int], int] | None] = [getattr(plan, "citizen_conditions", None) for plan in plans]
    if all(found is not None for found in read):
        return {key: pk for found in read if found is not None for key, pk in found.items()}
    citizens = {plan.citizen_id for plan in plans}
    conditions = {condition.pk for plan in plans for condition in plan.conditions.all()}
    if not conditions:
        return {}
    rows = CitizenCondition.objects.filter(citizen_id__in=citizens, condition_id__in=conditions)
    return {(citizen, condition): pk for citizen, condition, pk in rows.values_list("citizen_id", "condition_id", "pk")}


def careplan(plan: CarePlan, citizen_conditions: dict[tuple[Any, int], int]) -> dict[str, Any]:
    conditions = list(plan.conditions.all())
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "meta": {"lastUpdated": rfc3339(plan.updated_at)},
        "status": plan.status,
        "intent": plan.intent,
    }
    if conditions:
        resource["category"] = [
            {"coding": [{"system": ICD10, "code": c.icd10_code, "display": c.name_en}], "text": c.name_da}
            for c in conditions
        ]
    resource["title"] = plan.title
    if plan.description:
        resource["description"] = plan.description
    resource["subject"] = reference("Patient", plan.citizen_id)
    resource["period"] = period(plan.period_start, plan.period_end)
    resource["created"] = rfc3339(plan.created_at)
    resource["author"] = organisation_reference(plan.coordinating_organisation)
    teams = {p.organisation_id: p.organisation for p in plan.participants.all()}
    if teams:
        resource["contributor"] = [organisation_reference(org) for org in teams.values()]
    resource["careTeam"] = [reference("CareTeam", plan.pk)]
    if conditions:
        addresses = []
        for condition in conditions:
            pk = citizen_conditions.get((plan.citizen_id, condition.pk))
            addresses.append(
                reference("Condition", pk, condition.name_da)
                if pk
                else {"display": f"{condition.icd10_code} {condition.name_da}"}
            )
        resource["addresses"] = addresses
    goals = list(plan.goals.all())
    if goals:
        resource["goal"] = [reference("Goal", goal.pk) for goal in goals]
    activities = list(plan.activitys.all())
    if activities:
        resource["activity"] = [
            {"reference": reference("ServiceRequest", activity.pk, activity.description[:200])}
            for activity in activities
        ]
    return resource


def build_plans(rows: Sequence[CarePlan]) -> list[dict[str, Any]]:
    citizen_conditions = _citizen_conditions(rows)
    return [careplan(plan, citizen_conditions) for plan in rows]


def _category(token: Token) -> Q:
    """Plans addressing a condition with this ICD-10 code (``J44``, ``E11.9``), each plan once."""
    if token.system not in (None, ICD10):
        return Q(pk__in=[])
    through = CarePlan.conditions.through.objects.all()
    if token.code is not None:
        through = through.filter(condition__icd10_code=token.code.upper())
    return Q(pk__in=through.values("careplan_id"))


def _intent(token: Token) -> Q:
    return Q(intent__in=token_codes(token, REQUEST_INTENT, CarePlanIntent.values))


def _plan_ids(rows: Sequence[CarePlan]) -> list[Any]:
    return [plan.pk for plan in rows]


CARE_PLAN = ResourceType(
    name="CarePlan",
    description=(
        "The shared care plans of the citizens the acting organisation has a care relationship with. "
        "category: the ICD-10 code of each chronic condition the plan addresses (its disease-management "
        "programme); addresses: the citizen's Condition; activity: a reference to a ServiceRequest per "
        "activity, whose performer is the organisation responsible for it."
    ),
    rows=plan_rows,
    build=build_plans,
    parse_id=key_uuid,
    citizen="citizen_id",
    citizen_page=plans_of_citizen,
    params=(
        *patient_params("citizen_id"),
        TokenParam(
            "status",
            f"draft, active, on-hold, revoked, completed or entered-in-error ({REQUEST_STATUS}).",
            match=status_match("status", REQUEST_STATUS, {s: [s] for s in CarePlanStatus.values}),
        ),
        TokenParam("intent", "proposal, plan, order or option.", match=_intent),
        TokenParam(
            "category",
            f"The ICD-10 code of a condition the plan addresses ({ICD10}|J44).",
            match=_category,
        ),
        DateParam(
            "date",
            "The start of the plan's period, with prefixes (ge, lt, …).",
            field_name="period_start",
            is_date=True,
        ),
    ),
    sorts={"date": ("period_start",), "title": ("title",)},
    default_order=("-period_start", "title"),
    includes=(
        Include("patient", "Patient", lambda rows: Q(pk__in=[plan.citizen_id for plan in rows])),
        Include("subject", "Patient", lambda rows: Q(pk__in=[plan.citizen_id for plan in rows])),
        Include("goal", "Goal", lambda rows: Q(care_plan_id__in=_plan_ids(rows))),
        Include("care-team", "CareTeam", lambda rows: Q(pk__in=_plan_ids(rows))),
        Include("activity-reference", "ServiceRequest", lambda rows: Q(care_plan_id__in=_plan_ids(rows))),
    ),
)


# --- CareTeam ---------------------------------------------------------------------------------------


def _role(code: str) -> list[dict[str, Any]]:
    label = str(CareTeamRole(code).label)
    return [{"coding": [{"system": CARE_TEAM_ROLE, "code": code, "display": label}], "text": label}]


def _participant(participant: CareTeamParticipant) -> dict[str, Any]:
    found: dict[str, Any] = {"role": _role(participant.role)}
    if participant.person is not None:
        # onBehalfOf only with a Practitioner as member (FHIR's ctm-1).
        found["member"] = person_reference(participant.person)
        found["onBehalfOf"] = organisation_reference(participant.organisation)
    else:
        found["member"] = organisation_reference(participant.organisation)
    found["period"] = period(participant.period_start, participant.period_end)
    return found


def careteam(plan: CarePlan) -> dict[str, Any]:
    participants = list(plan.participants.all())
    members = [_participant(p) for p in participants]
    if plan.coordinator is not None and not any(p.person_id == plan.coordinator_id for p in participants):
        members.insert(
            0,
            {
                "role": _role(CareTeamRole.COORDINATOR),
                "member": person_reference(plan.coordinator),
                "onBehalfOf": organisation_reference(plan.coordinating_organisation),
            },
        )
    resource: dict[str, Any] = {
        "resourceType": "CareTeam",
        "id": str(plan.pk),
        "meta": {"lastUpdated": rfc3339(plan.updated_at)},
        "status": TEAM_STATUS[CarePlanStatus(plan.status)],
        "name": plan.title,
        "subject": reference("Patient", plan.citizen_id),
        "period": period(plan.period_start, plan.period_end),
    }
    if members:
        resource["participant"] = members
    resource["managingOrganization"] = [organisation_reference(plan.coordinating_organisation)]
    return resource


CARE_TEAM = ResourceType(
    name="CareTeam",
    description=(
        "The care team of each care plan (the CareTeam's id is the plan's): the organisations and named "
        "people on it, with their role and period, and the coordinator (tovholder)."
    ),
    rows=lambda: CarePlan.objects.select_related("coordinating_organisation", "coordinator").prefetch_related(
        Prefetch("participants", queryset=CareTeamParticipant.objects.select_related("organisation", "person"))
    ),
    build=lambda rows: [careteam(plan) for plan in rows],
    parse_id=key_uuid,
    citizen="citizen_id",
    params=(
        *patient_params("citizen_id"),
        TokenParam(
            "status",
            f"proposed, active, suspended, inactive or entered-in-error ({CARE_TEAM_STATUS}).",
            match=status_match("status", CARE_TEAM_STATUS, PLANS_OF_TEAM_STATUS),
        ),
    ),
    sorts={"date": ("period_start",)},
    default_order=("-period_start", "title"),
    includes=(Include("patient", "Patient", lambda rows: Q(pk__in=[plan.citizen_id for plan in rows])),),
)
