"""The organisation a user acts for: chosen among their own active memberships only."""

import datetime

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.urls import reverse
from django.utils import timezone

from sectors import acting
from sectors.choices import MembershipRole

from .factories import GPClinicFactory, MembershipFactory, MunicipalityFactory, UserFactory

pytestmark = pytest.mark.django_db

SWITCH_URL = "/acting-organisation/"


@pytest.fixture(autouse=True)
def english(english, request, settings):
    """The refusals are read in English here (Danish is the default, with its own catalogue), in
    the API's answers too."""
    if "api_client" in request.fixturenames:
        request.getfixturevalue("api_client").cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return english


@pytest.fixture
def two_jobs():
    """A GP who is also a care coordinator in a municipality. The clinic is created first, but
    the municipality comes first by name, so it is the default."""
    clinic = GPClinicFactory(name="Lægehuset Vestergade")
    municipality = MunicipalityFactory(name="Assens Kommune")
    user = UserFactory()
    MembershipFactory(user=user, organisation=clinic, role=MembershipRole.GP)
    MembershipFactory(user=user, organisation=municipality, role=MembershipRole.CARE_COORDINATOR)
    return user, municipality, clinic


@pytest.fixture
def signed_in(client, two_jobs):
    client.force_login(two_jobs[0])
    return client


def dashboard_organisation(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.context["acting"].organisation.name


def test_resolve_defaults_to_the_first_organisation_by_name(two_jobs):
    user, municipality, clinic = two_jobs
    result = acting.resolve(user, None)
    assert result.organisation == municipality
    assert result.roles == {MembershipRole.CARE_COORDINATOR}
    assert not result.is_organisation_admin


def test_resolve_honours_an_own_organisation(two_jobs):
    user, municipality, clinic = two_jobs
    result = acting.resolve(user, str(clinic.pk))
    assert result.organisation == clinic
    assert result.primary_role == MembershipRole.GP


def test_resolve_without_membership_is_nobody():
    assert not acting.resolve(UserFactory(), None)


def test_dashboard_defaults_to_the_first_organisation(signed_in, two_jobs):
    _, municipality, _ = two_jobs
    assert dashboard_organisation(signed_in) == municipality.name
    assert acting.SESSION_KEY not in signed_in.session


def test_switch_changes_the_acting_organisation_and_persists_in_the_session(signed_in, two_jobs):
    _, municipality, clinic = two_jobs
    response = signed_in.post(SWITCH_URL, {"organisation": clinic.pk})
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert signed_in.session[acting.SESSION_KEY] == clinic.pk
    # Later requests keep the choice, and the user can switch back.
    assert dashboard_organisation(signed_in) == clinic.name
    assert dashboard_organisation(signed_in) == clinic.name
    signed_in.post(SWITCH_URL, {"organisation": municipality.pk})
    assert dashboard_organisation(signed_in) == municipality.name


def test_switcher_in_the_header_offers_only_own_organisations(signed_in, two_jobs):
    _, municipality, clinic = two_jobs
    foreign = GPClinicFactory()
    response = signed_in.get("/")
    assert [o.pk for o in response.context["acting_choices"]] == [municipality.pk, clinic.pk]
    assert f'name="organisation" value="{clinic.pk}"' in response.content.decode()
    assert f'name="organisation" value="{foreign.pk}"' not in response.content.decode()


def _end(membership, days_ago=1):
    membership.end_date = timezone.localdate() - datetime.timedelta(days=days_ago)
    membership.start_date = membership.end_date - datetime.timedelta(days=30)
    membership.save()


@pytest.mark.parametrize("case", ["other-organisation", "expired", "not-started", "inactive-organisation", "junk"])
def test_cannot_act_for_an_organisation_without_active_membership(client, two_jobs, case):
    user, municipality, clinic = two_jobs
    if case == "other-organisation":
        target = GPClinicFactory().pk
    elif case == "expired":
        target = MembershipFactory(user=user, organisation=GPClinicFactory(), end_date=timezone.localdate())
        _end(target)
        target = target.organisation_id
    elif case == "not-started":
        target = MembershipFactory(
            user=user, organisation=GPClinicFactory(), start_date=timezone.localdate() + datetime.timedelta(days=1)
        ).organisation_id
    elif case == "inactive-organisation":
        target = MembershipFactory(user=user, organisation=GPClinicFactory(is_active=False)).organisation_id
    else:
        target = 987654321
    client.force_login(user)
    client.post(SWITCH_URL, {"organisation": clinic.pk})  # an earlier, legitimate choice

    response = client.post(SWITCH_URL, {"organisation": target})

    assert response.status_code == 403
    assert client.session[acting.SESSION_KEY] == clinic.pk
    assert dashboard_organisation(client) == clinic.name


def test_forged_switch_does_not_create_a_session_choice(signed_in):
    response = signed_in.post(SWITCH_URL, {"organisation": GPClinicFactory().pk})
    assert response.status_code == 403
    assert acting.SESSION_KEY not in signed_in.session


def test_revoked_membership_stops_the_session_choice_at_the_next_request(signed_in, two_jobs):
    user, municipality, clinic = two_jobs
    signed_in.post(SWITCH_URL, {"organisation": clinic.pk})
    _end(user.memberships.get(organisation=clinic))
    assert dashboard_organisation(signed_in) == municipality.name
    assert acting.SESSION_KEY not in signed_in.session  # forgotten, not kept to come back later


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/organisations/?search=Odense", "/organisations/?search=Odense"),
        ("https://evil.example/", "/"),
        ("//evil.example/phish", "/"),
        ("https://evil.example@testserver.evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_next_is_followed_only_on_this_host(signed_in, two_jobs, next_url, expected):
    _, _, clinic = two_jobs
    response = signed_in.post(SWITCH_URL, {"organisation": clinic.pk, "next": next_url})
    assert response.status_code == 302
    assert response.url == expected


def test_switch_with_malformed_input_is_a_bad_request(signed_in):
    assert signed_in.post(SWITCH_URL, {"organisation": "abc"}).status_code == 400
    assert signed_in.post(SWITCH_URL, {}).status_code == 400


def test_switch_only_accepts_post(signed_in, two_jobs):
    assert signed_in.get(SWITCH_URL, {"organisation": two_jobs[2].pk}).status_code == 405


def test_switch_requires_sign_in(client, two_jobs):
    response = client.post(SWITCH_URL, {"organisation": two_jobs[2].pk})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# --- The API header ---------------------------------------------------------------------------


def me(api_client, **headers):
    response = api_client.get("/api/v1/me/", headers=headers)
    assert response.status_code == 200
    return response.json()


def test_api_acts_for_the_first_organisation_without_header(api_client, two_jobs):
    user, municipality, _ = two_jobs
    api_client.force_authenticate(user)
    body = me(api_client)
    assert body["acting_organisation"]["id"] == municipality.pk
    assert body["acting_roles"] == [MembershipRole.CARE_COORDINATOR]


def test_api_header_selects_among_own_memberships(api_client, two_jobs):
    user, _, clinic = two_jobs
    api_client.force_authenticate(user)
    body = me(api_client, **{"X-Acting-Organisation": str(clinic.pk)})
    assert body["acting_organisation"]["id"] == clinic.pk
    assert body["acting_roles"] == [MembershipRole.GP]


def _header_for(user, case: str) -> str:
    if case == "foreign":
        return str(GPClinicFactory().pk)
    if case == "expired":
        membership = MembershipFactory(user=user, organisation=GPClinicFactory(name="Aaa Lægehus"))
        _end(membership)
        return str(membership.organisation_id)
    return case


@pytest.mark.parametrize("case", ["foreign", "expired"])
def test_api_header_for_an_organisation_without_membership_is_forbidden(api_client, two_jobs, case):
    user, _, _ = two_jobs
    api_client.force_authenticate(user)

    response = api_client.get("/api/v1/me/", headers={"X-Acting-Organisation": _header_for(user, case)})

    assert response.status_code == 403
    assert response.json() == {
        "detail": "You have no active membership of the organisation you asked to act for.",
        "code": "permission_denied",
    }


@pytest.mark.parametrize("case", ["abc", "", " ", "1.5", "-3", "0", "١٢", "9" * 40])
def test_api_header_that_is_not_an_id_is_a_bad_request(api_client, two_jobs, case):
    user, _, _ = two_jobs
    api_client.force_authenticate(user)

    response = api_client.get("/api/v1/me/", headers={"X-Acting-Organisation": case})

    assert response.status_code == 400
    assert response.json() == {
        "X-Acting-Organisation": ["The organisation to act for must be given as an organisation id."]
    }


def test_api_write_with_a_foreign_header_is_refused_and_writes_nothing(api_client, two_jobs):
    from citizens.models import Citizen

    user, municipality, clinic = two_jobs
    api_client.force_authenticate(user)
    foreign = GPClinicFactory()
    payload = {"cpr": "0101801235", "first_name": "Test", "last_name": "Testesen", "municipality": municipality.pk}

    response = api_client.post(
        "/api/v1/citizens/",
        payload,
        format="json",
        headers={"X-Acting-Organisation": str(foreign.pk)},
    )

    assert response.status_code == 403
    assert not Citizen.objects.exists()


def test_api_header_of_a_user_without_memberships_is_forbidden(api_client):
    api_client.force_authenticate(UserFactory())

    response = api_client.get("/api/v1/me/", headers={"X-Acting-Organisation": str(GPClinicFactory().pk)})

    assert response.status_code == 403


@pytest.mark.parametrize(("case", "status"), [("foreign", 403), ("expired", 403), ("abc", 400), ("", 400)])
def test_page_with_a_header_it_may_not_use_answers_with_an_error_page(signed_in, two_jobs, case, status):
    user, _, _ = two_jobs

    response = signed_in.get("/", headers={"X-Acting-Organisation": _header_for(user, case)})

    assert response.status_code == status
    assert f"{status}.html" in [t.name for t in response.templates]
    if status == 403:
        assert "You have no active membership of the organisation you asked to act for." in response.content.decode()


def test_page_with_an_own_organisation_in_the_header_acts_for_it(signed_in, two_jobs):
    _, _, clinic = two_jobs
    response = signed_in.get("/", headers={"X-Acting-Organisation": str(clinic.pk)})
    assert response.status_code == 200
    assert response.context["acting"].organisation == clinic


def test_forged_switch_answers_with_the_error_page(signed_in):
    response = signed_in.post(SWITCH_URL, {"organisation": GPClinicFactory().pk})
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    assert "You have no active membership of the organisation you asked to act for." in response.content.decode()


def test_switch_with_malformed_input_answers_with_the_error_page(signed_in):
    response = signed_in.post(SWITCH_URL, {"organisation": "abc"})
    assert response.status_code == 400
    assert "400.html" in [t.name for t in response.templates]


@pytest.mark.parametrize("value", ["abc", "", "0", "1.5"])
def test_resolve_refuses_a_value_that_is_not_an_id(two_jobs, value):
    with pytest.raises(BadRequest):
        acting.resolve(two_jobs[0], value)


def test_resolve_refuses_an_organisation_without_membership(two_jobs):
    with pytest.raises(PermissionDenied):
        acting.resolve(two_jobs[0], GPClinicFactory().pk)
