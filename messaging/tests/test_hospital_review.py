"""Recording a hospital event is not a side door: only clinicians and the department's integration
record them, and an admission without an earlier relationship (and every death) is logged with its
reason and listed for review next to break-the-glass."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from citizens.choices import AccessReason, ReviewKind
from citizens.models import AccessLogEntry, AccessReviewItem, HospitalStay
from messaging.choices import HospitalCode
from messaging.services import hospital_event_record
from sectors.choices import MembershipRole, OrganisationKind
from sectors.tests.factories import OrganisationFactory
from tests.cast import actor_for

from .helpers import member

pytestmark = pytest.mark.django_db


def ago(hours: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=hours)


@pytest.mark.parametrize("role", [MembershipRole.CARE_COORDINATOR, MembershipRole.ORGANISATION_ADMIN])
def test_non_clinical_members_of_a_department_record_no_events(world, role):
    clerk = actor_for(member(world.department, role))
    for code in (HospitalCode.STIN, HospitalCode.MORS):
        with pytest.raises(PermissionDenied):
            hospital_event_record(actor=clerk, citizen=world.citizen, code=code, occurred_at=ago(1))
    assert not HospitalStay.objects.exists()


def test_the_page_refuses_a_non_clinical_member_with_a_clear_error(world, client):
    client.force_login(member(world.department, MembershipRole.CARE_COORDINATOR))
    page = client.get(reverse("messaging_ops:hospital_events"))
    assert page.status_code == 200 and 'data-testid="record-form"' not in page.content.decode()
    data = {"cpr": world.citizen.cpr, "code": HospitalCode.STIN, "occurred_at": ago(1).strftime("%Y-%m-%dT%H:%M")}
    response = client.post(reverse("messaging_ops:hospital_events"), data)
    assert response.status_code == 403
    assert "Only hospital physicians and nurses" in response.content.decode()
    assert not HospitalStay.objects.exists()
    assert not AccessLogEntry.objects.filter(citizen=world.citizen).exists()  # not even the CPR look-up


def test_the_api_refuses_a_non_clinical_member_with_a_clear_error(world, client):
    client.force_login(member(world.department, MembershipRole.ORGANISATION_ADMIN))
    body = {"cpr": world.citizen.cpr, "code": HospitalCode.STIN, "occurred_at": ago(1).isoformat()}
    response = client.post("/api/v1/hospital-events/", body, content_type="application/json")
    assert response.status_code == 403
    assert "Only hospital physicians and nurses" in response.json()["detail"]
    assert not HospitalStay.objects.exists()


def test_an_admission_without_a_relationship_is_logged_and_listed_for_review(world, actor, client):
    region = OrganisationFactory(kind=OrganisationKind.REGION)
    world.unit.parent = region
    world.unit.save()
    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=ago(2)
    )
    entry = AccessLogEntry.objects.get(citizen=world.citizen, detail="hospital event STIN")
    assert entry.reason == AccessReason.HOSPITAL_ADMISSION and "no relationship" in entry.reason_text
    item = AccessReviewItem.objects.get()
    assert (item.kind, item.organisation, item.region, item.user) == (
        ReviewKind.ADMISSION, world.department, region, world.users["hospital_nurse"],
    )  # fmt: skip
    # the department's and the region's administrators see it; another organisation's do not
    for organisation in (world.department, region):
        client.force_login(member(organisation, MembershipRole.ORGANISATION_ADMIN))
        page = client.get(reverse("citizens:break_glass_review")).content.decode()
        assert 'data-testid="review-item-row"' in page and "Admission without an earlier relationship" in page
    client.force_login(world.users["admin_b"])
    assert 'data-testid="review-item-row"' not in client.get(reverse("citizens:break_glass_review")).content.decode()
    assert (
        client.post(
            reverse("citizens:access_review_done", args=[item.pk]), {"conclusion": "justified", "note": "ok"}
        ).status_code
        == 404
    )
    # reviewed like break-the-glass
    client.force_login(member(region, MembershipRole.ORGANISATION_ADMIN))
    response = client.post(
        reverse("citizens:access_review_done", args=[item.pk]),
        {"conclusion": "justified", "note": "Akut indlæggelse, ok"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.reviewed_at is not None and item.review_note == "Akut indlæggelse, ok"
    assert 'data-testid="review-item-row"' not in client.get(reverse("citizens:break_glass_review")).content.decode()


def test_an_admission_within_a_relationship_is_not_flagged(world, actor):
    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=ago(5)
    )
    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.SLHJ, occurred_at=ago(3)
    )
    AccessReviewItem.objects.all().delete()
    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=ago(1)
    )
    assert not AccessReviewItem.objects.exists()  # a recent stay: the department knows the citizen


def test_a_death_is_listed_for_review(world, actor, client):
    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=ago(5)
    )
    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.MORS, occurred_at=ago(1)
    )
    assert AccessReviewItem.objects.filter(kind=ReviewKind.DEATH, organisation=world.department).exists()
    client.force_login(member(world.department, MembershipRole.ORGANISATION_ADMIN))
    assert "Death recorded" in client.get(reverse("citizens:break_glass_review")).content.decode()


def test_the_admin_lets_the_departments_administrator_review_an_admission(world, actor, client):
    from citizens.tests.test_admin import staff

    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=ago(2)
    )
    item = AccessReviewItem.objects.get()
    url = f"/admin/citizens/accessreviewitem/{item.pk}/change/"
    permissions = ("view_accessreviewitem", "change_accessreviewitem")
    client.force_login(staff(world.users["admin_b"], *permissions))
    assert client.post(url, {"conclusion": "justified", "review_note": "ok"}).status_code == 302
    item.refresh_from_db()
    assert item.reviewed_at is None
    department_admin = staff(member(world.department, MembershipRole.ORGANISATION_ADMIN), *permissions)
    client.force_login(department_admin)
    assert client.post(url, {"conclusion": "justified", "review_note": "Berettiget"}).status_code == 302
    item.refresh_from_db()
    assert (item.reviewed_by, item.review_note) == (department_admin, "Berettiget")
    assert client.post(url, {"conclusion": "justified", "review_note": "Ændret"}).status_code == 403  # reviewed once


def test_break_the_glass_and_admissions_share_one_list_newest_first(world, actor, client):
    from freezegun import freeze_time

    from citizens.services import break_glass_open
    from citizens.tests.factories import CitizenFactory

    other = CitizenFactory(municipality=world.municipality_b)
    with freeze_time(ago(3)):
        break_glass_open(actor=actor("hospital_nurse"), cpr=other.cpr, reason="Bevidstløs, ingen journal tilgængelig")
    hospital_event_record(
        actor=actor("hospital_nurse"), citizen=world.citizen, code=HospitalCode.STIN, occurred_at=ago(1)
    )
    client.force_login(member(world.department, MembershipRole.ORGANISATION_ADMIN))
    page = client.get(reverse("citizens:break_glass_review")).content.decode()
    assert page.index('data-testid="review-item-row"') < page.index('data-testid="grant-row"')
    assert "Bevidstløs" in page and "Admission without an earlier relationship" in page
