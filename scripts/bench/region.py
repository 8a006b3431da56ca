"""What the requests are about, chosen from the generated region by size: the organisations (the
Odense GP clinic with the most listed citizens, Odense Kommune, and OUH's department with the most
current stays), their citizens and care plans, and the benchmark users who read them (each with an
API token and signed-in sessions). Runs in the harness, with Django set up on the production
settings.

The citizens are chosen from the facts the access gate starts from (the clinic's list, residence,
current stays), not through the gate itself, so the harness does not depend on how the gate works;
the probe request of each case shows the status the portal answered.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q
from django.test import Client
from rest_framework.authtoken.models import Token

from careplans.choices import CarePlanStatus
from careplans.models import CarePlan, MonitoringSchedule
from citizens.models import Citizen
from messaging.choices import EmailMode, MessageType
from messaging.services import email_preference_set
from sectors.choices import MembershipRole, OrganisationKind
from sectors.models import Membership, Organisation, User
from sectors.reference import municipality_by_code
from sectors.services import membership_create, user_create

from .cases import Identity, Side

ODENSE = "0461"
OUH = "Odense Universitetshospital"
EMAIL_DOMAIN = "bench.invalid"


ROLES = {
    "gp": MembershipRole.GP,
    "municipality": MembershipRole.HOME_CARE_NURSE,
    "department": MembershipRole.HOSPITAL_PHYSICIAN,
}


def organisations() -> dict[str, Organisation]:
    """The three kinds of organisation, each the largest of its kind in Odense."""
    municipality = municipality_by_code(ODENSE)
    clinic = (
        Organisation.objects.filter(kind=OrganisationKind.GP_CLINIC, municipality=municipality)
        .annotate(n=Count("listed_citizens"))
        .order_by("-n", "pk")
        .first()
    )
    department = (
        Organisation.objects.filter(kind=OrganisationKind.HOSPITAL_DEPARTMENT, name__startswith=OUH)
        .annotate(n=Count("stays", filter=Q(stays__discharged_at__isnull=True)))
        .order_by("-n", "pk")
        .first()
    )
    if clinic is None or department is None:
        raise RuntimeError("The database holds no generated region (no GP clinic or OUH department).")
    return {"gp": clinic, "municipality": municipality, "department": department}


def scope(kind: str, organisation: Organisation):
    """The citizens the organisation has a relationship with by its kind (not through the gate)."""
    citizens = Citizen.objects.filter(deceased_at__isnull=True)
    if kind == "gp":
        return citizens.filter(gp_clinic=organisation)
    if kind == "municipality":
        return citizens.filter(municipality=organisation)
    return citizens.filter(stays__department=organisation, stays__discharged_at__isnull=True).distinct()


def bench_user(email: str, organisation: Organisation, role: str) -> User:
    """A benchmark user with an active membership (made once, found again on the next run). It
    wants no e-mail: the write path measures the way to the inbox, which should not depend on how
    many benchmark users there are."""
    user = User.objects.filter(email=email).first() or user_create(
        by=None, email=email, first_name="Benchmark", last_name=str(role)
    )
    for message_type in MessageType.values:
        if message_type != MessageType.ACKNOWLEDGEMENT:
            email_preference_set(user=user, message_type=message_type, mode=EmailMode.OFF)
    if not Membership.objects.filter(user=user, organisation=organisation, role=role).exists():
        membership_create(by=None, user=user, organisation=organisation, role=role)
    return user


def identity(user: User) -> Identity:
    """The user's API token and a new signed-in session, as a browser would hold them."""
    token, _ = Token.objects.get_or_create(user=user)
    client = Client()
    client.force_login(user)
    return Identity(user_id=user.pk, token=token.key, session=client.cookies[settings.SESSION_COOKIE_NAME].value)


def side_prepare(kind: str, organisation: Organisation, *, users: int, targets: int) -> Side:
    side = Side(kind=kind, organisation=organisation)
    for n in range(users):
        user = bench_user(f"{kind}.{n}@{EMAIL_DOMAIN}", organisation, ROLES[kind])
        side.identities.append(identity(user))
    citizens = scope(kind, organisation)
    side.citizens = [(str(pk), cpr) for pk, cpr in citizens.order_by("pk").values_list("pk", "cpr")[:targets]]
    plans = CarePlan.objects.filter(citizen__in=citizens, status=CarePlanStatus.ACTIVE).order_by("pk")
    side.plans = [str(pk) for pk in plans.values_list("pk", flat=True)[:targets]]
    schedules = MonitoringSchedule.objects.filter(care_plan__in=plans).order_by("citizen_id")
    series = list(schedules.values_list("citizen_id", "code")[: targets * 3])
    side.measured = list(dict.fromkeys(str(pk) for pk, _code in series))[:targets]
    side.series = list(dict.fromkeys((str(pk), code) for pk, code in series))[:targets]
    return side


def integration_token(organisation: Organisation) -> str:
    """The token of the organisation's own system (sends MedCom messages to ``$process-message``)."""
    user = bench_user(f"integration.{organisation.pk}@{EMAIL_DOMAIN}", organisation, MembershipRole.INTEGRATION)
    return Token.objects.get_or_create(user=user)[0].key


def sides_prepare(*, users: int, targets: int) -> list[Side]:
    return [
        side_prepare(kind, organisation, users=users, targets=targets) for kind, organisation in organisations().items()
    ]
