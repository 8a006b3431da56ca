"""Being on an active care team of an open plan gives access to the citizen (the access policy
in ``citizens.access`` asks this provider)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from citizens.access import register_relationship
from citizens.choices import AccessReason
from citizens.models import Citizen
from sectors.choices import OrganisationKind
from sectors.models import Organisation

from .models import OPEN_PLAN_STATUSES, CareTeamParticipant

# Citizens an organisation already sees through a plain column are left out of the id list, so
# the list stays short and the gate's WHERE clause keeps using its indexes.
_COVERED_BY_COLUMN = {
    OrganisationKind.GP_CLINIC: "gp_clinic_id",
    OrganisationKind.MUNICIPALITY: "municipality_id",
}


@register_relationship(AccessReason.CARE_TEAM)
def care_team(org: Organisation, now: datetime) -> Q | None:
    today = timezone.localdate(now)
    participants = CareTeamParticipant.objects.filter(
        organisation_id=org.pk, period_start__lte=today, care_plan__status__in=OPEN_PLAN_STATUSES
    ).filter(Q(period_end__isnull=True) | Q(period_end__gte=today))
    column = _COVERED_BY_COLUMN.get(OrganisationKind(org.kind))
    if column:
        # An anti-join against the organisation's own citizens: PostgreSQL hashes their ids from
        # an index (migration 0002) instead of looking up the citizen of every team membership,
        # which took half a second for a municipality on 50,000 teams.
        covered = Citizen.objects.filter(pk=OuterRef("care_plan__citizen_id"), **{column: org.pk})
        participants = participants.exclude(Exists(covered))
    # No ordering: the model's default ordering would make DISTINCT compare (and sort) it too.
    ids = list(participants.order_by().values_list("care_plan__citizen_id", flat=True).distinct())
    return Q(pk__in=ids) if ids else None
