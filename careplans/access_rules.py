"""Being on an active care team of an open plan gives access to the citizen (the access policy
in ``citizens.access`` asks this provider)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from citizens.access import register_relationship
from citizens.choices import AccessReason
from sectors.choices import OrganisationKind
from sectors.models import Organisation

from .models import OPEN_PLAN_STATUSES, CareTeamParticipant

# Citizens an organisation already sees through a plain column are left out of the id list, so
# the list stays short and the gate's WHERE clause keeps using its indexes.
_COVERED_BY_COLUMN = {
    OrganisationKind.GP_CLINIC: "care_plan__citizen__gp_clinic_id",
    OrganisationKind.MUNICIPALITY: "care_plan__citizen__municipality_id",
}


@register_relationship(AccessReason.CARE_TEAM)
def care_team(org: Organisation, now: datetime) -> Q | None:
    today = timezone.localdate(now)
    participants = CareTeamParticipant.objects.filter(
        organisation_id=org.pk, period_start__lte=today, care_plan__status__in=OPEN_PLAN_STATUSES
    ).filter(Q(period_end__isnull=True) | Q(period_end__gte=today))
    column = _COVERED_BY_COLUMN.get(OrganisationKind(org.kind))
    if column:
        participants = participants.exclude(**{column: org.pk})
    ids = list(participants.values_list("care_plan__citizen_id", flat=True).distinct())
    return Q(pk__in=ids) if ids else None
