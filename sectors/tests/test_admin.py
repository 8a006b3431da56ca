"""The administration: lists, the organisation form, invitations, and two-factor authentication
for administrators."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from sectors.choices import MembershipRole, OrganisationKind
from sectors.models import Organisation

from .factories import (
    GPClinicFactory,
    HospitalUnitFactory,
    MembershipFactory,
    MunicipalityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ORGANISATIONS = "/admin/sectors/organisation/"
USERS = "/admin/sectors/user/"
MEMBERSHIPS = "/admin/sectors/membership/"


@pytest.fixture
def admin(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def named():
    """Named organisations and two members (a GP, a home-care nurse) with known addresses."""
    odense = MunicipalityFactory(name="Odense Kommune", municipality_code="0461")
    svendborg = MunicipalityFactory(name="Svendborg Kommune", municipality_code="0479")
    clinic = GPClinicFactory(name="Lægerne Vestergade", municipality=odense)
    unit = HospitalUnitFactory(name="Odense Universitetshospital", municipality=odense)
    gp = MembershipFactory(organisation=clinic, role=MembershipRole.GP, user=UserFactory(email="karen@example.dk"))
    nurse = MembershipFactory(
        organisation=svendborg, role=MembershipRole.HOME_CARE_NURSE, user=UserFactory(email="jonas@example.dk")
    )
    return {"odense": odense, "svendborg": svendborg, "clinic": clinic, "unit": unit, "gp": gp, "nurse": nurse}


def changelist(client, url, **params) -> list:
    response = client.get(url, params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


# --- Lists ------------------------------------------------------------------------------------


def test_organisation_changelist_search_and_filters(admin, named):
    assert set(changelist(admin, ORGANISATIONS)) == {named[k] for k in ("odense", "svendborg", "clinic", "unit")}
    assert set(changelist(admin, ORGANISATIONS, q="Odense")) == {named["odense"], named["unit"]}
    assert changelist(admin, ORGANISATIONS, q=named["clinic"].gln) == [named["clinic"]]
    assert set(changelist(admin, ORGANISATIONS, kind__exact=OrganisationKind.MUNICIPALITY)) == {
        named["odense"],
        named["svendborg"],
    }
    assert set(changelist(admin, ORGANISATIONS, municipality__id__exact=named["odense"].pk)) == {
        named["clinic"],
        named["unit"],
    }
    assert changelist(admin, ORGANISATIONS, is_active__exact=0) == []


def test_user_changelist_search_and_filters(admin, named, superuser):
    gp, nurse = named["gp"].user, named["nurse"].user
    assert set(changelist(admin, USERS)) == {gp, nurse, superuser}
    assert changelist(admin, USERS, q="karen") == [gp]
    assert changelist(admin, USERS, role=MembershipRole.HOME_CARE_NURSE) == [nurse]
    assert changelist(admin, USERS, is_superuser__exact=1) == [superuser]


def test_membership_changelist_search_and_filters(admin, named):
    assert set(changelist(admin, MEMBERSHIPS)) == {named["gp"], named["nurse"]}
    assert changelist(admin, MEMBERSHIPS, q="Vestergade") == [named["gp"]]
    assert changelist(admin, MEMBERSHIPS, q="jonas@") == [named["nurse"]]
    assert changelist(admin, MEMBERSHIPS, role__exact=MembershipRole.GP) == [named["gp"]]
    assert changelist(admin, MEMBERSHIPS, organisation__kind__exact=OrganisationKind.MUNICIPALITY) == [named["nurse"]]


@pytest.mark.parametrize("model", ["organisation", "user", "membership"])
def test_change_pages_render(admin, named, model):
    obj = {"organisation": named["clinic"], "user": named["gp"].user, "membership": named["gp"]}[model]
    assert admin.get(f"/admin/sectors/{model}/{obj.pk}/change/").status_code == 200
    assert admin.get(f"/admin/sectors/{model}/add/").status_code == 200


def test_admin_is_closed_to_non_staff(client, named):
    client.force_login(named["gp"].user)
    response = client.get(ORGANISATIONS)
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


# --- The organisation form --------------------------------------------------------------------


def organisation_form(**overrides):
    data = {
        "kind": OrganisationKind.HOSPITAL_UNIT,
        "name": "Sygehus Sønderjylland",
        "parent": "",
        "municipality": "",
        "is_active": "on",
        "sor_code": "265381000016",
        "gln": "5790000000005",
        "municipality_code": "",
        "ydernummer": "",
        "street": "",
        "postal_code": "",
        "city": "",
        "phone": "",
        "email": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "location_numbers-TOTAL_FORMS": "0",
        "location_numbers-INITIAL_FORMS": "0",
        "location_numbers-MIN_NUM_FORMS": "0",
        "location_numbers-MAX_NUM_FORMS": "1000",
    }
    return {**data, **overrides}


def test_add_organisation(admin):
    response = admin.post(f"{ORGANISATIONS}add/", organisation_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Organisation.objects.get().gln == "5790000000005"


def test_add_organisation_with_a_second_ean_number(admin):
    data = organisation_form(**{"location_numbers-TOTAL_FORMS": "1", "location_numbers-0-gln": "5796500001009"})
    response = admin.post(f"{ORGANISATIONS}add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(Organisation.objects.get().location_numbers.values_list("gln", flat=True)) == ["5796500001009"]


@pytest.mark.parametrize("gln", ["5790000000006", "579000000000", "579000000000X"])
def test_add_organisation_with_bad_gln_shows_the_error_and_creates_nothing(admin, gln):
    response = admin.post(f"{ORGANISATIONS}add/", organisation_form(gln=gln))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["gln"]
    assert escape(errors["gln"][0]) in response.content.decode()
    assert not Organisation.objects.exists()


def test_add_municipality_without_code_shows_the_error(admin):
    response = admin.post(f"{ORGANISATIONS}add/", organisation_form(kind=OrganisationKind.MUNICIPALITY))
    assert response.status_code == 200
    assert "municipality_code" in response.context["adminform"].form.errors
    assert not Organisation.objects.exists()


# --- Invitations ------------------------------------------------------------------------------


def test_send_invitation_action_emails_each_selected_user(admin, named):
    invitees = [named["gp"].user, named["nurse"].user]
    response = admin.post(
        USERS, {"action": "send_invitation", "_selected_action": [u.pk for u in invitees]}, follow=True
    )
    assert response.status_code == 200
    assert sorted(m.to[0] for m in mail.outbox) == ["jonas@example.dk", "karen@example.dk"]
    for message in mail.outbox:
        assert re.search(r"/accounts/password/reset/key/\S+/", message.body)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_send_invitation_to_an_inactive_user_reports_an_error(admin, named):
    user = named["gp"].user
    user.is_active = False
    user.save()
    response = admin.post(USERS, {"action": "send_invitation", "_selected_action": [user.pk]}, follow=True)
    assert mail.outbox == []
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


# --- Two-factor authentication for administrators ---------------------------------------------


def with_totp(user):
    TOTP.activate(user, generate_totp_secret())
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return user


@pytest.fixture
def organisation_admin():
    membership = MembershipFactory(role=MembershipRole.ORGANISATION_ADMIN, user=UserFactory(is_staff=True))
    return membership.user


@pytest.fixture
def staff_gp(gp):
    gp.is_staff = True
    gp.save()
    return gp


def admin_index(client, user):
    client.force_login(user)
    return client.get("/admin/")


@pytest.fixture
def mfa_required(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = True


@pytest.mark.usefixtures("mfa_required")
def test_superuser_without_totp_is_sent_to_set_it_up(client, superuser):
    response = admin_index(client, superuser)
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    # Every admin page, not just the index.
    assert client.get(ORGANISATIONS).url == reverse("mfa_activate_totp")


@pytest.mark.usefixtures("mfa_required")
def test_superuser_with_totp_is_let_in(client, superuser):
    assert admin_index(client, with_totp(superuser)).status_code == 200
    assert client.get(ORGANISATIONS).status_code == 200


@pytest.mark.usefixtures("mfa_required")
def test_organisation_admin_without_totp_is_sent_to_set_it_up(client, organisation_admin):
    response = admin_index(client, organisation_admin)
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


@pytest.mark.usefixtures("mfa_required")
def test_organisation_admin_with_totp_is_let_in(client, organisation_admin):
    assert admin_index(client, with_totp(organisation_admin)).status_code == 200


@pytest.mark.usefixtures("mfa_required")
def test_former_organisation_admin_is_not_asked_for_totp(client, organisation_admin):
    membership = organisation_admin.memberships.get()
    membership.end_date = membership.start_date
    membership.save()
    assert admin_index(client, organisation_admin).status_code == 200


@pytest.mark.usefixtures("mfa_required")
def test_staff_gp_is_not_affected(client, staff_gp):
    assert admin_index(client, staff_gp).status_code == 200


@pytest.mark.usefixtures("mfa_required")
def test_pages_outside_the_admin_are_not_affected(client, superuser):
    client.force_login(superuser)
    assert client.get("/organisations/").status_code == 200


@pytest.mark.usefixtures("mfa_required")
def test_non_staff_gp_gets_the_admin_sign_in_not_totp(client):
    gp = MembershipFactory(role=MembershipRole.GP).user
    response = admin_index(client, gp)
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


@pytest.mark.parametrize("who", ["superuser", "organisation_admin"])
def test_nobody_is_redirected_when_not_required(client, settings, request, who):
    settings.MFA_REQUIRED_FOR_ADMINS = False
    assert admin_index(client, request.getfixturevalue(who)).status_code == 200
