"""Merging two registrations of one person: a citizen first registered by a replacement number
(with care plans, monitoring, messages, a hospital stay, ...) is merged into the registration
with the CPR number. Every row of every app moves; the access log stays and records the merge."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from careplans.choices import CareTeamRole, ObservationCode, ThresholdCode
from careplans.monitoring import observation_record, schedule_create, threshold_set
from careplans.services import careteam_add
from careplans.tests.helpers import active_plan, blood_pressure
from citizens.access import access_reason
from citizens.accesslabels import detail_label
from citizens.choices import AccessAction, ObjectionTarget
from citizens.identity import citizen_register_from_message
from citizens.merge import citizen_merge, citizen_relations
from citizens.models import (
    AccessLogEntry,
    BreakGlassAccess,
    CareRelationship,
    Citizen,
    CitizenCondition,
    CitizenIdentifier,
    Condition,
    ConsentEvent,
    ContactPerson,
    Objection,
)
from citizens.relationships import relationships_recompute
from citizens.selectors import citizen_access_report, citizen_search
from citizens.tests.factories import CitizenFactory, HospitalStayFactory
from messaging.tests.helpers import admit, send
from sectors.choices import MembershipRole
from sectors.tests.factories import MembershipFactory, RegionFactory
from tests.cast import actor_for

pytestmark = pytest.mark.django_db

NATIONAL = "urn:oid:1.2.208.176.1.6.1.1"
LOCAL = "urn:oid:1.2.208.176.1.6.1.3.7"
ECPR = "0703921VJ5"

# Rows that stay with the absorbed registration (the append-only log) or are recomputed (relationships).
STAYING = {AccessLogEntry, CareRelationship}


def _without_cpr(citizen: Citizen, value: str) -> Citizen:
    Citizen.objects.filter(pk=citizen.pk).update(cpr=None)
    CitizenIdentifier.objects.create(citizen=citizen, system=NATIONAL, value=value)
    citizen.refresh_from_db()
    return citizen


@pytest.fixture
def ecpr(world):
    """The world's citizen, registered by a replacement number only."""
    return _without_cpr(world.citizen, ECPR)


@pytest.fixture
def kept(world):
    return CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a, first_name="Rigtig")


@pytest.fixture
def superuser_actor(superuser):
    return actor_for(superuser)


@pytest.fixture
def full(world, actor, gp_actor, ecpr, superuser_actor):
    """Rows of every model that points at a citizen, on the replacement-number registration."""
    plan = active_plan(world, gp_actor)
    careteam_add(actor=gp_actor, plan=plan, organisation=world.municipality_b, role=CareTeamRole.HOME_CARE)
    threshold_set(actor=gp_actor, citizen=ecpr, code=ThresholdCode.SYSTOLIC, reason="x", yellow_high=150)
    schedule_create(
        actor=gp_actor, citizen=ecpr, code=ObservationCode.BLOOD_PRESSURE, every_hours=24,
        monitoring_organisation=world.municipality_b,
    )  # fmt: skip
    observation_record(actor=gp_actor, citizen=ecpr, reading=blood_pressure("160", "80"))  # an alert, a care event
    send(world, actor)  # a thread and a message
    admit(world, actor)  # a hospital event and stay, an admission to review
    ContactPerson.objects.create(citizen=ecpr, name="Datter", phone="12345678")
    CitizenCondition.objects.create(citizen=ecpr, condition=Condition.objects.get(icd10_code="J44"))
    ConsentEvent.objects.create(citizen=ecpr, by=world.users["gp_a"], description="x")
    Objection.objects.create(citizen=ecpr, target=ObjectionTarget.SECTOR, sector="municipality",
                             recorded_by=world.users["gp_a"])  # fmt: skip
    now = timezone.now()
    BreakGlassAccess.objects.create(
        user=world.users["gp_b"], organisation=world.clinic_b, citizen=ecpr, reason="Akut, bevidstløs borger",
        started_at=now, expires_at=now + datetime.timedelta(hours=4),
    )  # fmt: skip
    # An earlier merge into this registration: its pointer moves on to the kept citizen.
    earlier = _without_cpr(CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a), "1111111AB1")
    citizen_merge(by=superuser_actor, keep=ecpr, absorb=earlier)
    return ecpr


def _counts(citizen: Citizen) -> dict[tuple[str, str], int]:
    return {
        (model._meta.label, field): model._base_manager.filter(**{field: citizen}).count()
        for model, field in citizen_relations()
    }


def test_everything_moves_and_the_merge_is_logged(world, actor, gp_actor, full, kept, superuser_actor):
    HospitalStayFactory(citizen=kept, discharged_at=timezone.now() - datetime.timedelta(days=400),
                        admitted_at=timezone.now() - datetime.timedelta(days=401))  # fmt: skip
    CitizenCondition.objects.create(citizen=kept, condition=Condition.objects.get(icd10_code="J44"))  # both have it
    before_absorbed, before_kept = _counts(full), _counts(kept)
    # Every relation had a row to move: a model added later fails here until it is part of this test.
    empty = [key for key, count in before_absorbed.items() if not count]
    assert empty == []
    log_before = AccessLogEntry.objects.filter(citizen=full).count()

    citizen_merge(by=superuser_actor, keep=kept, absorb=full)

    after_absorbed, after_kept = _counts(full), _counts(kept)
    for (label, field), count in before_absorbed.items():
        model = next(m for m, f in citizen_relations() if (m._meta.label, f) == (label, field))
        if model in STAYING:
            continue
        assert after_absorbed[(label, field)] == 0, label
        # The condition both had is kept once; the absorbed registration itself now points at the kept one.
        expected = before_kept[(label, field)] + count - (model is CitizenCondition) + (model is Citizen)
        assert after_kept[(label, field)] == expected, label
    # The log stays where it was, and the merge is written for both.
    assert AccessLogEntry.objects.filter(citizen=full).count() == log_before + 1
    merge = AccessLogEntry.objects.filter(action=AccessAction.MERGE, detail__startswith=f"merged {full.pk}")
    assert set(merge.values_list("citizen", flat=True)) == {full.pk, kept.pk}
    with translation.override("en"):
        assert detail_label(merge.first().detail) == "two registrations of the citizen merged"
    full.refresh_from_db()
    assert (full.merged_into, full.cpr) == (kept, None)
    assert sorted(kept.identifiers.values_list("value", flat=True)) == [ECPR, "1111111AB1"]
    # The relationships follow the facts, and the check finds nothing to repair.
    assert not relationships_recompute()
    assert not CareRelationship.objects.filter(citizen=full, valid_to__isnull=True).exists()
    assert CareRelationship.objects.filter(citizen=kept, organisation=world.municipality_b, kind="care_team").exists()
    assert access_reason(actor("homecare_b"), kept) is None  # the objection against municipalities moved too
    assert access_reason(actor("hospital_nurse"), kept) == ("hospital_stay", "")
    assert access_reason(gp_actor, full) is None
    # The search by the replacement number finds the kept citizen; the access report shows the old entries.
    assert citizen_search(actor=gp_actor, query=ECPR) == [kept]
    _, entries = citizen_access_report(actor=gp_actor, citizen_pk=kept.pk)
    assert entries.filter(citizen=full).count() == log_before + 1


def test_the_cpr_moves_to_a_kept_registration_without_one(world, ecpr, kept, superuser_actor):
    cpr, birth_date = kept.cpr, kept.birth_date
    citizen_merge(by=superuser_actor, keep=ecpr, absorb=kept)
    ecpr.refresh_from_db()
    kept.refresh_from_db()
    assert (ecpr.cpr, ecpr.birth_date, kept.cpr, kept.merged_into) == (cpr, birth_date, None, ecpr)


def test_two_cpr_numbers_are_two_people(world, kept, superuser_actor):
    with pytest.raises(ValidationError):
        citizen_merge(by=superuser_actor, keep=kept, absorb=world.citizen)
    assert Citizen.objects.filter(merged_into__isnull=False).count() == 0


def test_a_conflict_refuses_the_whole_merge(world, ecpr, kept, superuser_actor):
    HospitalStayFactory(citizen=ecpr)
    HospitalStayFactory(citizen=kept)  # both have a current stay
    ContactPerson.objects.create(citizen=ecpr, name="Datter", phone="12345678")
    with pytest.raises(ValidationError):
        citizen_merge(by=superuser_actor, keep=kept, absorb=ecpr)
    assert ecpr.contact_persons.count() == 1 and ecpr.identifiers.count() == 1
    assert not AccessLogEntry.objects.filter(action=AccessAction.MERGE).exists()


def test_a_merged_registration_cannot_be_merged_again(world, ecpr, kept, superuser_actor):
    citizen_merge(by=superuser_actor, keep=kept, absorb=ecpr)
    with pytest.raises(ValidationError):
        citizen_merge(by=superuser_actor, keep=kept, absorb=ecpr)


# --- who merges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["gp_a", "nurse_a", "homecare_a", "admin_b"])
def test_clinicians_and_other_organisations_administrators_do_not_merge(world, actor, ecpr, kept, who):
    with pytest.raises(PermissionDenied):
        citizen_merge(by=actor(who), keep=kept, absorb=ecpr)
    assert Citizen.objects.get(pk=ecpr.pk).merged_into is None


def test_the_organisations_and_the_regions_administrators_merge(world, ecpr, kept):
    admin_a = MembershipFactory(organisation=world.clinic_a, role=MembershipRole.ORGANISATION_ADMIN).user
    citizen_merge(by=actor_for(admin_a), keep=kept, absorb=ecpr)
    other = _without_cpr(CitizenFactory(municipality=world.municipality_b, gp_clinic=world.clinic_b), "2222222CD2")
    region_admin = MembershipFactory(organisation=RegionFactory(), role=MembershipRole.ORGANISATION_ADMIN).user
    citizen_merge(by=actor_for(region_admin), keep=kept, absorb=other)
    assert set(kept.merged_citizens.all()) == {ecpr, other}


def test_the_admin_action_merges_after_confirmation(client, superuser, ecpr, kept):
    client.force_login(superuser)
    url = reverse("admin:citizens_citizen_changelist")
    chosen = {"action": "merge_citizens", "_selected_action": [str(ecpr.pk), str(kept.pk)]}
    asked = client.post(url, chosen)
    assert asked.status_code == 200 and "Behold denne registrering" in asked.content.decode()  # Danish by default
    assert Citizen.objects.get(pk=ecpr.pk).merged_into is None
    done = client.post(url, {**chosen, "confirm": "yes", "keep": str(kept.pk)})
    assert done.status_code == 302
    assert Citizen.objects.get(pk=ecpr.pk).merged_into == kept


def test_the_admin_action_is_not_offered_to_clinicians(client, gp, ecpr, kept):
    client.force_login(gp)
    response = client.post(
        reverse("admin:citizens_citizen_changelist"),
        {"action": "merge_citizens", "_selected_action": [str(ecpr.pk), str(kept.pk)], "confirm": "yes",
         "keep": str(kept.pk)},
    )  # fmt: skip
    assert response.status_code in (200, 302, 403)
    assert Citizen.objects.get(pk=ecpr.pk).merged_into is None


def test_a_message_after_the_merge_finds_the_kept_citizen(world, gp, ecpr, kept, superuser_actor):
    citizen_merge(by=superuser_actor, keep=kept, absorb=ecpr)
    found = citizen_register_from_message(
        by=actor_for(gp), cpr=None, replacement_ids=[(NATIONAL, ECPR), (LOCAL, "X1")], first_name="A",
        last_name="B", municipality=world.municipality_a,
    )  # fmt: skip
    assert found == kept
