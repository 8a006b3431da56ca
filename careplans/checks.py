"""The checks of a new care plan, writing nothing: ``careplan_create`` raises what they find,
and the create page asks them too while a field of its form is wrong, with only the fields the
form could read, so every error shows at once next to its field."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.models import Citizen
from sectors.models import Organisation, User
from smartcare.validators import Errors, gather, raise_errors

from .choices import CarePlanStatus
from .models import CarePlan

PLAN_FIELDS = (
    "title",
    "intent",
    "period_start",
    "period_end",
    "coordinating_organisation",
    "coordinator",
    "description",
)
NEW_PLAN_STATUSES = (CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE)


def check_member(person: User | None, organisation: Organisation, field: str) -> None:
    if person is not None and not person.memberships.active().filter(organisation=organisation).exists():
        raise ValidationError(
            {field: [_("The person must be a member of %(organisation)s.") % {"organisation": organisation}]}
        )


def new_plan_errors(plan: CarePlan, *, not_read: Collection[str] = ()) -> Errors:
    """Every problem of a new plan: the model's and the coordinator's. The fields ``not_read``
    (a form shows its own error for them) are not checked, nor the rules that need them."""
    errors: Errors = {}
    if "status" not in not_read and plan.status not in NEW_PLAN_STATUSES:
        errors["status"] = [_("A new plan is a draft or active.")]
    gather(errors, plan.full_clean, exclude=list(not_read))
    if not {"coordinator", "coordinating_organisation"} & set(not_read):
        gather(errors, check_member, plan.coordinator, plan.coordinating_organisation, "coordinator")
    return errors


def careplan_create_check(*, actor: Actor, citizen: Citizen, **read: Any) -> None:
    """The checks of ``careplan_create`` on the fields ``read`` (its arguments), those missing
    left out: for the create page while another of its fields is wrong."""
    unknown = set(read) - {*PLAN_FIELDS, "status"}
    if unknown:
        raise TypeError(f"Unknown care plan fields: {sorted(unknown)}")
    # Set to None, not left to the model's defaults: a start never read is not today.
    not_read = [name for name in (*PLAN_FIELDS, "status") if name not in read]
    plan = CarePlan(
        citizen=citizen,
        created_by=actor.user,
        created_by_organisation=actor.organisation,
        **dict.fromkeys(not_read),
        **read,
    )
    raise_errors(new_plan_errors(plan, not_read=not_read))
