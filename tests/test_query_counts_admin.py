"""Every change list of the admin costs the same queries however many rows it shows (issue 12).

The test walks ``admin.site._registry``, so a model registered later is covered without a new
test: ``add_everything`` must then make rows of it too, or the test says which model has none.
Each round of rows belongs to new organisations, people and citizens, so a relation read once
per row (a missing ``list_select_related``) shows as a growing count."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.models import Token

from careplans.choices import CarePlanStatus, ObservationCode, ThresholdCode
from careplans.monitoring import Reading, observation_record, schedule_create, threshold_set
from careplans.services import activity_create, careplan_create, goal_create
from citizens.choices import ObjectionTarget
from citizens.models import CitizenCondition
from citizens.services import break_glass_open, consent_record, objection_record
from citizens.tests.factories import CitizenFactory, ConditionFactory
from messaging.choices import HospitalCode
from messaging.models import WebhookEndpoint
from messaging.services import email_preference_set, hospital_event_record, message_send
from sectors.choices import IdentityProtocol, MembershipRole, TokenUse
from sectors.models import IdentityProvider, MembershipRequest, Organisation
from sectors.services import gateway_create, identity_provider_save, token_scope_set
from sectors.tests.factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    MembershipFactory,
    MunicipalityFactory,
    RegionFactory,
    UserFactory,
)

from .test_query_counts_pages import member

pytestmark = pytest.mark.django_db

FEW, MORE = 2, 6
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def no_mfa_for_admins(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = False


class GoneResponse:
    status_code = 410
    text = "gone"


@dataclass
class Place:
    """Where the rounds happen: one region, and one GP clinic whose citizens they are about."""

    region: Organisation
    clinic: Organisation


@pytest.fixture
def place(db) -> Place:
    region = RegionFactory()
    return Place(region, GPClinicFactory(municipality=MunicipalityFactory(parent=region)))


def add_round(place: Place) -> None:
    """One more of everything the admin lists: about a new citizen of the clinic, who lives in a new
    municipality of the region, by new people, a new department and a new webhook."""
    n = next(_serial)
    gateway_create(by=None, name=f"Gateway {n}")
    clinic = place.clinic
    municipality = MunicipalityFactory(parent=place.region)
    department = HospitalDepartmentFactory(parent=HospitalUnitFactory(parent=place.region))
    gp, nurse = member(clinic), member(municipality, MembershipRole.HOME_CARE_NURSE)
    physician = member(department, MembershipRole.HOSPITAL_PHYSICIAN)
    citizen = CitizenFactory(gp_clinic=clinic, municipality=municipality)

    # Citizens: conditions, consent, an objection, a break-the-glass access; the access log throughout.
    CitizenCondition.objects.create(citizen=citizen, condition=ConditionFactory(icd10_code=f"Z{n:02d}"))
    consent_record(actor=gp, citizen=citizen, consent=True, note="Mundtligt")
    objection_record(actor=gp, citizen=citizen, target=ObjectionTarget.ORGANISATION, organisation=MunicipalityFactory())
    break_glass_open(actor=member(clinic), cpr=CitizenFactory().cpr, reason="Bevidstløs uden journal")

    # Care plans: a plan, a goal handed to the municipality (a hand-off, a care team, events, history).
    plan = careplan_create(
        actor=gp, citizen=citizen, title=f"Forløb {n}", coordinating_organisation=clinic, coordinator=gp.user,
        status=CarePlanStatus.ACTIVE,
    )  # fmt: skip
    goal_create(actor=gp, plan=plan, description="Vægt under 90 kg", responsible_organisation=municipality)
    activity_create(actor=gp, plan=plan, description="Vejning", responsible_organisation=clinic, weekdays="MO")
    threshold_set(actor=gp, citizen=citizen, code=ThresholdCode.BODY_WEIGHT, reason="Hjertesvigt", yellow_high=90)
    schedule_create(
        actor=gp, citizen=citizen, code=ObservationCode.BODY_WEIGHT, every_hours=24, monitoring_organisation=clinic
    )
    observation_record(
        actor=nurse,
        citizen=citizen,
        reading=Reading(
            code=ObservationCode.BODY_WEIGHT, value=95, unit="kg", source="home-care",
            effective_at=timezone.now() - datetime.timedelta(minutes=5),
        ),
    )  # fmt: skip

    # Messaging: a message the municipality's own system refuses (a failed delivery and its
    # attempt), an e-mail preference, and an admission the department records without an earlier
    # relationship (a hospital event, a stay, an access to review).
    WebhookEndpoint.objects.create(organisation=municipality, url=f"https://kommune-{n}.example/hook")
    email_preference_set(user=gp.user, message_type="care-communication", mode="immediately")
    with mock.patch("messaging.transports.webhook.requests.post", return_value=GoneResponse()):
        message_send(
            actor=gp, citizen=citizen, receiver=municipality, category="medicine", topic=f"Dosis {n}", text="Furix"
        )
    hospital_event_record(
        actor=physician, citizen=CitizenFactory(gp_clinic=clinic), code=HospitalCode.STIN,
        occurred_at=timezone.now() - datetime.timedelta(hours=2),
    )  # fmt: skip

    # The packages' own models: groups, API tokens, e-mail addresses, authenticators, schedules.
    Group.objects.create(name=f"Gruppe {n}")
    Token.objects.create(user=nurse.user)
    token_scope_set(by=None, user=nurse.user, uses=[TokenUse.READ], resource_types=["Observation"])
    EmailAddress.objects.create(user=nurse.user, email=nurse.user.email, primary=True, verified=True)
    Authenticator.objects.create(user=physician.user, type=Authenticator.Type.TOTP, data={"secret": "x"})

    # Single sign-on: the municipality's identity provider (and allauth's application for it), an
    # account linked through it, and a membership of the clinic its claims asked for.
    provider = identity_provider_save(
        by=None,
        provider=IdentityProvider(
            name=f"Kommune {n}", slug=f"kommune-{n}", protocol=IdentityProtocol.OIDC,
            server_url=f"https://idp.kommune-{n}.example", client_id=f"smartcare-{n}",
        ),
        organisations=[municipality],
    )  # fmt: skip
    SocialAccount.objects.create(user=nurse.user, provider=provider.slug, uid=f"employee-{n}")
    MembershipRequest.objects.create(
        user=nurse.user, organisation=clinic, role=MembershipRole.PRACTICE_NURSE, identity_provider=provider
    )
    schedules = {
        "interval": IntervalSchedule.objects.create(every=n, period=IntervalSchedule.HOURS),
        "crontab": CrontabSchedule.objects.create(minute=str(n % 60), hour="3"),
        "clocked": ClockedSchedule.objects.create(clocked_time=timezone.now() + datetime.timedelta(days=n)),
        "solar": SolarSchedule.objects.create(event="sunrise", latitude=55 + n / 100, longitude=10.4),
    }
    for kind, schedule in schedules.items():
        PeriodicTask.objects.create(
            name=f"{kind} {n}", task="smartcare.tasks.nothing", one_off=kind == "clocked", **{kind: schedule}
        )


def add_everything(place: Place, rounds: int, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the deliveries run (Celery is eager)
        for _ in range(rounds):
            add_round(place)


def staff(organisation, role=MembershipRole.ORGANISATION_ADMIN):
    """An administrator of the organisation who may open every change list (view only)."""
    user = MembershipFactory(organisation=organisation, role=role).user
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


URLS = {
    model._meta.label: f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
    for model in admin.site._registry
}
# What no administrator below a superuser sees more of here: an organisation's webhook is its own,
# and these rounds give the viewers' organisations none.
NOT_GROWING_FOR_STAFF = {"messaging.WebhookEndpoint"}
# What only superusers see: a gateway may deliver from any sender in Denmark.
# allauth's applications hold the identity providers' client secrets.
SUPERUSER_ONLY = {"sectors.Gateway", "socialaccount.SocialApp"}


def changelist(client, label: str) -> tuple[int, int]:
    """The queries of the change list and the number of rows it lists."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(URLS[label]))
    assert response.status_code == 200, label
    return len(ctx), response.context["cl"].result_count


def measure(clients: dict, place: Place, django_capture_on_commit_callbacks) -> tuple[dict, dict]:
    """Every change list as every viewer, with FEW rounds of rows and with MORE: {(viewer, model): (queries, rows)}."""
    for client in clients.values():
        changelist(client, "sectors.Organisation")  # warm-up: the session, the content types
    add_everything(place, FEW, django_capture_on_commit_callbacks)
    few = {(name, label): changelist(client, label) for name, client in clients.items() for label in _seen(name)}
    add_everything(place, MORE - FEW, django_capture_on_commit_callbacks)
    more = {(name, label): changelist(client, label) for name, client in clients.items() for label in _seen(name)}
    return few, more


def _seen(viewer: str) -> list[str]:
    return [label for label in URLS if viewer == "superuser" or label not in SUPERUSER_ONLY]


def test_every_changelist_costs_the_same_queries_for_more_rows(client, place, django_capture_on_commit_callbacks):
    """As a superuser, and as administrators below one, whose lists add the gate and their
    organisation's scope (a clinic's: its citizens; a region's: its departments' accesses to
    review), never a query per row."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    clients = {"superuser": client}
    for name, organisation in (("clinic", place.clinic), ("region", place.region)):
        clients[name] = Client()
        clients[name].force_login(staff(organisation))
    few, more = measure(clients, place, django_capture_on_commit_callbacks)

    grown = {(name, label) for (name, label), (_queries, rows) in more.items() if rows > few[(name, label)][1]}
    assert {label for label in URLS if ("superuser", label) not in grown} == set()
    assert {label for label in URLS if ("clinic", label) not in grown and ("region", label) not in grown} == (
        NOT_GROWING_FOR_STAFF | SUPERUSER_ONLY
    )
    for label in SUPERUSER_ONLY:
        assert clients["region"].get(reverse(URLS[label])).status_code == 403
    assert {key: (few[key][0], more[key][0]) for key in more if more[key][0] != few[key][0]} == {}
    # The most: a clinic administrator's plan history (session and acting organisation, the
    # gate, the page, its filters, one insert into the access log for the rows shown; the session
    # is not saved again within a minute of the warm-up, smartcare.session).
    assert max(queries for queries, _rows in more.values()) == 11
