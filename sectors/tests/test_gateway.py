"""Gateways: system accounts through which the national MedCom network delivers messages. Only
superusers register them; the token is shown once and authenticates the gateway's account."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token

from sectors.choices import GatewayEvent, MembershipRole
from sectors.models import Gateway
from sectors.services import gateway_create, gateway_token_renew

from .factories import MembershipFactory, MunicipalUnitFactory, UserFactory

pytestmark = pytest.mark.django_db
GATEWAYS = "/admin/sectors/gateway/"


def test_a_gateway_is_a_system_account_without_memberships_or_password():
    gateway, key = gateway_create(by=None, name="VANS Nord")
    assert gateway.user.memberships.count() == 0
    assert not gateway.user.has_usable_password()
    assert Token.objects.get(user=gateway.user).key == key
    assert gateway.may_deliver(GatewayEvent.CARE_COMMUNICATION)
    assert gateway.may_deliver_to(MunicipalUnitFactory())


def test_a_gateway_may_be_limited_to_events_and_receivers():
    allowed, other = MunicipalUnitFactory(), MunicipalUnitFactory()
    gateway, _key = gateway_create(
        by=None,
        name="EHMI",
        event_codes=[GatewayEvent.HOSPITAL_NOTIFICATION],
        all_receivers=False,
        receivers=[allowed],
    )
    assert gateway.may_deliver(GatewayEvent.HOSPITAL_NOTIFICATION)
    assert not gateway.may_deliver(GatewayEvent.CARE_COMMUNICATION)
    assert gateway.may_deliver_to(allowed) and not gateway.may_deliver_to(other)
    gateway.is_active = False
    assert not gateway.may_deliver(GatewayEvent.HOSPITAL_NOTIFICATION)


@pytest.mark.parametrize("codes", [[], ["gossip-message"], "care-communication-message"])
def test_a_gateway_needs_known_events(codes):
    with pytest.raises(ValidationError):
        gateway_create(by=None, name="Broken", event_codes=codes)
    assert not Gateway.objects.exists()


def test_renewing_the_token_stops_the_old_one(client):
    gateway, old = gateway_create(by=None, name="VANS Syd")
    new = gateway_token_renew(by=None, gateway=gateway)
    assert new != old
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 403
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {new}").status_code == 200


def test_the_superuser_registers_a_gateway_in_the_admin_and_sees_the_token_once(client, superuser):
    client.force_login(superuser)
    unit = MunicipalUnitFactory()
    response = client.post(
        f"{GATEWAYS}add/",
        {
            "name": "MedCom EHMI",
            "event_codes": [GatewayEvent.CARE_COMMUNICATION, GatewayEvent.HOSPITAL_NOTIFICATION],
            "receivers": [unit.pk],
            "webhook_url": "https://gateway.example.org/out",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    gateway = Gateway.objects.get()
    assert gateway.event_codes == [GatewayEvent.CARE_COMMUNICATION, GatewayEvent.HOSPITAL_NOTIFICATION]
    assert not gateway.all_receivers and list(gateway.receivers.all()) == [unit]
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    key = re.search(r"\b([0-9a-f]{40})\b", shown).group(1)
    assert Token.objects.get(key=key).user == gateway.user
    assert client.get(GATEWAYS).status_code == 200
    assert key not in client.get(f"{GATEWAYS}{gateway.pk}/change/").content.decode()


def test_only_superusers_see_gateways(client):
    administrator = UserFactory(is_staff=True)
    MembershipFactory(user=administrator, role=MembershipRole.ORGANISATION_ADMIN)
    client.force_login(administrator)
    gateway_create(by=None, name="VANS Nord")
    assert client.get(GATEWAYS).status_code == 403
