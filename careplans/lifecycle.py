"""The FHIR lifecycles as allowed transitions, enforced by the services (one place)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import ActivityStatus as A
from .choices import CarePlanStatus as P
from .choices import GoalLifecycleStatus as G

PLAN_TRANSITIONS: dict[str, set[str]] = {
    P.DRAFT: {P.ACTIVE, P.REVOKED, P.ENTERED_IN_ERROR},
    P.ACTIVE: {P.ON_HOLD, P.COMPLETED, P.REVOKED, P.ENTERED_IN_ERROR},
    P.ON_HOLD: {P.ACTIVE, P.COMPLETED, P.REVOKED, P.ENTERED_IN_ERROR},
    P.COMPLETED: {P.ENTERED_IN_ERROR},
    P.REVOKED: {P.ENTERED_IN_ERROR},
    P.ENTERED_IN_ERROR: set(),
}

GOAL_TRANSITIONS: dict[str, set[str]] = {
    G.PROPOSED: {G.PLANNED, G.ACCEPTED, G.ACTIVE, G.REJECTED, G.CANCELLED, G.ENTERED_IN_ERROR},
    G.PLANNED: {G.ACCEPTED, G.ACTIVE, G.CANCELLED, G.ENTERED_IN_ERROR},
    G.ACCEPTED: {G.ACTIVE, G.CANCELLED, G.ENTERED_IN_ERROR},
    G.ACTIVE: {G.ON_HOLD, G.COMPLETED, G.CANCELLED, G.ENTERED_IN_ERROR},
    G.ON_HOLD: {G.ACTIVE, G.CANCELLED, G.ENTERED_IN_ERROR},
    G.COMPLETED: {G.ENTERED_IN_ERROR},
    G.CANCELLED: {G.ENTERED_IN_ERROR},
    G.REJECTED: {G.ENTERED_IN_ERROR},
    G.ENTERED_IN_ERROR: set(),
}

ACTIVITY_TRANSITIONS: dict[str, set[str]] = {
    A.NOT_STARTED: {A.SCHEDULED, A.IN_PROGRESS, A.ON_HOLD, A.COMPLETED, A.CANCELLED, A.ENTERED_IN_ERROR},
    A.SCHEDULED: {A.IN_PROGRESS, A.ON_HOLD, A.COMPLETED, A.CANCELLED, A.ENTERED_IN_ERROR},
    A.IN_PROGRESS: {A.ON_HOLD, A.COMPLETED, A.CANCELLED, A.STOPPED, A.ENTERED_IN_ERROR},
    A.ON_HOLD: {A.SCHEDULED, A.IN_PROGRESS, A.CANCELLED, A.STOPPED, A.ENTERED_IN_ERROR},
    A.COMPLETED: {A.ENTERED_IN_ERROR},
    A.CANCELLED: {A.ENTERED_IN_ERROR},
    A.STOPPED: {A.ENTERED_IN_ERROR},
    A.ENTERED_IN_ERROR: set(),
}


def check_transition(table: dict[str, set[str]], labels, current: str, new: str, comment: str | None = None) -> None:
    """An allowed transition; with ``comment`` (the services' status changes) an irreversible one
    also needs a reason."""
    if current == new:
        return
    if new not in table.get(current, set()):
        # The code goes on the field's error: a dict-shaped ValidationError drops its own code.
        raise ValidationError(
            {
                "status": [
                    ValidationError(
                        _("The status cannot change from “%(current)s” to “%(new)s”.")
                        % {"current": labels(current).label, "new": labels(new).label},
                        code="invalid_transition",
                    )
                ]
            }
        )
    if comment is not None:
        check_reason(table, labels, current, new, comment)


def allowed_next(table: dict[str, set[str]], current: str) -> list[str]:
    return sorted(table.get(current, set()))


def is_irreversible(table: dict[str, set[str]], new: str) -> bool:
    """A status nothing comes back from: from it the lifecycle allows at most entered-in-error.
    Completion is the planned ending, not a trap (marking an activity done can be undone for a
    while, ``careplans.undo``), so it is not asked about."""
    return new not in (A.COMPLETED, P.COMPLETED, G.COMPLETED) and table.get(new, set()) <= {A.ENTERED_IN_ERROR}


def check_reason(table: dict[str, set[str]], labels, current: str, new: str, comment: str) -> None:
    """An irreversible change says why (kept in the plan's history as the change's comment)."""
    if current != new and is_irreversible(table, new) and not (comment or "").strip():
        raise ValidationError(
            {
                "comment": [
                    ValidationError(
                        _("Say why the status changes to “%(new)s”: the change cannot be undone.")
                        % {"new": labels(new).label},
                        code="reason_required",
                    )
                ]
            }
        )


def irreversible_statuses(table: dict[str, set[str]]) -> set[str]:
    return {status for status in table if is_irreversible(table, status)}


# An activity in one of these can be marked done (a one-off is then completed).
DOABLE = frozenset({A.NOT_STARTED, A.SCHEDULED, A.IN_PROGRESS})
