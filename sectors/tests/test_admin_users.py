"""The administrators' user pages: adding a person is an invitation (e-mail, name, memberships; no
password), the list filters by organisation and role of one membership, and the user page shows
the memberships first and the raw permission lists only to superusers."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client

from sectors.choices import MembershipRole
from sectors.models import User

from .factories import GPClinicFactory, MembershipFactory, MunicipalityFactory, UserFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/sectors/user/"
ADD = f"{USERS}add/"


@pytest.fixture(autouse=True)
def no_mfa_for_admins(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = False


@pytest.fixture
def root(client):
    user = UserFactory(is_staff=True, is_superuser=True, email="root@example.dk")
    client.force_login(user)
    return client


@pytest.fixture
def organisation_admin_client(clinic):
    """An administrator of the clinic, with the user and membership permissions (own client)."""
    user = MembershipFactory(organisation=clinic, role=MembershipRole.ORGANISATION_ADMIN).user
    user.is_staff = True
    user.save()
    codenames = [f"{verb}_{model}" for verb in ("view", "add", "change") for model in ("user", "membership")]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def add_form(clinic=None, **overrides) -> dict:
    data = {
        "email": "Ny.Laege@Example.DK",
        "first_name": "Nina",
        "last_name": "Nygaard",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if clinic is not None:
        data |= {
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-organisation": clinic.pk,
            "memberships-0-role": MembershipRole.GP,
            "memberships-0-start_date": "2026-01-01",
        }
    return data | overrides


# --- adding a person: an invitation -------------------------------------------------------------


def test_add_form_asks_only_email_name_and_memberships(root):
    response = root.get(ADD)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.fields) == ["email", "first_name", "last_name"]
    content = response.content.decode()
    assert 'type="password"' not in content
    assert 'name="memberships-TOTAL_FORMS"' in content


@pytest.mark.parametrize("who", ["root", "organisation_admin_client"])
def test_adding_a_person_saves_the_memberships_and_emails_the_invitation(
    request, who, clinic, django_capture_on_commit_callbacks
):
    client = request.getfixturevalue(who)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD, add_form(clinic))

    assert response.status_code == 302
    user = User.objects.get(email="ny.laege@example.dk")
    assert not user.has_usable_password()
    assert [(m.organisation, m.role) for m in user.memberships.all()] == [(clinic, MembershipRole.GP)]
    assert EmailAddress.objects.get(user=user).verified
    assert [m.to for m in mail.outbox] == [["ny.laege@example.dk"]]
    assert re.search(r"/accounts/password/reset/key/\S+/", mail.outbox[0].body)
    page = client.get(response.url)
    assert "ny.laege@example.dk" in [str(m) for m in page.context["messages"]][0]


def test_no_invitation_until_the_account_is_committed(root, clinic, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        root.post(ADD, add_form(clinic))

    assert mail.outbox == []
    for callback in callbacks:  # the commit: the invitation, and the identity cache's invalidation
        callback()
    assert [m.to for m in mail.outbox] == [["ny.laege@example.dk"]]


def test_a_person_with_a_known_address_is_not_added_twice(root, clinic):
    UserFactory(email="ny.laege@example.dk")

    response = root.post(ADD, add_form(clinic))

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert User.objects.filter(email__iexact="ny.laege@example.dk").count() == 1
    assert mail.outbox == []


def test_an_organisation_administrator_adds_no_membership_elsewhere(organisation_admin_client):
    elsewhere = GPClinicFactory(name="Lægehuset Torvet")

    response = organisation_admin_client.post(ADD, add_form(elsewhere))

    assert response.status_code == 200
    assert not User.objects.filter(email="ny.laege@example.dk").exists()
    assert mail.outbox == []


# --- the list: by organisation and role -----------------------------------------------------------


def test_user_list_filters_by_organisation_and_role_of_the_same_membership(root, clinic):
    municipality = MunicipalityFactory(name="Odense Kommune")
    gp = MembershipFactory(organisation=clinic, role=MembershipRole.GP).user
    # a practice nurse here who is a GP elsewhere is not one of this clinic's GPs
    mixed = MembershipFactory(organisation=clinic, role=MembershipRole.PRACTICE_NURSE).user
    MembershipFactory(user=mixed, organisation=GPClinicFactory(), role=MembershipRole.GP)
    nurse = MembershipFactory(organisation=municipality, role=MembershipRole.HOME_CARE_NURSE).user

    def listed(**params):
        response = root.get(USERS, params)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed(organisation=clinic.pk) == {gp, mixed}
    assert listed(organisation=municipality.pk) == {nurse}
    assert listed(role=MembershipRole.GP) == {gp, mixed}
    assert listed(organisation=clinic.pk, role=MembershipRole.GP) == {gp}
    filters = root.get(USERS).content.decode()
    assert clinic.name in filters
    assert str(MembershipRole.HOME_CARE_NURSE.label) in filters


@pytest.mark.parametrize("params", [{"organisation": "x"}, {"role": "surgeon"}])
def test_user_list_with_a_bad_filter_value_is_not_an_error(root, clinic, params):
    MembershipFactory(organisation=clinic, role=MembershipRole.GP)

    response = root.get(USERS, params)

    assert response.status_code == 302
    assert "?e=1" in response.url


# --- the user page ------------------------------------------------------------------------------


def test_user_page_shows_memberships_before_the_other_fields(root, clinic):
    user = MembershipFactory(organisation=clinic, role=MembershipRole.GP).user

    content = root.get(f"{USERS}{user.pk}/change/").content.decode()

    assert content.index('id="memberships-group"') < content.index('name="first_name"')


def test_raw_permission_lists_are_shown_to_superusers_only(root, organisation_admin_client, clinic):
    user = MembershipFactory(organisation=clinic, role=MembershipRole.GP).user
    url = f"{USERS}{user.pk}/change/"

    as_root = root.get(url).content.decode()
    as_organisation_admin = organisation_admin_client.get(url)

    assert 'name="user_permissions"' in as_root
    assert 'name="groups"' in as_root
    assert as_organisation_admin.status_code == 200
    fields = [f for fieldset in as_organisation_admin.context["adminform"] for line in fieldset for f in line]
    names = {f.field["name"] if isinstance(f.field, dict) else f.field.name for f in fields}
    assert "user_permissions" not in names
    assert "groups" not in names
    assert "is_active" in names
