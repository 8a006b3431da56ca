"""The administrators' page of gateways and integrations: traffic and last errors per account."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from messaging.fhir.traffic import calls_prune
from messaging.models import FhirCall
from sectors.choices import MembershipRole, OrganisationKind
from sectors.services import gateway_create
from sectors.tests.factories import MembershipFactory, MunicipalUnitFactory, OrganisationFactory, UserFactory

from . import fixtures_fhir as fx
from .fhir_post import FHIR_JSON, URL
from .test_medcom_scenarios import AUH_GERIATRICS

pytestmark = pytest.mark.django_db
PAGE = reverse("messaging_ops:integrations")


def post(client, key: str, bundle) -> None:
    client.post(URL, data=json.dumps(bundle), content_type=FHIR_JSON, HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def traffic(world, client, django_capture_on_commit_callbacks):
    """A gateway with two messages (one refused) and the clinic's own system with one."""
    unit = MunicipalUnitFactory(parent=world.municipality_a)
    _gateway, key = gateway_create(by=None, name="MedCom EHMI")
    system = MembershipFactory(organisation=world.clinic_a, role=MembershipRole.INTEGRATION).user
    with django_capture_on_commit_callbacks(execute=True):
        post(client, key, fx.care_communication(sender=AUH_GERIATRICS, receiver=unit, cpr=world.citizen.cpr))
        post(
            client,
            key,
            fx.care_communication(sender=AUH_GERIATRICS, receiver=unit, cpr=world.citizen.cpr, category="gossip"),
        )
        own = Token.objects.create(user=system).key
        post(
            client,
            own,
            fx.care_communication(sender=world.clinic_a, receiver=world.municipality_a, cpr=world.citizen.cpr),
        )
    return system


def test_the_region_sees_every_gateway_and_integration_with_traffic_and_errors(client, world, traffic):
    region = OrganisationFactory(kind=OrganisationKind.REGION)
    admin = MembershipFactory(organisation=region, role=MembershipRole.ORGANISATION_ADMIN).user
    client.force_login(admin)
    html = client.get(PAGE).content.decode()
    rows = html.split('data-testid="integration-row"')[1:]
    assert len(rows) == 2
    gateway = next(r for r in rows if "MedCom EHMI" in r)
    assert 'data-testid="calls-day">2<' in gateway and 'data-testid="errors-day">1<' in gateway
    assert "MSG_VALUESET_VALUE_UNKNOWN" in gateway
    own = next(r for r in rows if world.clinic_a.name in r)
    assert 'data-testid="calls-day">1<' in own and 'data-testid="errors-day">0<' in own


def test_an_organisation_admin_sees_only_its_own_systems(client, world, traffic):
    admin = MembershipFactory(organisation=world.clinic_a, role=MembershipRole.ORGANISATION_ADMIN).user
    client.force_login(admin)
    html = client.get(PAGE).content.decode()
    assert "MedCom EHMI" not in html and world.clinic_a.name in html
    client.force_login(world.users["gp_b"])
    assert client.get(PAGE).status_code == 403  # the outsider, a clinician, sees nothing
    client.force_login(world.users["gp_a"])
    assert client.get(PAGE).status_code == 403


def test_the_page_reads_a_fixed_number_of_queries(client, world, traffic, superuser):
    client.force_login(superuser)
    client.get(PAGE)
    with CaptureQueriesContext(connection) as few:
        client.get(PAGE)
    for n in range(5):
        gateway_create(by=None, name=f"VANS {n}")
        MembershipFactory(organisation=MunicipalUnitFactory(), role=MembershipRole.INTEGRATION, user=UserFactory())
    with CaptureQueriesContext(connection) as many:
        assert client.get(PAGE).status_code == 200
    assert len(many) == len(few)


def test_old_call_records_are_pruned_daily(world, traffic, settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["messaging-fhir-calls-prune"]["task"] == "messaging.tasks.fhir_calls_prune_task"
    )
    settings.FHIR_CALL_DAYS = 90
    kept = FhirCall.objects.count()
    FhirCall.objects.filter(pk=FhirCall.objects.order_by("pk").first().pk).update(
        at=timezone.now() - datetime.timedelta(days=91)
    )
    assert calls_prune() == 1
    assert FhirCall.objects.count() == kept - 1
