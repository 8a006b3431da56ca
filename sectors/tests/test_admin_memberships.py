"""Membership management in the admin is scoped: a member of staff who is not a superuser manages
only memberships of organisations they administer (an active organisation-administrator
membership there), and never their own: not on the membership pages, not in the membership lists
on the user and organisation pages."""

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from sectors.admin import MembershipInlineForOrganisation, MembershipInlineForUser
from sectors.choices import MembershipRole
from sectors.models import Membership, Organisation, User

from .factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MEMBERSHIPS = "/admin/sectors/membership/"
PERMISSIONS = [f"{verb}_{model}" for verb in ("view", "add", "change", "delete") for model in ("membership", "user")]


@pytest.fixture(autouse=True)
def no_mfa_for_admins(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = False


def staff(user):
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=PERMISSIONS))
    return User.objects.get(pk=user.pk)  # without the cached permissions


@pytest.fixture
def administrator(clinic):
    return staff(MembershipFactory(organisation=clinic, role=MembershipRole.ORGANISATION_ADMIN).user)


@pytest.fixture
def signed_in(client, administrator):
    """The administrator, in the admin."""
    client.force_login(administrator)
    return client


@pytest.fixture
def members(clinic, other_clinic):
    """A colleague (a GP of the administrator's organisation) and a stranger (a GP elsewhere)."""
    return (
        MembershipFactory(organisation=clinic, role=MembershipRole.GP),
        MembershipFactory(organisation=other_clinic, role=MembershipRole.GP),
    )


def membership_form(user, organisation, role=MembershipRole.GP) -> dict:
    return {"user": user.pk, "organisation": organisation.pk, "role": role, "start_date": "2026-01-01"}


# --- the membership pages -------------------------------------------------------------------------


def test_list_shows_only_memberships_of_organisations_they_administer(signed_in, administrator, members):
    colleague, stranger = members
    response = signed_in.get(MEMBERSHIPS)

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {colleague, administrator.memberships.get()}


def test_membership_of_another_organisation_cannot_be_opened_or_changed(signed_in, members, clinic):
    _, stranger = members
    url = f"{MEMBERSHIPS}{stranger.pk}/change/"

    assert signed_in.get(url).status_code == 302  # "does not exist", like a missing id
    signed_in.post(url, membership_form(stranger.user, clinic, MembershipRole.PRACTICE_NURSE))
    stranger.refresh_from_db()
    assert stranger.role == MembershipRole.GP


def test_only_administered_organisations_are_offered(signed_in, clinic, other_clinic):
    form = signed_in.get(f"{MEMBERSHIPS}add/").context["adminform"].form

    assert list(form.fields["organisation"].queryset) == [clinic]


def test_administrator_adds_a_colleague_to_their_organisation(signed_in, clinic):
    newcomer = UserFactory()

    response = signed_in.post(f"{MEMBERSHIPS}add/", membership_form(newcomer, clinic))

    assert response.status_code == 302
    assert Membership.objects.filter(user=newcomer, organisation=clinic, role=MembershipRole.GP).exists()


def test_no_membership_in_an_organisation_they_do_not_administer(signed_in, other_clinic):
    newcomer = UserFactory()

    response = signed_in.post(f"{MEMBERSHIPS}add/", membership_form(newcomer, other_clinic))

    assert response.status_code == 200
    assert "organisation" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=newcomer).exists()


@pytest.mark.parametrize("where", ["clinic", "other_clinic"])
def test_administrator_never_grants_themselves_a_membership(signed_in, administrator, request, where):
    organisation = request.getfixturevalue(where)

    response = signed_in.post(f"{MEMBERSHIPS}add/", membership_form(administrator, organisation))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert administrator.memberships.count() == 1


def test_own_membership_is_read_only(signed_in, administrator, other_clinic):
    own = administrator.memberships.get()

    response = signed_in.post(f"{MEMBERSHIPS}{own.pk}/change/", membership_form(administrator, other_clinic))

    assert response.status_code == 403
    own.refresh_from_db()
    assert own.organisation != other_clinic
    assert signed_in.post(f"{MEMBERSHIPS}{own.pk}/delete/", {"post": "yes"}).status_code == 403


def test_staff_who_administer_nothing_manage_no_memberships(client, members, clinic):
    colleague, stranger = members
    gp = staff(colleague.user)
    client.force_login(gp)

    assert list(client.get(MEMBERSHIPS).context["cl"].result_list) == []
    response = client.post(f"{MEMBERSHIPS}add/", membership_form(UserFactory(), clinic))
    assert response.status_code == 200
    assert Membership.objects.count() == 2


def test_a_former_administrator_administers_nothing(client, administrator, members):
    colleague, _ = members
    own = administrator.memberships.get()
    own.end_date = own.start_date
    own.start_date = own.start_date.replace(year=own.start_date.year - 1)
    own.save()
    client.force_login(administrator)

    assert list(client.get(MEMBERSHIPS).context["cl"].result_list) == []


def test_superuser_manages_every_membership(client, members, other_clinic):
    colleague, stranger = members
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)

    assert set(client.get(MEMBERSHIPS).context["cl"].result_list) == {colleague, stranger}
    assert client.post(f"{MEMBERSHIPS}add/", membership_form(root, other_clinic)).status_code == 302


# --- the membership lists on the user and organisation pages --------------------------------------


def inline_formset(inline_class, user, parent, data=None):
    request = RequestFactory().post("/") if data is not None else RequestFactory().get("/")
    request.user = user
    inline = inline_class(type(parent), site)
    formset_class = inline.get_formset(request, parent)
    formset = formset_class(data, instance=parent, queryset=inline.get_queryset(request), prefix="memberships")
    return inline, request, formset


def inline_data(**form) -> dict:
    data = {
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    return data | {f"memberships-0-{name}": value for name, value in form.items()}


def test_user_page_lists_only_memberships_they_administer(administrator, members, other_clinic):
    colleague, _ = members
    MembershipFactory(user=colleague.user, organisation=other_clinic, role=MembershipRole.GP)

    inline, request, formset = inline_formset(MembershipInlineForUser, administrator, colleague.user)

    assert list(inline.get_queryset(request).filter(user=colleague.user)) == [colleague]
    assert list(formset.forms[0].fields["organisation"].queryset) == [colleague.organisation]


def test_user_page_refuses_a_membership_elsewhere(administrator, members, other_clinic):
    colleague, _ = members
    data = inline_data(organisation=other_clinic.pk, role=MembershipRole.GP, start_date="2026-01-01")

    _, _, formset = inline_formset(MembershipInlineForUser, administrator, colleague.user, data)

    assert not formset.is_valid()
    assert "organisation" in formset.forms[0].errors


@pytest.mark.parametrize("page", ["user", "organisation"])
def test_administrator_adds_a_colleague_on_the_user_or_organisation_page(administrator, clinic, page):
    newcomer = UserFactory()
    if page == "user":
        inline, parent, row = MembershipInlineForUser, newcomer, {"organisation": clinic.pk}
    else:
        inline, parent, row = MembershipInlineForOrganisation, clinic, {"user": newcomer.pk}
    data = inline_data(**row, role=MembershipRole.CARE_COORDINATOR, start_date="2026-01-01")

    _, _, formset = inline_formset(inline, administrator, parent, data)

    assert formset.is_valid(), formset.errors
    formset.save()
    assert newcomer.memberships.get().organisation == clinic


def test_own_user_page_offers_no_membership_changes(administrator):
    inline = MembershipInlineForUser(User, site)
    request = RequestFactory().get("/")
    request.user = administrator

    assert not inline.has_add_permission(request, administrator)
    assert not inline.has_change_permission(request, administrator)
    assert not inline.has_delete_permission(request, administrator)


def test_own_user_page_refuses_a_posted_membership(administrator, clinic):
    """Even a forged form for one's own page adds nothing."""
    data = inline_data(organisation=clinic.pk, role=MembershipRole.CARE_COORDINATOR, start_date="2026-01-01")

    _, _, formset = inline_formset(MembershipInlineForUser, administrator, administrator, data)
    if formset.is_valid():
        formset.save()

    assert administrator.memberships.count() == 1


def test_organisation_page_of_another_organisation_offers_no_membership_changes(administrator, members, other_clinic):
    _, stranger = members
    inline, request, formset = inline_formset(MembershipInlineForOrganisation, administrator, other_clinic)

    assert list(formset.queryset) == []
    assert not inline.has_add_permission(request, other_clinic)
    assert not inline.has_change_permission(request, other_clinic)


def test_organisation_page_refuses_the_administrator_themselves(administrator, clinic):
    data = inline_data(user=administrator.pk, role=MembershipRole.CARE_COORDINATOR, start_date="2026-01-01")

    _, _, formset = inline_formset(MembershipInlineForOrganisation, administrator, clinic, data)

    assert not formset.is_valid()
    assert administrator.pk not in {u.pk for u in formset.forms[0].fields["user"].queryset}


def test_organisation_page_lets_the_superuser_add_anyone(other_clinic):
    root = UserFactory(is_staff=True, is_superuser=True)
    data = inline_data(user=root.pk, role=MembershipRole.GP, start_date="2026-01-01")

    _, _, formset = inline_formset(MembershipInlineForOrganisation, root, other_clinic, data)

    assert formset.is_valid(), formset.errors
    assert Organisation.objects.count() == 2


# --- the rule, in the service ------------------------------------------------------------------------


def test_membership_create_holds_a_person_to_the_rule(administrator, clinic, other_clinic):
    from django.core.exceptions import ValidationError

    from sectors.services import membership_create, membership_end

    newcomer = UserFactory()
    with pytest.raises(ValidationError) as own:
        membership_create(by=administrator, user=administrator, organisation=clinic, role=MembershipRole.GP)
    with pytest.raises(ValidationError) as elsewhere:
        membership_create(by=administrator, user=newcomer, organisation=other_clinic, role=MembershipRole.GP)
    created = membership_create(by=administrator, user=newcomer, organisation=clinic, role=MembershipRole.GP)
    with pytest.raises(ValidationError):
        membership_end(by=administrator, membership=administrator.memberships.get(), end_date=created.start_date)

    assert list(own.value.message_dict) == ["user"]
    assert list(elsewhere.value.message_dict) == ["organisation"]
    assert membership_end(by=administrator, membership=created, end_date=created.start_date).end_date


# --- the user page: no other way to more access -------------------------------------------------------


def user_form(user, **overrides) -> dict:
    own = list(user.memberships.all())
    data = {
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "title": "",
        "phone": "",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "user_permissions": [Permission.objects.get(codename="change_citizen").pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
        "last_login_0": "",
        "last_login_1": "",
        "memberships-TOTAL_FORMS": str(len(own)),
        "memberships-INITIAL_FORMS": str(len(own)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for index, membership in enumerate(own):
        row = {
            "id": membership.pk,
            "user": user.pk,
            "organisation": membership.organisation_id,
            "role": membership.role,
            "start_date": membership.start_date.isoformat(),
        }
        data |= {f"memberships-{index}-{name}": value for name, value in row.items()}
    return data | overrides


def test_administrator_cannot_make_themselves_superuser_or_give_themselves_permissions(signed_in, administrator):
    assert signed_in.get(f"/admin/sectors/user/{administrator.pk}/change/").status_code == 200
    response = signed_in.post(f"/admin/sectors/user/{administrator.pk}/change/", user_form(administrator))

    assert response.status_code == 302
    administrator.refresh_from_db()
    assert not administrator.is_superuser
    assert not administrator.user_permissions.filter(codename="change_citizen").exists()


def test_superuser_accounts_are_changed_by_superusers_only(signed_in):
    root = UserFactory(is_staff=True, is_superuser=True, email="root@example.dk")

    response = signed_in.post(f"/admin/sectors/user/{root.pk}/change/", user_form(root, email="mine@example.dk"))

    assert response.status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.dk"


def test_superuser_still_gives_permissions(client, members):
    colleague, _ = members
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    user = colleague.user

    response = client.post(f"/admin/sectors/user/{user.pk}/change/", user_form(user, is_superuser=""))

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert user.user_permissions.filter(codename="change_citizen").exists()
