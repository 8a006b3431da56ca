"""The administrators' page of gateways and integrations: every account that posts MedCom
messages, with its traffic and its last errors (``FhirCall``), read in a fixed number of
queries whatever the number of accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from sectors.choices import MembershipRole, OrganisationKind
from sectors.models import Gateway, Membership, Organisation

from .models import FhirCall

LAST_ERRORS = 3


@dataclass
class AccountTraffic:
    name: str
    gateway: Gateway | None = None
    organisations: list[Organisation] = field(default_factory=list)
    calls_day: int = 0
    errors_day: int = 0
    calls_month: int = 0
    errors_month: int = 0
    last_errors: list[FhirCall] = field(default_factory=list)


def may_see_all(actor: Actor) -> bool:
    """Superusers and the region's administrators see every gateway and integration."""
    acting = actor.acting
    return actor.user.is_superuser or bool(
        acting.organisation is not None
        and acting.organisation.kind == OrganisationKind.REGION
        and acting.is_organisation_admin
    )


def integration_traffic(*, actor: Actor) -> list[AccountTraffic]:
    """Gateways (for those who see all) and the integrations of the organisations the actor
    administers, each with its calls and errors of the last day and 30 days and its last errors."""
    if not (may_see_all(actor) or actor.acting.is_organisation_admin):
        raise PermissionDenied(_("Only administrators see the gateways and integrations."))
    accounts: dict[int, AccountTraffic] = {}
    if may_see_all(actor):
        for gateway in Gateway.objects.select_related("user").order_by("name"):
            accounts[gateway.user_id] = AccountTraffic(name=gateway.name, gateway=gateway)
    memberships = (
        Membership.objects.active().filter(role=MembershipRole.INTEGRATION).select_related("user", "organisation")
    )
    if not may_see_all(actor):
        memberships = memberships.filter(organisation=actor.acting.organisation)
    for membership in memberships.order_by("organisation__name", "user__email"):
        account = accounts.setdefault(membership.user_id, AccountTraffic(name=str(membership.user)))
        account.organisations.append(membership.organisation)
    now = timezone.now()
    day, month = now - timedelta(days=1), now - timedelta(days=30)
    failed = ~Q(ack_code__in=["", "ok"]) | Q(status__gte=400)
    calls = FhirCall.objects.filter(user_id__in=accounts, at__gte=month)
    for row in calls.values("user_id").annotate(
        calls_day=Count("pk", filter=Q(at__gte=day)),
        errors_day=Count("pk", filter=Q(at__gte=day) & failed),
        calls_month=Count("pk"),
        errors_month=Count("pk", filter=failed),
    ):
        account = accounts[row["user_id"]]
        for name in ("calls_day", "errors_day", "calls_month", "errors_month"):
            setattr(account, name, row[name])
    # Each account's newest errors, for all accounts in one query.
    newest = Window(RowNumber(), partition_by=[F("user_id")], order_by=F("at").desc())
    for call in calls.filter(failed).annotate(n=newest).filter(n__lte=LAST_ERRORS).order_by("user_id", "-at"):
        accounts[call.user_id].last_errors.append(call)
    return list(accounts.values())
