"""The identity cache (sectors.identity): who is asking is read once, then served from the cache
until something about it changes, and every change takes effect at the next request."""

import datetime

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.authtoken.models import Token

from sectors import identity
from sectors.acting import resolve
from sectors.api.serializers import MeSerializer, me_representation
from sectors.choices import MembershipRole
from sectors.services import membership_end, organisation_update

from .factories import GPClinicFactory, MembershipFactory, MunicipalityFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
PASSWORD = "correct horse battery staple"  # noqa: S105 - the factories' test password


@pytest.fixture
def two_jobs():
    """A GP who is also a care coordinator; the municipality comes first by name."""
    clinic = GPClinicFactory(name="Lægehuset Vestergade")
    municipality = MunicipalityFactory(name="Assens Kommune")
    user = UserFactory()
    gp = MembershipFactory(user=user, organisation=clinic, role=MembershipRole.GP)
    coordinator = MembershipFactory(user=user, organisation=municipality, role=MembershipRole.CARE_COORDINATOR)
    return user, gp, coordinator


@pytest.fixture
def token(two_jobs):
    return Token.objects.create(user=two_jobs[0])


@pytest.fixture
def integration(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def me(client, acting=None):
    response = get(client, acting)
    assert response.status_code == 200, response.content
    return response.json()


def get(client, acting=None):
    """``/api/v1/me/``, acting for the organisation with the id ``acting`` when given."""
    return client.get(ME) if acting is None else client.get(ME, HTTP_X_ACTING_ORGANISATION=str(acting))


def queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(ME)
    return response.status_code, len(captured)


# --- Queries -------------------------------------------------------------------------------------


def test_a_token_request_reads_the_database_once_then_not_at_all(integration):
    # The token, then the memberships with their user, organisations and token scope; then the
    # token's last use (sectors.tokens.token_used: at most once a minute).
    assert queries(integration) == (200, 3)
    assert queries(integration) == (200, 0)


def test_acting_for_another_own_organisation_needs_no_query(integration, two_jobs):
    _, gp, coordinator = two_jobs
    me(integration)
    with CaptureQueriesContext(connection) as captured:
        body = me(integration, gp.organisation_id)
    assert len(captured) == 0
    assert body["acting_organisation"]["id"] == gp.organisation_id
    assert me(integration)["acting_organisation"]["id"] == coordinator.organisation_id


def test_a_session_request_reads_only_the_session_once_the_identity_is_cached(client, two_jobs):
    client.force_login(two_jobs[0])
    assert client.get(ME).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(ME).status_code == 200
    tables = [q["sql"] for q in captured.captured_queries]
    assert not [sql for sql in tables if "sectors_" in sql or "authtoken" in sql]
    assert any("django_session" in sql for sql in tables)


def test_the_identity_cache_turned_off_reads_the_database_on_every_request(integration, settings):
    settings.IDENTITY_CACHE_SECONDS = 0
    assert queries(integration) == (200, 3)  # and the token's last use, once a minute
    assert queries(integration) == (200, 2)


def test_the_body_of_me_is_what_its_serializer_says(integration, two_jobs):
    user, gp, _ = two_jobs
    membership_end(by=None, membership=gp, end_date=timezone.localdate() - datetime.timedelta(days=1))
    found = identity.identity_get(user.pk)
    acting = resolve(user, None, identity=found)
    context = {"memberships": found.memberships, "acting": acting}
    assert me_representation(user, memberships=found.memberships, acting=acting) == dict(
        MeSerializer(user, context=context).data
    )
    assert me(integration) == me_representation(user, memberships=found.memberships, acting=acting)


# --- Invalidation: every change counts at the next request ----------------------------------------


def test_a_revoked_token_is_refused_at_the_next_request(integration, token):
    me(integration)
    token.delete()
    assert integration.get(ME).status_code == 403


def test_a_replaced_token_works_and_the_old_one_does_not(integration, token, two_jobs):
    me(integration)
    token.delete()
    new = Token.objects.create(user=two_jobs[0])
    assert integration.get(ME).status_code == 403
    integration.credentials(HTTP_AUTHORIZATION=f"Token {new.key}")
    assert me(integration)["id"] == two_jobs[0].pk


def test_a_deactivated_user_is_refused_at_the_next_request(integration, two_jobs):
    me(integration)
    user = two_jobs[0]
    user.is_active = False
    user.save()
    assert integration.get(ME).status_code == 403


def test_a_removed_membership_changes_the_acting_organisation_at_the_next_request(integration, two_jobs):
    _, gp, coordinator = two_jobs
    assert me(integration)["acting_organisation"]["id"] == coordinator.organisation_id
    coordinator.delete()
    assert me(integration)["acting_organisation"]["id"] == gp.organisation_id
    response = get(integration, coordinator.organisation_id)
    assert response.status_code == 403


def test_an_ended_membership_is_refused_at_the_next_request(integration, two_jobs):
    _, gp, _ = two_jobs
    me(integration, gp.organisation_id)
    membership_end(by=None, membership=gp, end_date=timezone.localdate() - datetime.timedelta(days=1))
    response = get(integration, gp.organisation_id)
    assert response.status_code == 403


def test_a_membership_ending_today_ends_with_the_day_without_any_change(integration, two_jobs):
    """Whether a membership is active is decided when it is read, not when it was cached."""
    _, gp, _ = two_jobs
    membership_end(by=None, membership=gp, end_date=timezone.localdate())
    me(integration, gp.organisation_id)
    with freeze_time(timezone.now() + datetime.timedelta(days=1)):
        response = get(integration, gp.organisation_id)
    assert response.status_code == 403


def test_a_new_membership_can_be_acted_for_at_the_next_request(integration, two_jobs):
    me(integration)
    other = MembershipFactory(user=two_jobs[0], organisation=GPClinicFactory(), role=MembershipRole.GP)
    assert me(integration, other.organisation_id)["acting_roles"] == ["gp"]


def test_a_membership_given_to_another_person_leaves_the_first(integration, two_jobs):
    _, gp, _ = two_jobs
    me(integration, gp.organisation_id)
    gp.user = UserFactory()
    gp.save()
    response = get(integration, gp.organisation_id)
    assert response.status_code == 403


def test_a_deactivated_or_renamed_organisation_shows_at_the_next_request(integration, two_jobs):
    _, gp, coordinator = two_jobs
    me(integration)
    organisation_update(by=None, organisation=coordinator.organisation, name="Aabenraa Kommune")
    assert me(integration)["acting_organisation"]["name"] == "Aabenraa Kommune"
    organisation_update(by=None, organisation=coordinator.organisation, is_active=False)
    assert me(integration)["acting_organisation"]["id"] == gp.organisation_id


def test_a_changed_password_ends_the_session_at_the_next_request(client, two_jobs):
    user = two_jobs[0]
    client.force_login(user)
    assert client.get(ME).status_code == 200
    user.set_password("another long passphrase")
    user.save()
    assert client.get(ME).status_code == 403
    assert client.get("/").status_code == 302


def test_a_deactivated_user_loses_the_session_at_the_next_request(client, two_jobs):
    user = two_jobs[0]
    client.force_login(user)
    assert client.get("/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/").status_code == 302


def test_a_lost_version_makes_every_entry_a_miss(integration, two_jobs):
    """Versions are random: one evicted from the cache is never reissued to the entries made under it."""
    me(integration)
    cache = caches[identity.CACHE_ALIAS]
    cache.delete(identity.ORGANISATIONS_VERSION)
    assert queries(integration) == (200, 1)  # the memberships with their user; the token is still known
    cache.delete(identity.TOKENS_VERSION)
    assert queries(integration) == (200, 1)
    assert queries(integration) == (200, 0)


def test_a_change_is_published_again_when_it_commits(two_jobs, django_capture_on_commit_callbacks):
    """A request that read the database before the commit must not keep what it read under the
    version the change made: the version changes once more when the transaction commits."""
    user, gp, _ = two_jobs
    identity.identity_get(user.pk)
    cache = caches[identity.CACHE_ALIAS]
    key = identity._user_version_key(user.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        membership_end(by=None, membership=gp, end_date=timezone.localdate())
    during = cache.get(key)
    # What a concurrent request read before the commit, stored under the version of that moment:
    stale = identity.Identity(user=user, memberships=())
    cache.set(identity._user_keys(user.pk)[0], ((during, cache.get(identity.ORGANISATIONS_VERSION)), stale))
    for callback in callbacks:
        callback()
    assert cache.get(key) != during
    assert identity.identity_get(user.pk).memberships != ()


def test_an_unknown_token_is_refused_and_not_cached(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert api_client.get(ME).status_code == 403
    assert api_client.get(ME).status_code == 403


# --- Pages ------------------------------------------------------------------------------------------


def test_session_pages_use_the_cached_identity(client, two_jobs):
    user, gp, coordinator = two_jobs
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["acting"].organisation.pk == coordinator.organisation_id
    assert [o.pk for o in response.context["acting_choices"]] == [coordinator.organisation_id, gp.organisation_id]
    client.post("/acting-organisation/", {"organisation": gp.organisation_id})
    assert client.get("/").context["acting"].organisation.pk == gp.organisation_id
    gp.delete()
    assert client.get("/").context["acting"].organisation.pk == coordinator.organisation_id


def test_signing_in_with_a_password_still_works(client, two_jobs):
    user = two_jobs[0]
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_token_key_given_to_another_user_names_the_new_user(integration, token):
    """The process remembers which user a token named, to read both at once; only a hint."""
    first = me(integration)["id"]
    key = token.key
    token.delete()
    other = UserFactory()
    Token.objects.create(key=key, user=other)
    assert me(integration)["id"] == other.pk != first


def test_two_integrations_each_get_their_own_user(api_client, token, two_jobs):
    other = Token.objects.create(user=UserFactory())
    for _ in range(2):
        for key, user_id in ((token.key, two_jobs[0].pk), (other.key, other.user_id)):
            api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            assert me(api_client)["id"] == user_id


def test_a_user_without_memberships_is_read_in_two_queries(api_client):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert queries(api_client) == (200, 4)  # the token, the memberships, the user, the token's last use
    assert queries(api_client) == (200, 0)
    assert me(api_client)["memberships"] == []
