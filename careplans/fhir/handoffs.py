"""Task: a hand-off, one organisation asking another to take responsibility for a goal or an
activity (``focus``). The portal's hand-off statuses are FHIR Task statuses (requested, accepted,
rejected, cancelled for a withdrawn request). An accepted hand-off whose goal or activity is since
completed is ``completed``: the owner took the work over and finished it, which is what a requester
polling its Tasks waits for.

A request nobody has answered within ``HANDOFF_OVERDUE_HOURS`` is overdue, as on the hand-off
list and the dashboard (``careplans.services.handoff_overdue_after``): its ``businessStatus`` is
``overdue`` in the portal's code system, and ``business-status=overdue`` finds such requests.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.utils import timezone

from citizens.fhir.codes import HANDOFF_BUSINESS_STATUS, TASK_STATUS
from citizens.fhir.params import DateParam, ReferenceParam, Token, TokenParam, key_int, token_codes
from citizens.fhir.registry import ResourceType
from smartcare.datetimes import rfc3339

from ..choices import ActivityStatus, GoalLifecycleStatus, HandoffStatus
from ..models import Handoff
from ..services import handoff_overdue_after
from .common import BASED_ON, INCLUDE_PLAN, organisation_reference, patient_params, reference

TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
OVERDUE = "overdue"
COMPLETED = "completed"
# The accepted hand-offs whose focus is finished; the FHIR status of the others is the stored one.
FOCUS_COMPLETED = Q(activity__status=ActivityStatus.COMPLETED) | Q(goal__lifecycle_status=GoalLifecycleStatus.COMPLETED)


def _overdue_since() -> datetime.datetime:
    """Requests asked before this moment and still unanswered are overdue."""
    return timezone.now() - handoff_overdue_after()


def _focus_completed(handoff: Handoff) -> bool:
    if handoff.activity is not None:
        return handoff.activity.status == ActivityStatus.COMPLETED
    return handoff.goal is not None and handoff.goal.lifecycle_status == GoalLifecycleStatus.COMPLETED


def task_status(handoff: Handoff) -> str:
    if handoff.status == HandoffStatus.ACCEPTED and _focus_completed(handoff):
        return COMPLETED
    return handoff.status


def task(handoff: Handoff, overdue_since: datetime.datetime) -> dict[str, Any]:
    item = handoff.item
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(handoff.pk),
        "basedOn": [reference("CarePlan", handoff.care_plan_id)],
        "status": task_status(handoff),
    }
    if handoff.status == HandoffStatus.REJECTED and handoff.reason:
        resource["statusReason"] = {"text": handoff.reason}
    if handoff.status == HandoffStatus.REQUESTED and handoff.requested_at < overdue_since:
        resource["businessStatus"] = {
            "coding": [{"system": HANDOFF_BUSINESS_STATUS, "code": OVERDUE, "display": "Overdue"}],
            "text": OVERDUE,
        }
    resource.update(
        {
            "intent": "order",
            "code": {"coding": [{"system": TASK_CODE, "code": "fulfill"}], "text": "Take responsibility"},
            "description": item.description,
            "focus": reference("Goal" if handoff.goal_id else "ServiceRequest", item.pk, item.description[:200]),
            "for": reference("Patient", handoff.care_plan.citizen_id),
            "authoredOn": rfc3339(handoff.requested_at),
            "lastModified": rfc3339(handoff.answered_at or handoff.requested_at),
            "requester": organisation_reference(handoff.from_organisation),
            "owner": organisation_reference(handoff.to_organisation),
        }
    )
    if item.due_date is not None:
        resource["restriction"] = {"period": {"end": item.due_date.isoformat()}}
    if handoff.status == HandoffStatus.ACCEPTED and handoff.reason:
        resource["note"] = [{"text": handoff.reason}]
    return resource


def build(rows: Sequence[Handoff]) -> list[dict[str, Any]]:
    overdue_since = _overdue_since()
    return [task(handoff, overdue_since) for handoff in rows]


def _status(token: Token) -> Q:
    codes = token_codes(token, TASK_STATUS, [*HandoffStatus.values, COMPLETED])
    condition = Q(status__in=[code for code in codes if code not in (HandoffStatus.ACCEPTED, COMPLETED)])
    if HandoffStatus.ACCEPTED in codes:
        condition |= Q(status=HandoffStatus.ACCEPTED) & ~FOCUS_COMPLETED
    if COMPLETED in codes:
        condition |= Q(status=HandoffStatus.ACCEPTED) & FOCUS_COMPLETED
    return condition


def _business_status(token: Token) -> Q:
    if not token_codes(token, HANDOFF_BUSINESS_STATUS, [OVERDUE]):
        return Q(pk__in=[])
    return Q(status=HandoffStatus.REQUESTED, requested_at__lt=_overdue_since())


def _organisation_param(name: str, documentation: str, field_name: str) -> ReferenceParam:
    return ReferenceParam(name, documentation, field_name=field_name, targets=("Organization",), convert=key_int)


TASK = ResourceType(
    name="Task",
    description=(
        "Hand-offs: a request that another organisation (owner) takes responsibility for a goal or an "
        "activity (focus: Goal or ServiceRequest) of a care plan (basedOn). businessStatus is overdue "
        f"({HANDOFF_BUSINESS_STATUS}) for a request unanswered after the portal's deadline."
    ),
    rows=lambda: Handoff.objects.select_related(
        "care_plan", "from_organisation", "to_organisation", "goal", "activity"
    ),
    build=build,
    parse_id=key_int,
    citizen="care_plan__citizen_id",
    params=(
        *patient_params("care_plan__citizen_id"),
        _organisation_param("owner", "The organisation asked (Organization/<id>).", "to_organisation_id"),
        _organisation_param("requester", "The organisation asking (Organization/<id>).", "from_organisation_id"),
        TokenParam(
            "status",
            f"requested, accepted, rejected, cancelled or completed (accepted and its focus done) ({TASK_STATUS}).",
            match=_status,
        ),
        TokenParam(
            "business-status",
            f"overdue ({HANDOFF_BUSINESS_STATUS}): a request unanswered after the deadline.",
            match=_business_status,
        ),
        BASED_ON,
        DateParam("authored-on", "When it was requested, with prefixes (ge, lt, …).", field_name="requested_at"),
    ),
    sorts={"authored-on": ("requested_at",)},
    default_order=("-requested_at",),
    includes=(INCLUDE_PLAN,),
)
