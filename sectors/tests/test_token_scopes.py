"""Token scopes (sectors.tokens): the check every API asks, the scope carried by the cached identity
(no query once warm), the token's last use written at most once a minute, and the admin that shows
and edits both."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.authtoken.models import Token

from sectors.choices import TokenUse
from sectors.models import TokenScope
from sectors.services import gateway_create, token_scope_set
from sectors.tokens import ANY_WRITE, token_authenticated, token_permits, token_refusal, token_used

from .factories import GPClinicFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
TOKENS = "/admin/authtoken/tokenproxy/"


@pytest.fixture(autouse=True)
def no_mfa_for_admins(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = False


def token_request(scope: TokenScope | None):
    request = RequestFactory().get("/fhir/Patient")
    token_authenticated(request, scope=scope)
    return request


def limited(uses=(), types=()) -> TokenScope:
    return TokenScope(uses=list(uses), resource_types=list(types))


# --- The check ------------------------------------------------------------------------------------


def test_a_request_without_a_token_is_always_permitted():
    request = RequestFactory().post("/fhir/Observation")
    for use in (*TokenUse.values, ANY_WRITE):
        assert token_permits(request, use=use, resource_type="Observation")


def test_a_token_without_a_scope_or_with_an_empty_one_is_permitted_everything():
    for scope in (None, limited()):
        for use in (*TokenUse.values, ANY_WRITE):
            assert token_permits(token_request(scope), use=use, resource_type="Patient")


def test_a_scope_permits_only_its_uses():
    request = token_request(limited([TokenUse.READ, TokenUse.PROCESS_MESSAGE]))
    assert token_permits(request, use=TokenUse.READ, resource_type="Patient")
    assert token_permits(request, use=TokenUse.PROCESS_MESSAGE)
    assert not token_permits(request, use=TokenUse.WRITE_OBSERVATIONS, resource_type="Observation")
    assert not token_permits(request, use=ANY_WRITE, resource_type="Patient")


def test_resource_types_limit_typed_requests_only(english):
    request = token_request(limited([TokenUse.READ], ["Observation", "Patient"]))
    assert token_permits(request, use=TokenUse.READ, resource_type="Observation")
    assert token_permits(request, use=TokenUse.READ, resource_type="Patient")
    assert not token_permits(request, use=TokenUse.READ, resource_type="Encounter")
    assert not token_permits(request, use=TokenUse.READ, resource_type="")  # an endpoint without a type
    assert token_permits(request, use=TokenUse.READ, resource_type=None)  # about no one type
    assert token_refusal(request, use=TokenUse.READ, resource_type="Encounter") == (
        "This token may not be used for Encounter. Its scope covers: Observation, Patient."
    )


def test_a_scope_limited_to_resource_types_only_allows_every_use_on_them():
    request = token_request(limited(types=["Observation"]))
    assert token_permits(request, use=ANY_WRITE, resource_type="Observation")
    assert not token_permits(request, use=TokenUse.READ, resource_type="Patient")


def test_the_check_takes_drf_requests_too():
    from rest_framework.request import Request

    request = token_request(limited([TokenUse.READ]))
    assert not token_permits(Request(request), use=TokenUse.PROCESS_MESSAGE)


@pytest.mark.parametrize(
    ("uses", "types", "field"),
    [
        (["delete-everything"], [], "uses"),
        ([], ["Patients"], "resource_types"),
        ([], ["HumanName"], "resource_types"),  # a FHIR data type, no resource
    ],
)
def test_a_scope_names_known_uses_and_fhir_resource_types(uses, types, field):
    user = UserFactory()
    with pytest.raises(ValidationError) as raised:
        token_scope_set(by=None, user=user, uses=uses, resource_types=types)
    assert field in raised.value.message_dict
    assert not TokenScope.objects.filter(user=user).exists()


def test_a_scope_lists_its_resource_types():
    with pytest.raises(ValidationError) as raised:
        TokenScope(uses=[], resource_types="Patient").clean()
    assert "resource_types" in raised.value.message_dict


def test_the_service_tidies_the_scope():
    scope = token_scope_set(
        by=None, user=UserFactory(), uses=["read", "read"], resource_types=[" Patient", "Observation", ""]
    )
    scope.refresh_from_db()
    assert (scope.uses, scope.resource_types) == (["read"], ["Observation", "Patient"])


# --- The cached identity --------------------------------------------------------------------------


@pytest.fixture
def integration(api_client):
    user = MembershipFactory(organisation=GPClinicFactory()).user
    token_scope_set(by=None, user=user, uses=[TokenUse.READ], resource_types=[])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api_client


def test_a_warm_scoped_token_request_reads_nothing(integration):
    with CaptureQueriesContext(connection) as cold:
        assert integration.get(ME).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert integration.get(ME).status_code == 200
    assert len(cold) == 3  # the token; the memberships with their user and its scope; the last use
    assert len(warm) == 0


def test_a_warm_refused_request_reads_nothing_either(integration):
    integration.get(ME)
    with CaptureQueriesContext(connection) as warm:
        assert integration.post("/api/v1/citizens/", {}, format="json").status_code == 403
    assert len(warm) == 0


# --- Last use -------------------------------------------------------------------------------------


def test_the_last_use_is_written_at_most_once_a_minute(api_client):
    user = UserFactory()
    key = Token.objects.create(user=user).key
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    start = timezone.now().replace(microsecond=0)
    with freeze_time(start) as clock:
        assert api_client.get(ME).status_code == 200
        assert TokenScope.objects.get(user=user).last_used_at == start
        assert not TokenScope.objects.get(user=user).is_limited  # a use gives no scope

        clock.tick(datetime.timedelta(seconds=30))
        with CaptureQueriesContext(connection) as throttled:
            api_client.get(ME)
        assert len(throttled) == 0
        assert TokenScope.objects.get(user=user).last_used_at == start

        clock.tick(datetime.timedelta(seconds=31))
        api_client.get(ME)
        assert TokenScope.objects.get(user=user).last_used_at == start + datetime.timedelta(seconds=61)


def test_recording_a_use_keeps_the_scope_and_the_cached_identity(integration):
    user = Token.objects.get().user
    integration.get(ME)
    token_used(key=Token.objects.get().key, user_id=user.pk, now=timezone.now() + datetime.timedelta(minutes=5))
    scope = TokenScope.objects.get(user=user)
    assert scope.uses == [TokenUse.READ]
    with CaptureQueriesContext(connection) as warm:
        assert integration.get(ME).status_code == 200
    assert len(warm) == 0  # no version bump: still cached


# --- Admin ----------------------------------------------------------------------------------------


def test_the_token_list_shows_each_scope_and_last_use(client, superuser):
    scoped_user, plain_user = UserFactory(email="lab@example.dk"), UserFactory(email="plain@example.dk")
    Token.objects.create(user=scoped_user)
    Token.objects.create(user=plain_user)
    token_scope_set(by=None, user=scoped_user, uses=[TokenUse.WRITE_OBSERVATIONS], resource_types=["Observation"])
    token_used(key="x" * 40, user_id=scoped_user.pk, now=datetime.datetime(2026, 3, 2, 9, 15, tzinfo=datetime.UTC))
    client.force_login(superuser)
    client.cookies["django_language"] = "en"

    html = client.get(TOKENS).content.decode()
    assert "column-scope" in html and "column-last_used" in html
    assert "write observations · Observation" in html
    assert "Full rights (no scope)" in html
    assert "not recorded" in html
    assert "2026" in html


def test_the_admin_edits_a_tokens_scope(client, superuser):
    user = UserFactory()
    Token.objects.create(user=user)
    client.force_login(superuser)
    client.cookies["django_language"] = "en"
    page = client.get(f"{TOKENS}{user.pk}/change/").content.decode()
    assert "A token without a scope keeps its full rights" in page
    assert 'value="write-observations"' in page and "Last used" in page

    response = client.post(
        f"{TOKENS}{user.pk}/change/", {"uses": [TokenUse.READ], "resource_types": "Patient, Observation"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    scope = TokenScope.objects.get(user=user)
    assert (scope.uses, scope.resource_types) == (["read"], ["Observation", "Patient"])

    wrong = client.post(f"{TOKENS}{user.pk}/change/", {"uses": [TokenUse.READ], "resource_types": "Patients"})
    assert wrong.status_code == 200
    assert "resource_types" in wrong.context["adminform"].form.errors


def test_a_token_made_in_the_admin_gets_its_scope(client, superuser):
    user = UserFactory()
    client.force_login(superuser)
    response = client.post(f"{TOKENS}add/", {"user": user.pk, "uses": [TokenUse.PROCESS_MESSAGE]})
    assert response.status_code == 302
    assert Token.objects.filter(user=user).exists()
    assert TokenScope.objects.get(user=user).uses == ["process-message"]


def test_a_renewed_gateway_token_keeps_its_scope_and_the_gateway_list_shows_it(client, superuser):
    from sectors.services import gateway_token_renew

    gateway, _key = gateway_create(by=None, name="VANS Syd")
    token_scope_set(by=None, user=gateway.user, uses=[TokenUse.PROCESS_MESSAGE], resource_types=[])
    gateway_token_renew(by=None, gateway=gateway)
    assert TokenScope.objects.get(user=gateway.user).uses == ["process-message"]

    client.force_login(superuser)
    client.cookies["django_language"] = "en"
    html = client.get("/admin/sectors/gateway/").content.decode()
    assert "send messages ($process-message) · all resource types" in html
    assert "column-token_last_used" in html
