"""Break-the-glass is always reviewed: by the organisation's administrators or its region's, with
a conclusion and a note, on a list the region filters by organisation and review state."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citizens.access import Actor
from citizens.choices import ReviewConclusion, ReviewKind
from citizens.models import AccessReviewItem, BreakGlassAccess
from citizens.reviews import access_review_flag, break_glass_review, may_review, region_of
from citizens.services import break_glass_open
from citizens.tests.factories import CitizenFactory
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    MembershipFactory,
    MunicipalityFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db


def actor_for(user) -> Actor:
    return Actor(user=user, acting=resolve(user, None))


@pytest.fixture
def region(db):
    return RegionFactory(name="Region Test")


@pytest.fixture
def clinic_without_admin(region):
    """A GP clinic without an administrator, in a municipality of the region."""
    return GPClinicFactory(name="Lægehuset uden admin", municipality=MunicipalityFactory(parent=region))


@pytest.fixture
def department(region):
    return HospitalDepartmentFactory(name="Akutafdelingen", parent=HospitalUnitFactory(parent=region))


@pytest.fixture
def region_admin(region):
    return MembershipFactory(organisation=region, role=MembershipRole.ORGANISATION_ADMIN).user


@pytest.fixture
def other_region_admin(db):
    return MembershipFactory(organisation=RegionFactory(), role=MembershipRole.ORGANISATION_ADMIN).user


def broken(organisation, role, reason) -> BreakGlassAccess:
    user = MembershipFactory(organisation=organisation, role=role).user
    citizen = CitizenFactory()
    break_glass_open(actor=actor_for(user), cpr=citizen.cpr, reason=reason)
    return BreakGlassAccess.objects.get(citizen=citizen)


@pytest.fixture
def clinic_grant(clinic_without_admin):
    return broken(clinic_without_admin, MembershipRole.GP, "Bevidstløs i venteværelset")


@pytest.fixture
def department_grant(department):
    return broken(department, MembershipRole.HOSPITAL_PHYSICIAN, "Akut indlagt uden journal")


def test_the_region_of_a_clinic_is_found_through_its_municipality(region, clinic_without_admin, department):
    assert region_of(clinic_without_admin) == region
    assert region_of(department) == region
    assert region_of(GPClinicFactory()) is None


@pytest.mark.parametrize("where", ["department", "clinic_without_admin"])
def test_a_flag_costs_two_queries_and_names_the_region(request, region, where):
    """A hospital admission flags on the event's write path: the organisation with its ancestors,
    then the insert, however deep the organisation sits below its region."""
    organisation = request.getfixturevalue(where)
    role = MembershipRole.HOSPITAL_NURSE if where == "department" else MembershipRole.GP
    actor = actor_for(MembershipFactory(organisation=organisation, role=role).user)
    citizen = CitizenFactory()

    with CaptureQueriesContext(connection) as captured:
        item = access_review_flag(actor=actor, citizen=citizen, kind=ReviewKind.ADMISSION, reason="Indlagt akut")

    assert len(captured) == 2, [q["sql"] for q in captured.captured_queries]
    item = AccessReviewItem.objects.get(pk=item.pk)
    assert (item.organisation, item.region, item.citizen, item.user) == (organisation, region, citizen, actor.user)


def test_a_flag_without_a_reason_or_kind_is_refused(department):
    actor = actor_for(MembershipFactory(organisation=department, role=MembershipRole.HOSPITAL_NURSE).user)
    with pytest.raises(ValidationError) as raised:
        access_review_flag(actor=actor, citizen=CitizenFactory(), kind="party", reason="")
    assert set(raised.value.message_dict) == {"kind", "reason"}
    assert not AccessReviewItem.objects.exists()


def test_the_regions_administrator_reviews_an_organisation_without_an_administrator(
    region_admin, other_region_admin, clinic_grant
):
    assert may_review(actor_for(region_admin), clinic_grant.organisation_id) is True
    assert may_review(actor_for(other_region_admin), clinic_grant.organisation_id) is False
    with pytest.raises(PermissionDenied):
        break_glass_review(actor=actor_for(other_region_admin), grant=clinic_grant, conclusion="justified", note="Set")
    break_glass_review(
        actor=actor_for(region_admin), grant=clinic_grant, conclusion=ReviewConclusion.FOLLOW_UP, note="Spørg GP"
    )
    clinic_grant.refresh_from_db()
    assert (clinic_grant.reviewed_by, clinic_grant.conclusion, clinic_grant.review_note) == (
        region_admin,
        "follow_up",
        "Spørg GP",
    )
    assert clinic_grant.reviewed_at is not None


def test_a_review_needs_a_conclusion_and_a_note_both_reported_at_once(region_admin, clinic_grant):
    with pytest.raises(ValidationError) as caught:
        break_glass_review(actor=actor_for(region_admin), grant=clinic_grant, conclusion="", note=" ")
    assert sorted(caught.value.message_dict) == ["conclusion", "note"]
    with pytest.raises(ValidationError) as caught:
        break_glass_review(actor=actor_for(region_admin), grant=clinic_grant, conclusion="fine", note="ok")
    assert list(caught.value.message_dict) == ["conclusion"]
    clinic_grant.refresh_from_db()
    assert clinic_grant.reviewed_at is None


def test_the_region_lists_every_organisations_grants_and_filters_them(
    client, region_admin, other_region_admin, clinic_grant, department_grant
):
    url = reverse("citizens:break_glass_review")
    client.force_login(region_admin)
    content = client.get(url).content.decode()
    assert "Bevidstløs i venteværelset" in content and "Akut indlagt uden journal" in content
    assert "Lægehuset uden admin" in content and "Akutafdelingen" in content
    assert 'id="id_organisation"' in content

    content = client.get(url, {"organisation": clinic_grant.organisation_id}).content.decode()
    assert "Bevidstløs i venteværelset" in content and "Akut indlagt uden journal" not in content

    done = reverse("citizens:break_glass_review_done", args=[clinic_grant.pk])
    assert client.post(done, {"conclusion": "not_justified", "note": "Ingen akut grund"}).status_code == 302
    content = client.get(url).content.decode()
    assert "Bevidstløs i venteværelset" not in content and "Akut indlagt uden journal" in content
    content = client.get(url, {"status": "reviewed"}).content.decode()
    assert "Bevidstløs i venteværelset" in content and "Akut indlagt uden journal" not in content
    assert 'data-testid="review-conclusion">Not justified<' in content
    assert "Ingen akut grund" in content
    content = client.get(url, {"status": "all"}).content.decode()
    assert "Bevidstløs i venteværelset" in content and "Akut indlagt uden journal" in content

    assert client.get(url, {"status": "sometimes"}).status_code == 400
    assert client.get(url, {"organisation": GPClinicFactory().pk}).status_code == 400  # not the region's

    client.force_login(other_region_admin)
    content = client.get(url, {"status": "all"}).content.decode()
    assert "Bevidstløs" not in content and "Akut indlagt" not in content
    done = reverse("citizens:break_glass_review_done", args=[department_grant.pk])
    assert client.post(done, {"conclusion": "justified", "note": "ok"}).status_code == 404


def test_the_department_admin_sees_its_own_grants_only(client, department, clinic_grant, department_grant):
    admin = MembershipFactory(organisation=department, role=MembershipRole.ORGANISATION_ADMIN).user
    client.force_login(admin)
    content = client.get(reverse("citizens:break_glass_review")).content.decode()
    assert "Akut indlagt uden journal" in content and "Bevidstløs" not in content
    assert 'id="id_organisation"' not in content  # one organisation: nothing to filter


def test_a_review_without_conclusion_and_note_shows_both_errors(client, region_admin, clinic_grant):
    client.force_login(region_admin)
    done = reverse("citizens:break_glass_review_done", args=[clinic_grant.pk])
    response = client.post(done, {"conclusion": "", "note": ""})
    content = response.content.decode()
    assert response.status_code == 400
    assert "Choose the conclusion of the review." in content
    assert "Write a review note." in content
    clinic_grant.refresh_from_db()
    assert clinic_grant.reviewed_at is None


def test_the_admin_shows_and_requires_the_conclusion(client, region_admin, clinic_grant):
    region_admin.is_staff = True
    region_admin.save(update_fields=["is_staff"])
    from django.contrib.auth.models import Permission

    region_admin.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_breakglassaccess", "change_breakglassaccess"])
    )
    client.force_login(region_admin)
    url = reverse("admin:citizens_breakglassaccess_change", args=[clinic_grant.pk])
    assert client.post(url, {"review_note": "ok"}).status_code == 200  # the form's error: no conclusion
    clinic_grant.refresh_from_db()
    assert clinic_grant.reviewed_at is None
    assert client.post(url, {"conclusion": "justified", "review_note": "ok"}).status_code == 302
    clinic_grant.refresh_from_db()
    assert clinic_grant.conclusion == "justified"
    content = client.get(reverse("admin:citizens_breakglassaccess_changelist")).content.decode()
    assert "Justified" in content
