"""Reads for organisations, users and memberships. Organisations are not health data: any
signed-in member of staff may look them up (the directory), so these selectors need no gate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet

from .choices import MembershipRole
from .models import Membership, Organisation, User


def organisation_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Organisation]:
    from .filtersets import OrganisationFilterSet

    qs = Organisation.objects.select_related("parent", "municipality").order_by("name", "pk")
    if filters is None:
        return qs
    return OrganisationFilterSet(filters, queryset=qs).qs


def organisation_get(*, pk: int) -> Organisation:
    """Raises ``Organisation.DoesNotExist`` for an unknown id; callers turn that into a 404."""
    return (
        Organisation.objects.select_related("parent", "municipality")
        .prefetch_related(Prefetch("children", queryset=Organisation.objects.order_by("name")))
        .get(pk=pk)
    )


def organisation_members(*, organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.active()
        .filter(organisation=organisation)
        .select_related("user")
        .order_by("role", "user__first_name", "user__last_name", "user__email")
    )


def user_memberships(*, user: User, active_only: bool = True) -> QuerySet[Membership]:
    qs = Membership.objects.filter(user=user)
    if active_only:
        qs = qs.active()
    return qs.select_related("organisation", "organisation__parent").order_by("organisation__name", "role")


def user_acting_choices(*, user: User) -> list[Organisation]:
    """The organisations a user may act for today, each once, in name order."""
    seen: dict[int, Organisation] = {}
    for membership in user_memberships(user=user):
        seen.setdefault(membership.organisation_id, membership.organisation)
    return list(seen.values())


def organisations_administered_by(*, user: User) -> QuerySet[Organisation]:
    """The organisations whose memberships the user manages: those where they hold an active
    organisation-administrator membership today (superusers manage every organisation)."""
    if user.is_superuser:
        return Organisation.objects.all()
    administering = Membership.objects.active().filter(user=user, role=MembershipRole.ORGANISATION_ADMIN)
    return Organisation.objects.filter(pk__in=administering.values("organisation_id"))
