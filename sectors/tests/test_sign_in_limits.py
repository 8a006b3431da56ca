"""Signing in from behind a hospital firewall: thousands of staff share one address, so the
per-address limits are generous; failures against one account stay strictly limited; the client
address is believed from X-Forwarded-For only through the trusted proxies, for the rate limits and
the access log alike."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.test import Client, RequestFactory

from sectors.adapters import client_ip
from sectors.models import User

PASSWORD = "correct horse battery staple"  # noqa: S105 - test accounts only
HOSPITAL = "10.20.30.40"  # the hospital's one outgoing address


@pytest.fixture(autouse=True)
def fresh_limits():
    """The rate limits live in the cache: every test starts with none used."""
    cache.clear()
    yield
    cache.clear()


def sign_in(email: str, password: str = PASSWORD, **headers):
    client = Client(REMOTE_ADDR=headers.pop("REMOTE_ADDR", HOSPITAL), **headers)
    response = client.post("/accounts/login/", {"login": email, "password": password})
    return client, response


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_three_hundred_staff_sign_in_from_one_address_at_shift_change():
    hashed = make_password(PASSWORD)
    users = User.objects.bulk_create(
        User(email=f"nurse{i}@hospital.example", first_name="Sygeplejerske", last_name=str(i), password=hashed)
        for i in range(300)
    )
    refused = []
    for user in users:
        client, response = sign_in(user.email)
        if response.status_code != 302 or not signed_in(client):
            refused.append((user.email, response.status_code))
    assert refused == []


@pytest.mark.django_db
def test_failures_against_one_account_are_still_limited(django_user_model):
    user = django_user_model.objects.create_user(email="gp@clinic.example", password=PASSWORD)
    for _attempt in range(5):
        client, response = sign_in(user.email, "wrong password")
        assert response.status_code == 200 and not signed_in(client)

    # The sixth try is refused even with the right password, and from another address.
    client, response = sign_in(user.email, REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 200
    assert not signed_in(client)
    assert "too many" in response.content.decode().lower() or "for mange" in response.content.decode().lower()

    # Others behind the same address are not locked out by one colleague's typos.
    colleague = django_user_model.objects.create_user(email="nurse@clinic.example", password=PASSWORD)
    client, response = sign_in(colleague.email)
    assert response.status_code == 302 and signed_in(client)


@pytest.mark.django_db
def test_many_failures_from_one_address_for_different_accounts_do_not_lock_the_address(django_user_model):
    for i in range(20):
        client, response = sign_in(f"nobody{i}@hospital.example", "wrong password")
        assert response.status_code == 200 and not signed_in(client)
    user = django_user_model.objects.create_user(email="doctor@hospital.example", password=PASSWORD)
    client, response = sign_in(user.email)
    assert response.status_code == 302 and signed_in(client)


# --- whose address -------------------------------------------------------------------------------


def request_from(remote: str, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_without_trusted_proxies_x_forwarded_for_is_not_believed(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
    assert client_ip(request_from("203.0.113.5", HTTP_X_FORWARDED_FOR="6.6.6.6")) == "203.0.113.5"


def test_behind_one_trusted_proxy_its_entry_is_the_client(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
    # The client sent a made-up first entry; the proxy appended the address it really saw.
    request = request_from("10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"
    assert client_ip(request_from("10.0.0.2")) == "10.0.0.2"


def test_a_trusted_proxy_header_names_the_client(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    request = request_from("10.0.0.2", HTTP_X_REAL_IP="198.51.100.8", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "198.51.100.8"
    assert client_ip(request_from("10.0.0.2", HTTP_X_REAL_IP="not an address")) is None


def test_a_request_that_bypassed_the_trusted_proxies_is_refused_not_a_500(settings, db):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
    assert client_ip(request_from("10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6")) is None
    response = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6").post(
        "/accounts/login/", {"login": "a@b.example", "password": "x"}
    )
    assert response.status_code == 403
