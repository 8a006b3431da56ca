"""The care plans as FHIR R4 resources for the read API (``citizens.fhir``): CarePlan, CareTeam
(one per plan), Goal, ServiceRequest (an activity) and Task (a hand-off between organisations).

The portal's statuses are FHIR's already (``careplans.choices``), so most of the mapping is the
identity; where a resource has coarser codes than the portal (a ServiceRequest's status, a care
team's) the portal's own code travels along, so nothing is lost.
"""

from __future__ import annotations


def register_types() -> None:
    from citizens.fhir.registry import register

    from .activities import SERVICE_REQUEST
    from .goals import GOAL
    from .handoffs import TASK
    from .plans import CARE_PLAN, CARE_TEAM

    for resource_type in (CARE_PLAN, CARE_TEAM, GOAL, SERVICE_REQUEST, TASK):
        register(resource_type)
