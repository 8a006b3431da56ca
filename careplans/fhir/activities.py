"""ServiceRequest: an activity of a care plan (a visit, a control, a course of training), requested
of the organisation responsible for it (``performer``), once or on weekdays every few weeks.

A ServiceRequest's status is coarser than an activity's: not started, scheduled and in progress
are all ``active``. The activity's own status (FHIR's care-plan-activity-status, which the
portal's codes are) travels in the portal's extension ``ACTIVITY_STATUS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citizens.fhir.codes import ACTIVITY_STATUS, CARE_PLAN_ACTIVITY_STATUS, REQUEST_STATUS
from citizens.fhir.params import DateParam, ReferenceParam, TokenParam, key_int
from citizens.fhir.registry import ResourceType
from smartcare.datetimes import rfc3339

from ..choices import ActivityStatus
from ..models import Activity
from .common import (
    BASED_ON,
    INCLUDE_PLAN,
    organisation_reference,
    patient_params,
    period,
    person_reference,
    reference,
    status_match,
)

REQUEST_OF_ACTIVITY = {
    ActivityStatus.NOT_STARTED: "active",
    ActivityStatus.SCHEDULED: "active",
    ActivityStatus.IN_PROGRESS: "active",
    ActivityStatus.ON_HOLD: "on-hold",
    ActivityStatus.COMPLETED: "completed",
    ActivityStatus.CANCELLED: "revoked",
    ActivityStatus.STOPPED: "revoked",
    ActivityStatus.ENTERED_IN_ERROR: "entered-in-error",
}
ACTIVITIES_OF_REQUEST: dict[str, list[str]] = {}
for _activity_status, _request_status in REQUEST_OF_ACTIVITY.items():
    ACTIVITIES_OF_REQUEST.setdefault(_request_status, []).append(_activity_status)
DAY_OF_WEEK = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat", "SU": "sun"}


def _occurrence(activity: Activity) -> dict[str, Any]:
    """A recurring activity as a Timing (these weekdays every n weeks within its dates), a one-off
    as its due date."""
    days = activity.weekday_list
    if days:
        repeat: dict[str, Any] = {}
        bounds = period(activity.starts_on, activity.ends_on)
        if bounds:
            repeat["boundsPeriod"] = bounds
        repeat.update(
            {
                "frequency": len(days),
                "period": activity.interval_weeks,
                "periodUnit": "wk",
                "dayOfWeek": [DAY_OF_WEEK[day] for day in days],
            }
        )
        return {"occurrenceTiming": {"repeat": repeat}}
    if activity.due_date is not None:
        return {"occurrenceDateTime": activity.due_date.isoformat()}
    if activity.starts_on is not None:
        return {"occurrencePeriod": period(activity.starts_on, activity.ends_on)}
    return {}


def service_request(activity: Activity) -> dict[str, Any]:
    label = str(ActivityStatus(activity.status).label)
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(activity.pk),
        "meta": {"lastUpdated": rfc3339(activity.updated_at)},
        "extension": [
            {
                "url": ACTIVITY_STATUS,
                "valueCoding": {"system": CARE_PLAN_ACTIVITY_STATUS, "code": activity.status, "display": label},
            }
        ],
        "basedOn": [reference("CarePlan", activity.care_plan_id)],
        "status": REQUEST_OF_ACTIVITY[ActivityStatus(activity.status)],
        "intent": "plan",
        "code": {"text": activity.description},
        "subject": reference("Patient", activity.care_plan.citizen_id),
        **_occurrence(activity),
        "authoredOn": rfc3339(activity.created_at),
    }
    performers = [organisation_reference(activity.responsible_organisation)]
    if activity.responsible_person is not None:
        performers.append(person_reference(activity.responsible_person))
    resource["performer"] = performers
    if activity.outcome_note:
        resource["note"] = [{"text": activity.outcome_note}]
    return resource


def build(rows: Sequence[Activity]) -> list[dict[str, Any]]:
    return [service_request(activity) for activity in rows]


SERVICE_REQUEST = ResourceType(
    name="ServiceRequest",
    description=(
        "The activities of the care plans, each requested of the organisation responsible for it "
        "(performer). The activity's own status (http://hl7.org/fhir/care-plan-activity-status) is the "
        f"extension {ACTIVITY_STATUS}; a recurring activity is an occurrenceTiming."
    ),
    rows=lambda: Activity.objects.select_related("care_plan", "responsible_organisation", "responsible_person"),
    build=build,
    parse_id=key_int,
    citizen="care_plan__citizen_id",
    params=(
        *patient_params("care_plan__citizen_id"),
        TokenParam(
            "status",
            f"active, on-hold, revoked, completed or entered-in-error ({REQUEST_STATUS}).",
            match=status_match("status", REQUEST_STATUS, ACTIVITIES_OF_REQUEST),
        ),
        ReferenceParam(
            "performer",
            "The responsible organisation (Organization/<id>).",
            field_name="responsible_organisation_id",
            targets=("Organization",),
            convert=key_int,
        ),
        BASED_ON,
        DateParam("authored", "When the activity was added, with prefixes (ge, lt, …).", field_name="created_at"),
    ),
    sorts={"authored": ("created_at",)},
    default_order=("due_date",),
    includes=(INCLUDE_PLAN,),
)
