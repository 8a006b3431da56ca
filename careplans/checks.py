"""The checks of a new care plan, writing nothing: ``careplan_create`` raises what they find,
and the create page asks them too while a field of its form is wrong, with only the fields the
form could read, so every error shows at once next to its field."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.models import Citizen, Condition
from sectors.models import Organisation, User
from smartcare.arguments import UNSET, Unset, given
from smartcare.validators import Errors, gather, raise_errors

from .choices import CarePlanStatus
from .models import CarePlan

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


def careplan_create_check(
    *,
    actor: Actor,
    citizen: Citizen,
    title: str | Unset = UNSET,
    intent: str | Unset = UNSET,
    period_start: datetime.date | Unset = UNSET,
    period_end: datetime.date | None | Unset = UNSET,
    coordinating_organisation: Organisation | Unset = UNSET,
    coordinator: User | None | Unset = UNSET,
    description: str | Unset = UNSET,
    status: str | Unset = UNSET,
    conditions: Iterable[Condition] | Unset = UNSET,
) -> None:
    """The checks of ``careplan_create`` on the arguments the create page could read, for while
    another of its fields is wrong: those left out are not checked, nor the rules that need them.
    ``conditions`` is accepted (the page passes what it read) and not checked, as in
    ``careplan_create``."""
    arguments = {
        "title": title,
        "intent": intent,
        "period_start": period_start,
        "period_end": period_end,
        "coordinating_organisation": coordinating_organisation,
        "coordinator": coordinator,
        "description": description,
        "status": status,
    }
    read = given(**arguments)
    # Set to None, not left to the model's defaults: a start never read is not today.
    not_read = [name for name in arguments if name not in read]
    plan = CarePlan(
        citizen=citizen,
        created_by=actor.user,
        created_by_organisation=actor.organisation,
        **dict.fromkeys(not_read),
        **read,
    )
    raise_errors(new_plan_errors(plan, not_read=not_read))
