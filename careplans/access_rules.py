"""Being on an active care team of an open plan gives access to the citizen (the access policy
in ``citizens.access`` asks this provider)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from citizens.access import register_relationship
from citizens.choices import AccessReason
from sectors.models import Organisation

from .models import OPEN_PLAN_STATUSES, CareTeamParticipant


@register_relationship(AccessReason.CARE_TEAM)
def care_team(org: Organisation, now: datetime) -> Q | None:
    """Only the memberships flagged ``beyond_own_list`` count: the organisation already sees its
    residents and listed patients through a plain column, and leaving them out keeps the id list
    short (the gate's WHERE clause keeps its indexes) and the lookup to a partial index. Reading all
    of a big municipality's 50,000 memberships cost 110-140 ms on every gated read."""
    today = timezone.localdate(now)
    participants = CareTeamParticipant.objects.filter(
        organisation_id=org.pk,
        beyond_own_list=True,
        period_start__lte=today,
        care_plan__status__in=OPEN_PLAN_STATUSES,
    ).filter(Q(period_end__isnull=True) | Q(period_end__gte=today))
    # No ordering: the model's default ordering would make DISTINCT compare (and sort) it too.
    ids = list(participants.order_by().values_list("care_plan__citizen_id", flat=True).distinct())
    return Q(pk__in=ids) if ids else None
