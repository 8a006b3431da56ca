"""Writes for care plans, their team, goals, activities and hand-offs.

Every change is recorded in the plan's history (who, for which organisation, before and after)
in the same transaction, and hand-off events are written to the ``CareEvent`` outbox for the
messaging capability to deliver. One module per concern, all public names re-exported here so
callers keep ``services.careplan_create``:

- ``history``: what every write records (history, access log, outbox) and the checks before it;
- ``plans``: a plan's creation, fields and status;
- ``team``: the care team;
- ``items``: goals and activities, their status, and an activity done;
- ``handoffs``: requests to another organisation, their answers, reassignment and overdue ones.

Home monitoring has its own services in ``careplans.monitoring``.
"""

from __future__ import annotations

from .handoffs import (
    handoff_accept,
    handoff_overdue_after,
    handoff_reject,
    handoffs_flag_overdue,
    item_handoff_accept,
    item_handoff_reject,
    item_reassign,
)
from .items import (
    activity_create,
    activity_mark_done,
    activity_set_status,
    activity_update,
    goal_create,
    goal_set_status,
    goal_update,
)
from .plans import careplan_create, careplan_set_status, careplan_update
from .team import careteam_add, careteam_end

__all__ = [
    "activity_create",
    "activity_mark_done",
    "activity_set_status",
    "activity_update",
    "careplan_create",
    "careplan_set_status",
    "careplan_update",
    "careteam_add",
    "careteam_end",
    "goal_create",
    "goal_set_status",
    "goal_update",
    "handoff_accept",
    "handoff_overdue_after",
    "handoff_reject",
    "handoffs_flag_overdue",
    "item_handoff_accept",
    "item_handoff_reject",
    "item_reassign",
]
