"""Writes for the care team: who is on it, in which role, and for how long."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from sectors.choices import OrganisationKind
from sectors.models import Organisation, User
from smartcare.transactions import retry_on_deadlock

from ..checks import check_member
from ..choices import CareTeamRole
from ..models import CarePlan, CareTeamParticipant
from .history import _history, _log_write, _require_plan_editor, _value

ROLE_OF_KIND = {
    OrganisationKind.GP_CLINIC: CareTeamRole.GENERAL_PRACTICE,
    OrganisationKind.HOSPITAL_DEPARTMENT: CareTeamRole.HOSPITAL,
    OrganisationKind.HOSPITAL_UNIT: CareTeamRole.HOSPITAL,
    OrganisationKind.MUNICIPALITY: CareTeamRole.HOME_CARE,
}


def _ensure_participant(plan: CarePlan, organisation: Organisation, role: str | None = None) -> CareTeamParticipant:
    today = timezone.localdate()
    for participant in plan.participants.all():
        if participant.organisation_id == organisation.pk and participant.is_active_on(today):
            return participant
    participant = CareTeamParticipant(
        care_plan=plan,
        organisation=organisation,
        role=role or ROLE_OF_KIND.get(OrganisationKind(organisation.kind), CareTeamRole.OTHER),
        period_start=today,
    )
    participant.full_clean()
    participant.save()
    return participant


@retry_on_deadlock
@transaction.atomic
def careteam_add(
    *,
    actor: Actor,
    plan: CarePlan,
    organisation: Organisation,
    role: str,
    person: User | None = None,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    comment: str = "",
) -> CareTeamParticipant:
    reason = _require_plan_editor(actor, plan)
    participant = CareTeamParticipant(
        care_plan=plan,
        organisation=organisation,
        role=role,
        person=person,
        period_start=period_start or timezone.localdate(),
        period_end=period_end,
    )
    participant.full_clean()
    check_member(person, organisation, "person")
    participant.save()
    _history(
        actor=actor,
        plan=plan,
        target=participant,
        action="team-added",
        comment=comment,
        changes={"organisation": [None, str(organisation)], "role": [None, role]},
    )
    _log_write(actor, plan, reason, "care team changed")
    return participant


@retry_on_deadlock
@transaction.atomic
def careteam_end(
    *, actor: Actor, participant: CareTeamParticipant, end_date: datetime.date | None = None, comment: str = ""
) -> CareTeamParticipant:
    plan = participant.care_plan
    reason = _require_plan_editor(actor, plan)
    if (
        participant.organisation_id == plan.coordinating_organisation_id
        and participant.role == CareTeamRole.COORDINATOR
    ):
        raise ValidationError(_("Choose another coordinating organisation before the coordinator leaves the team."))
    before = participant.period_end
    participant.period_end = end_date or timezone.localdate()
    participant.full_clean()
    participant.save(update_fields=["period_end"])
    _history(
        actor=actor,
        plan=plan,
        target=participant,
        action="team-ended",
        comment=comment,
        changes={"period_end": [_value(before), _value(participant.period_end)]},
    )
    _log_write(actor, plan, reason, "care team changed")
    return participant
