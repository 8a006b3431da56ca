"""The access policy: the one place that decides which citizens a user may see.

A user acting for organisation O may see citizen C while O has a care relationship with C:
O is C's GP clinic; O is C's municipality of residence; O is a hospital department (or its
unit) where C has a current stay or had one within ``CITIZEN_ACCESS_HOSPITAL_DAYS`` days; or
O sits on an active care team for C (registered by the care-plan app through
``register_relationship``). An objection against O or O's sector removes that access, except
for a hospital during a current stay (treatment in progress). A clinician may also break the
glass for a limited time with a stated reason.

Everything that reaches citizens — pages, API, search, exports, tasks and the admin for
non-superusers — starts from ``visible_citizens`` or ``access_reason``; a citizen outside them
answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from sectors.acting import Acting, acting_for
from sectors.adapters import client_ip
from sectors.choices import SECTOR_OF_KIND, MembershipRole, OrganisationKind
from sectors.models import Organisation, User

from .choices import AccessReason, ObjectionTarget
from .models import BreakGlassAccess, Citizen, HospitalStay, Objection

# Licensed clinicians may break the glass; assistants, coordinators and administrators may not.
BREAK_THE_GLASS_ROLES = frozenset(
    {
        MembershipRole.GP,
        MembershipRole.PRACTICE_NURSE,
        MembershipRole.HOSPITAL_PHYSICIAN,
        MembershipRole.HOSPITAL_NURSE,
        MembershipRole.HOME_CARE_NURSE,
    }
)


@dataclass(frozen=True)
class Actor:
    """Who is reading or writing, for whom, and from where (for the access log)."""

    user: User
    acting: Acting
    ip_address: str | None = None
    user_agent: str = ""

    @property
    def organisation(self) -> Organisation | None:
        return self.acting.organisation

    @property
    def acting_organisation(self) -> Organisation:
        """The organisation acted for, where one is needed: an actor without one is refused (403), not a crash."""
        if self.acting.organisation is None:
            raise PermissionDenied(_("You act for no organisation, so you cannot do this."))
        return self.acting.organisation

    @property
    def role(self) -> str:
        return self.acting.primary_role or ""


def actor_from_request(request: HttpRequest) -> Actor:
    return Actor(
        user=request.user,  # type: ignore[arg-type]  # built only in login-required views and the IsAuthenticated API
        acting=acting_for(request),
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
    )


# --- relationships ---------------------------------------------------------------------------
# Each provider returns a Q on Citizen for the organisation, or None when it grants nothing.
# Providers in OBJECTABLE are removed by an objection; the current hospital stay is not.
RelationshipProvider = Callable[[Organisation, datetime], Q | None]
_PROVIDERS: dict[str, RelationshipProvider] = {}


def register_relationship(reason: str) -> Callable[[RelationshipProvider], RelationshipProvider]:
    """Let another app (care teams) add a relationship that grants access.

    The provider's Q is used in the WHERE clause of every list, so it must be index-friendly:
    a column comparison or ``pk__in=<subquery>``, not a correlated EXISTS.
    """

    def decorator(func: RelationshipProvider) -> RelationshipProvider:
        _PROVIDERS[reason] = func
        return func

    return decorator


def hospital_window() -> timedelta:
    return timedelta(days=getattr(settings, "CITIZEN_ACCESS_HOSPITAL_DAYS", 30))


def _hospital_departments(org: Organisation) -> Q | None:
    if org.kind == OrganisationKind.HOSPITAL_DEPARTMENT:
        return Q(department_id=org.pk)
    if org.kind == OrganisationKind.HOSPITAL_UNIT:
        return Q(department__parent_id=org.pk)
    return None


@register_relationship(AccessReason.GP_CLINIC)
def _gp_clinic(org: Organisation, now: datetime) -> Q | None:
    return Q(gp_clinic_id=org.pk) if org.kind == OrganisationKind.GP_CLINIC else None


@register_relationship(AccessReason.MUNICIPALITY)
def _municipality(org: Organisation, now: datetime) -> Q | None:
    return Q(municipality_id=org.pk) if org.kind == OrganisationKind.MUNICIPALITY else None


def _objection_against(org: Organisation, citizen_ref: str = "pk") -> Exists:
    """An active objection by the citizen (``citizen_ref`` of the outer query) against O."""
    sector = SECTOR_OF_KIND[OrganisationKind(org.kind)]
    targets = Q(target=ObjectionTarget.SECTOR, sector=sector) | Q(target=ObjectionTarget.ORGANISATION, organisation=org)
    if org.parent_id and org.kind == OrganisationKind.HOSPITAL_DEPARTMENT:
        targets |= Q(target=ObjectionTarget.ORGANISATION, organisation_id=org.parent_id)
    return Exists(Objection.objects.filter(targets, citizen_id=OuterRef(citizen_ref), withdrawn_at__isnull=True))


@dataclass(frozen=True)
class Rule:
    """One way to be allowed: ``row`` names the reason for a given citizen row; ``where`` selects
    the same citizens in a shape PostgreSQL can answer from an index (None: covered by another
    rule's ``where``). At 1.2 million citizens an OR of EXISTS clauses scans the whole table,
    while ``gp_clinic_id = O`` or ``id IN (SELECT citizen_id FROM stays ...)`` does not."""

    reason: str
    row: Q
    where: Q | None


def _policy(user: User | None, org: Organisation, now: datetime) -> list[Rule]:
    """The rules in order of precedence; the first that holds for a citizen is the reason."""
    rules: list[Rule] = []
    not_objected = ~Q(_objection_against(org))
    for reason, provider in _PROVIDERS.items():
        q = provider(org, now)
        if q is not None:
            rules.append(Rule(reason, q & not_objected, q & not_objected))
    # Break-the-glass grants are few: fetch them first so they never turn the query into a scan.
    grants = (
        []
        if user is None
        else list(
            BreakGlassAccess.objects.filter(user_id=user.pk, organisation_id=org.pk, expires_at__gt=now)
            .values_list("citizen_id", flat=True)
            .distinct()
        )
    )
    if grants:
        rules.append(Rule(AccessReason.BREAK_THE_GLASS, Q(pk__in=grants), Q(pk__in=grants)))
    departments = _hospital_departments(org)
    if departments is not None:
        stays = HospitalStay.objects.filter(departments)
        cutoff = now - hospital_window()
        current = stays.filter(discharged_at__isnull=True)
        recent = stays.filter(discharged_at__gte=cutoff)
        # Current stays always count (treatment in progress); recent ones only without objection.
        reachable = stays.filter(
            Q(discharged_at__isnull=True) | (Q(discharged_at__gte=cutoff) & ~Q(_objection_against(org, "citizen_id")))
        ).values("citizen_id")
        if rules:
            # Fetched as ids when other rules are id lists too: ``id IN (subquery) OR id = ANY(ids)``
            # made PostgreSQL filter all 1.2 million citizens (3.8 s for OUH's department on 750
            # care teams); two id lists are two index scans. Alone, the subquery is faster.
            reachable_in: QuerySet[Any, Any] | list[Any] = list(
                reachable.order_by().values_list("citizen_id", flat=True).distinct()
            )
        else:
            reachable_in = reachable
        rules[:0] = [
            Rule(
                AccessReason.HOSPITAL_STAY, Q(Exists(current.filter(citizen_id=OuterRef("pk")))), Q(pk__in=reachable_in)
            ),
            Rule(
                AccessReason.HOSPITAL_RECENT, Q(Exists(recent.filter(citizen_id=OuterRef("pk")))) & not_objected, None
            ),
        ]
    return rules


def _allowed(rules: list[Rule]) -> Q | None:
    wheres = [rule.where for rule in rules if rule.where is not None]
    if not wheres:
        return None
    allowed = wheres[0]
    for where in wheres[1:]:
        allowed |= where
    return allowed


def visible_citizens(
    acting: Acting, user: User, *, now: datetime | None = None, with_reason: bool = False
) -> QuerySet[Citizen]:
    """Every citizen the acting organisation may see now; nothing without an organisation.

    With ``with_reason`` each row carries ``access_via``, the relationship that grants access,
    so list pages can log why every row was shown without a query per row.
    """
    rules = []
    if acting.organisation is not None and getattr(user, "is_authenticated", False):
        rules = _policy(user, acting.organisation, now or timezone.now())
    allowed = _allowed(rules)
    if allowed is None:
        qs = Citizen.objects.none()
        return qs.annotate(access_via=Value("")) if with_reason else qs
    qs = Citizen.objects.filter(allowed)
    if with_reason:
        qs = qs.annotate(
            access_via=Case(*(When(rule.row, then=Value(str(rule.reason))) for rule in rules), default=Value(""))
        )
    return qs


def access_reason(actor: Actor, citizen: Citizen, *, now: datetime | None = None) -> tuple[str, str] | None:
    """Why the actor may see this citizen (reason code, stated text), or None."""
    now = now or timezone.now()
    reason = (
        visible_citizens(actor.acting, actor.user, now=now, with_reason=True)
        .filter(pk=citizen.pk)
        .values_list("access_via", flat=True)  # type: ignore[misc]  # annotated with_reason; the stub type cannot say so
        .first()
    )
    if reason is None:
        return None
    text = ""
    if reason == AccessReason.BREAK_THE_GLASS:
        text = (
            BreakGlassAccess.objects.filter(
                citizen=citizen, user=actor.user, organisation=actor.organisation, expires_at__gt=now
            )
            .order_by("-started_at")
            .values_list("reason", flat=True)
            .first()
            or ""
        )
    return reason, text


def organisation_sees(org: Organisation, citizen: Citizen, *, now: datetime | None = None) -> bool:
    """Whether the organisation itself has a relationship with the citizen (a person's
    break-the-glass does not count): who may receive messages about the citizen, since a receiver
    gains no access through a message it would not otherwise have."""
    allowed = _allowed(_policy(None, org, now or timezone.now()))
    return allowed is not None and Citizen.objects.filter(allowed, pk=citizen.pk).exists()
