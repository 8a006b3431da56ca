"""Writes go through services, which validate before they save."""

import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from sectors.choices import MembershipRole, OrganisationKind
from sectors.models import Membership, Organisation, User
from sectors.services import (
    membership_create,
    membership_end,
    organisation_create,
    organisation_update,
    user_create,
    user_invite,
)

from .factories import GPClinicFactory, MembershipFactory, MunicipalityFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

RESET_LINK = re.compile(r"https?://testserver(/accounts/password/reset/key/[^\s/]+/)")


def unit_fields(**overrides):
    return {
        "kind": OrganisationKind.HOSPITAL_UNIT,
        "name": "Odense Universitetshospital",
        "sor_code": "265381000016",
        "gln": "5790000000005",
        **overrides,
    }


# --- organisation_create ----------------------------------------------------------------------


def test_organisation_create_saves_a_valid_organisation():
    organisation = organisation_create(by=None, **unit_fields())
    assert Organisation.objects.get(pk=organisation.pk).gln == "5790000000005"


def test_organisation_create_with_bad_gln_raises_and_saves_nothing():
    with pytest.raises(ValidationError) as excinfo:
        organisation_create(by=None, **unit_fields(gln="5790000000006"))
    assert "gln" in excinfo.value.message_dict
    assert not Organisation.objects.exists()


def test_organisation_create_enforces_kind_rules():
    with pytest.raises(ValidationError) as excinfo:
        organisation_create(by=None, **unit_fields(kind=OrganisationKind.MUNICIPALITY))
    assert "municipality_code" in excinfo.value.message_dict
    assert not Organisation.objects.exists()


def test_organisation_create_refuses_unknown_fields():
    with pytest.raises(TypeError):
        organisation_create(by=None, **unit_fields(created_at=timezone.now()))
    assert not Organisation.objects.exists()


# --- organisation_update ----------------------------------------------------------------------


def test_organisation_update_changes_only_the_fields_given():
    region = RegionFactory()
    organisation = organisation_create(by=None, **unit_fields(parent=region, city="Odense"))
    organisation_update(by=None, organisation=organisation, phone="66 11 33 33", parent=None)
    organisation.refresh_from_db()
    assert (organisation.phone, organisation.parent, organisation.city) == ("66 11 33 33", None, "Odense")
    assert organisation.gln == "5790000000005"


def test_organisation_update_validates_before_it_saves():
    organisation = organisation_create(by=None, **unit_fields())
    with pytest.raises(ValidationError) as excinfo:
        organisation_update(by=None, organisation=organisation, gln="5790000000006")
    assert "gln" in excinfo.value.message_dict
    assert Organisation.objects.get(pk=organisation.pk).gln == "5790000000005"


# --- user_create ------------------------------------------------------------------------------


def test_user_create_lowercases_email_and_records_the_address_for_allauth():
    user = user_create(by=None, email="  Karen.Holm@Example.DK ", first_name="Karen")
    user.refresh_from_db()
    assert user.email == "karen.holm@example.dk"
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("karen.holm@example.dk", True, True)


def test_user_create_without_password_leaves_it_unusable():
    user = user_create(by=None, email="karen@example.dk")
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_user_create_with_password_sets_it():
    user = user_create(by=None, email="karen@example.dk", password="a long and good passphrase")
    user.refresh_from_db()
    assert user.check_password("a long and good passphrase")


@pytest.mark.parametrize("second", ["karen@example.dk", "KAREN@EXAMPLE.DK", " Karen@Example.dk"])
def test_user_create_rejects_duplicate_email_case_insensitively(second):
    user_create(by=None, email="karen@example.dk")
    with pytest.raises(ValidationError) as excinfo:
        user_create(by=None, email=second)
    assert "email" in excinfo.value.message_dict
    assert User.objects.count() == 1
    assert EmailAddress.objects.count() == 1


def test_user_create_rejects_invalid_email():
    with pytest.raises(ValidationError):
        user_create(by=None, email="not an address")
    assert not User.objects.exists()


# --- memberships ------------------------------------------------------------------------------


def test_membership_create_saves_an_active_membership():
    user, clinic = UserFactory(), GPClinicFactory()
    membership = membership_create(by=None, user=user, organisation=clinic, role=MembershipRole.GP)
    assert membership.start_date == timezone.localdate()
    assert list(Membership.objects.active().filter(user=user)) == [membership]


def test_membership_create_rejects_a_role_foreign_to_the_organisation():
    with pytest.raises(ValidationError) as excinfo:
        membership_create(by=None, user=UserFactory(), organisation=MunicipalityFactory(), role=MembershipRole.GP)
    assert "role" in excinfo.value.message_dict
    assert not Membership.objects.exists()


def test_membership_create_rejects_end_before_start():
    with pytest.raises(ValidationError) as excinfo:
        membership_create(
            by=None,
            user=UserFactory(),
            organisation=GPClinicFactory(),
            role=MembershipRole.GP,
            start_date=datetime.date(2025, 3, 1),
            end_date=datetime.date(2025, 1, 1),
        )
    assert "end_date" in excinfo.value.message_dict
    assert not Membership.objects.exists()


def test_membership_end_stops_the_membership_after_its_last_day():
    membership = MembershipFactory()
    today = timezone.localdate()
    membership_end(by=None, membership=membership, end_date=today)
    membership.refresh_from_db()
    assert membership.end_date == today
    assert membership.is_active_on(today)
    assert not membership.is_active_on(today + datetime.timedelta(days=1))


def test_membership_end_before_start_is_refused():
    membership = MembershipFactory()
    with pytest.raises(ValidationError):
        membership_end(by=None, membership=membership, end_date=membership.start_date - datetime.timedelta(days=1))
    membership.refresh_from_db()
    assert membership.end_date is None


# --- user_invite ------------------------------------------------------------------------------


@pytest.fixture
def invited(rf):
    """A new colleague without a password, and an administrator's request."""
    user = user_create(by=None, email="new.colleague@example.dk", first_name="Ny", last_name="Kollega")
    MembershipFactory(user=user, role=MembershipRole.GP)
    request = rf.post("/admin/sectors/user/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return user, request


def test_user_invite_emails_a_working_set_password_link(invited, client):
    user, request = invited
    user_invite(by=request.user, user=user, request=request)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.colleague@example.dk"]
    assert message.subject.startswith("[SmartCare]")
    match = RESET_LINK.search(message.body)
    assert match, message.body

    # The link opens allauth's set-password form.
    response = client.get(match.group(1), follow=True)
    assert response.status_code == 200
    assert "password1" in response.context["form"].fields


def test_user_invite_link_lets_the_person_choose_a_password(invited, client):
    user, request = invited
    user_invite(by=request.user, user=user, request=request)
    path = RESET_LINK.search(mail.outbox[0].body).group(1)
    form_url = client.get(path).url
    new_password = "a brand new long passphrase"
    client.post(form_url, {"password1": new_password, "password2": new_password})
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_user_invite_carries_no_health_data_or_identifiers(invited):
    user, request = invited
    membership = user.memberships.get()
    user_invite(by=request.user, user=user, request=request)
    message = mail.outbox[0]
    text = RESET_LINK.sub("", message.subject + "\n" + message.body)
    # No CPR number or any other long number (SOR, GLN, ydernummer), no organisation or role.
    assert not re.search(r"\d{6}", text), text
    assert membership.organisation.name not in text
    assert not message.attachments


def test_user_invite_refuses_an_inactive_account(invited):
    user, request = invited
    user.is_active = False
    user.save()
    with pytest.raises(ValidationError):
        user_invite(by=request.user, user=user, request=request)
    assert mail.outbox == []
