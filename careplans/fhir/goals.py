"""Goal: a goal of a care plan, with its measurable target (a LOINC-coded quantity) or its target
in words, and the organisation responsible for it.

FHIR's Goal has no element for the responsible organisation (``expressedBy`` takes no
Organization), so it travels in the portal's extension ``RESPONSIBLE_ORGANIZATION`` as a
reference. Whether the organisation has accepted the goal is the Task of its hand-off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.utils import timezone

from citizens.fhir.codes import GOAL_ACHIEVEMENT, GOAL_STATUS, LOINC, RESPONSIBLE_ORGANIZATION, UCUM
from citizens.fhir.params import DateParam, Token, TokenParam, key_int, token_codes
from citizens.fhir.registry import ResourceType
from smartcare.datetimes import rfc3339

from ..choices import GoalAchievement, GoalLifecycleStatus, ThresholdCode
from ..models import Goal
from .common import organisation_reference, patient_params, reference


def _target(goal: Goal) -> dict[str, Any] | None:
    """FHIR requires a measure wherever a detail is given (gol-1): the LOINC code when the goal has
    one, else the target in words."""
    target: dict[str, Any] = {}
    if goal.target_code:
        label = str(ThresholdCode(goal.target_code).label)
        target["measure"] = {"coding": [{"system": LOINC, "code": goal.target_code, "display": label}], "text": label}
    elif goal.target_value is not None or goal.target_text:
        target["measure"] = {"text": goal.target_text or goal.description[:200]}
    if goal.target_value is not None:
        quantity: dict[str, Any] = {"value": float(goal.target_value), "unit": goal.target_unit}
        if goal.target_comparator:
            quantity["comparator"] = goal.target_comparator
        quantity.update({"system": UCUM, "code": goal.target_unit})
        target["detailQuantity"] = quantity
    elif goal.target_text:
        target["detailString"] = goal.target_text
    if goal.due_date is not None:
        target["dueDate"] = goal.due_date.isoformat()
    return target or None


def goal_resource(goal: Goal) -> dict[str, Any]:
    achievement = str(GoalAchievement(goal.achievement).label)
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "id": str(goal.pk),
        "meta": {"lastUpdated": rfc3339(goal.updated_at)},
        "extension": [
            {"url": RESPONSIBLE_ORGANIZATION, "valueReference": organisation_reference(goal.responsible_organisation)}
        ],
        "lifecycleStatus": goal.lifecycle_status,
        "achievementStatus": {
            "coding": [{"system": GOAL_ACHIEVEMENT, "code": goal.achievement, "display": achievement}],
            "text": achievement,
        },
        "description": {"text": goal.description},
        "subject": reference("Patient", goal.care_plan.citizen_id),
        "startDate": timezone.localtime(goal.created_at).date().isoformat(),
    }
    target = _target(goal)
    if target:
        resource["target"] = [target]
    return resource


def build(rows: Sequence[Goal]) -> list[dict[str, Any]]:
    return [goal_resource(goal) for goal in rows]


def _lifecycle(token: Token) -> Q:
    return Q(lifecycle_status__in=token_codes(token, GOAL_STATUS, GoalLifecycleStatus.values))


def _achievement(token: Token) -> Q:
    return Q(achievement__in=token_codes(token, GOAL_ACHIEVEMENT, GoalAchievement.values))


GOAL = ResourceType(
    name="Goal",
    description=(
        "The goals of the care plans. The organisation responsible for a goal is the extension "
        f"{RESPONSIBLE_ORGANIZATION} (valueReference to the Organization); the plan lists its goals "
        "(CarePlan.goal, _include=CarePlan:goal)."
    ),
    rows=lambda: Goal.objects.select_related("care_plan", "responsible_organisation"),
    build=build,
    parse_id=key_int,
    citizen="care_plan__citizen_id",
    params=(
        *patient_params("care_plan__citizen_id"),
        TokenParam(
            "lifecycle-status",
            f"proposed, planned, accepted, active, on-hold, completed, cancelled, entered-in-error or rejected "
            f"({GOAL_STATUS}).",
            match=_lifecycle,
        ),
        TokenParam("achievement-status", f"The achievement ({GOAL_ACHIEVEMENT}).", match=_achievement),
        DateParam("target-date", "The due date, with prefixes (ge, lt, …).", field_name="due_date", is_date=True),
    ),
    sorts={"target-date": ("due_date",)},
    default_order=("due_date",),
)
