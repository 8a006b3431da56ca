"""The access policy, relationship by relationship (selectors and the gate itself)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from freezegun import freeze_time

from citizens import access
from citizens.access import _ORDER, _rank_of, access_reason, access_reasons, visible_citizens
from citizens.choices import AccessReason, ObjectionTarget, RelationshipKind
from citizens.models import AccessLogEntry, CareRelationship
from citizens.relationships import relationships_recompute
from citizens.selectors import citizen_get, citizen_search
from citizens.services import break_glass_open, hospital_stay_end, objection_record, objection_withdraw
from citizens.tests.factories import CitizenFactory, HospitalStayFactory
from sectors.choices import Sector

pytestmark = pytest.mark.django_db


def sees(actor, citizen) -> bool:
    visible = visible_citizens(actor.acting, actor.user).filter(pk=citizen.pk).exists()
    assert visible == (access_reason(actor, citizen) is not None), "gate and reason disagree"
    return visible


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("gp_a", AccessReason.GP_CLINIC),
        ("nurse_a", AccessReason.GP_CLINIC),
        ("homecare_a", AccessReason.MUNICIPALITY),
        ("gp_b", None),
        ("homecare_b", None),
        ("hospital_nurse", None),
        ("unit_physician", None),
        ("other_hospital", None),
    ],
)
def test_relationships_without_a_stay(world, actor, who, expected):
    result = access_reason(actor(who), world.citizen)
    assert (result[0] if result else None) == expected
    assert sees(actor(who), world.citizen) is (expected is not None)


def test_current_stay_gives_the_department_and_its_unit_access(world, actor):
    HospitalStayFactory(citizen=world.citizen, department=world.department)
    assert access_reason(actor("hospital_nurse"), world.citizen)[0] == AccessReason.HOSPITAL_STAY
    assert access_reason(actor("unit_physician"), world.citizen)[0] == AccessReason.HOSPITAL_STAY
    assert not sees(actor("other_hospital"), world.citizen)


@pytest.mark.parametrize(("days_since_discharge", "visible"), [(1, True), (29, True), (31, False), (90, False)])
def test_access_after_discharge_lasts_for_the_window(world, actor, settings, days_since_discharge, visible):
    settings.CITIZEN_ACCESS_HOSPITAL_DAYS = 30
    now = timezone.now()
    HospitalStayFactory(
        citizen=world.citizen,
        department=world.department,
        admitted_at=now - datetime.timedelta(days=days_since_discharge + 5),
        discharged_at=now - datetime.timedelta(days=days_since_discharge),
    )
    assert sees(actor("hospital_nurse"), world.citizen) is visible
    if visible:
        assert access_reason(actor("hospital_nurse"), world.citizen)[0] == AccessReason.HOSPITAL_RECENT


def test_window_is_configurable(world, actor, settings):
    now = timezone.now()
    HospitalStayFactory(
        citizen=world.citizen,
        department=world.department,
        admitted_at=now - datetime.timedelta(days=20),
        discharged_at=now - datetime.timedelta(days=10),
    )
    # The window is part of the rows: a changed setting takes effect with ``relationships_check --fix``.
    settings.CITIZEN_ACCESS_HOSPITAL_DAYS = 5
    relationships_recompute(fix=True)
    assert not sees(actor("hospital_nurse"), world.citizen)
    settings.CITIZEN_ACCESS_HOSPITAL_DAYS = 14
    relationships_recompute(fix=True)
    assert sees(actor("hospital_nurse"), world.citizen)


def test_objection_against_a_sector_removes_access(world, actor):
    objection_record(
        actor=actor("gp_a"), citizen=world.citizen, target=ObjectionTarget.SECTOR, sector=Sector.MUNICIPALITY
    )
    assert not sees(actor("homecare_a"), world.citizen)
    assert sees(actor("gp_a"), world.citizen)


def test_objection_against_an_organisation_removes_only_that_organisation(world, actor):
    objection_record(
        actor=actor("homecare_a"),
        citizen=world.citizen,
        target=ObjectionTarget.ORGANISATION,
        organisation=world.clinic_a,
    )
    assert not sees(actor("gp_a"), world.citizen)
    assert not sees(actor("nurse_a"), world.citizen)
    assert sees(actor("homecare_a"), world.citizen)


def test_objection_does_not_stop_a_hospital_during_a_current_stay(world, actor):
    now = timezone.now()
    objection_record(actor=actor("gp_a"), citizen=world.citizen, target=ObjectionTarget.SECTOR, sector=Sector.HOSPITAL)
    HospitalStayFactory(citizen=world.citizen, department=world.department, admitted_at=now)
    assert sees(actor("hospital_nurse"), world.citizen)
    # ... but after discharge the objection holds, even within the window.
    hospital_stay_end(citizen=world.citizen, discharged_at=now + datetime.timedelta(minutes=1))
    assert not sees(actor("hospital_nurse"), world.citizen)


def test_withdrawn_objection_restores_access(world, actor):
    objection = objection_record(
        actor=actor("gp_a"), citizen=world.citizen, target=ObjectionTarget.SECTOR, sector=Sector.MUNICIPALITY
    )
    assert not sees(actor("homecare_a"), world.citizen)
    objection_withdraw(actor=actor("gp_a"), objection=objection)
    assert sees(actor("homecare_a"), world.citizen)


def test_break_the_glass_opens_for_four_hours_and_is_logged(world, actor):
    outsider = actor("gp_b")
    start = timezone.now()
    with freeze_time(start):
        citizen = break_glass_open(actor=outsider, cpr=world.citizen.cpr_formatted, reason="Akut opkald fra vagtlæge")
        assert citizen == world.citizen
        assert access_reason(outsider, citizen) == (AccessReason.BREAK_THE_GLASS, "Akut opkald fra vagtlæge")
        entry = AccessLogEntry.objects.get(citizen=citizen, action="break_the_glass")
        assert entry.reason_text == "Akut opkald fra vagtlæge"
    with freeze_time(start + datetime.timedelta(hours=3, minutes=59)):
        assert sees(outsider, world.citizen)
        # Only for the user who broke the glass: a colleague in the same clinic gets nothing.
        assert not sees(actor("admin_b"), world.citizen)
    with freeze_time(start + datetime.timedelta(hours=4, minutes=1)):
        assert not sees(outsider, world.citizen)


def test_break_the_glass_needs_a_reason_a_clinician_and_a_known_cpr(world, actor):
    with pytest.raises(ValidationError) as exc:
        break_glass_open(actor=actor("gp_b"), cpr=world.citizen.cpr, reason="fordi")
    assert "reason" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        break_glass_open(actor=actor("admin_b"), cpr=world.citizen.cpr, reason="Akut opkald fra vagtlæge")
    with pytest.raises(PermissionDenied):
        break_glass_open(actor=actor("assistant_a"), cpr=world.citizen.cpr, reason="Akut opkald fra vagtlæge")
    with pytest.raises(ValidationError) as exc:
        break_glass_open(actor=actor("gp_b"), cpr="0101019999", reason="Akut opkald fra vagtlæge")
    assert "cpr" in exc.value.message_dict
    assert not sees(actor("gp_b"), world.citizen)


def test_outside_the_policy_is_a_404_like_a_missing_citizen(world, actor):
    with pytest.raises(Http404):
        citizen_get(actor=actor("gp_b"), pk=world.citizen.pk)
    with pytest.raises(Http404):
        citizen_get(actor=actor("gp_b"), pk="00000000-0000-0000-0000-000000000000")
    with pytest.raises(Http404):
        citizen_get(actor=actor("gp_b"), pk="not-a-uuid")
    assert AccessLogEntry.objects.count() == 0


def test_search_never_reveals_a_cpr_outside_the_scope(world, actor):
    assert citizen_search(actor=actor("gp_b"), query=world.citizen.cpr) == []
    assert citizen_search(actor=actor("gp_b"), query=world.citizen.cpr_formatted) == []
    assert citizen_search(actor=actor("gp_a"), query=world.citizen.cpr_formatted) == [world.citizen]
    assert citizen_search(actor=actor("gp_a"), query=world.citizen.cpr[:6]) == [world.citizen]
    assert citizen_search(actor=actor("gp_a"), query=world.citizen.last_name.lower()[:4]) == [world.citizen]


def test_a_user_without_membership_sees_nobody(world):
    from sectors.tests.factories import UserFactory
    from tests.cast import actor_for

    lonely = actor_for(UserFactory())
    assert not visible_citizens(lonely.acting, lonely.user).exists()


def test_a_user_with_two_memberships_sees_by_the_acting_organisation(world):
    from sectors.choices import MembershipRole
    from sectors.tests.factories import MembershipFactory
    from tests.cast import actor_for

    user = world.users["gp_b"]
    MembershipFactory(user=user, organisation=world.municipality_a, role=MembershipRole.CARE_COORDINATOR)
    assert not sees(actor_for(user, world.clinic_b), world.citizen)
    assert sees(actor_for(user, world.municipality_a), world.citizen)


def test_the_reason_of_a_read_is_ranked_as_the_gate_ranks_it_in_sql(world):
    """``access_reason`` and ``access_reasons`` rank a citizen's rows in Python: exactly as the
    ``_ORDER`` of ``visible_citizens(with_reason=True)`` ranks them in SQL."""
    for number, kind in enumerate(RelationshipKind.values):
        for current in (False, True):
            CareRelationship.objects.create(
                citizen=world.citizen,
                organisation=world.department,
                kind=kind,
                current=current,
                source_type="test",
                source_id=f"{number}-{current}",
            )
    in_sql = CareRelationship.objects.filter(source_type="test").annotate(rank=_ORDER)
    assert {(row.kind, row.current, row.rank) for row in in_sql} == {
        (row.kind, row.current, _rank_of(row.kind, row.current)) for row in in_sql
    }


def test_a_discharged_stay_names_the_reason_before_a_break_the_glass_grant(world, actor):
    """``PRECEDENCE``: the 30 days after a discharge come second, right after a current stay; a
    personal break-the-glass grant, last, must not hide them."""
    reader = actor("hospital_nurse")
    now = timezone.now()
    common = {
        "citizen": world.citizen,
        "organisation": reader.acting.organisation,
        "valid_to": now + datetime.timedelta(days=20),
    }
    CareRelationship.objects.create(
        **common, kind=RelationshipKind.BREAK_THE_GLASS, user=reader.user, source_type="test", source_id="grant"
    )
    CareRelationship.objects.create(
        **common, kind=RelationshipKind.HOSPITAL_STAY, current=False, source_type="test", source_id="stay"
    )
    assert access_reason(reader, world.citizen)[0] == AccessReason.HOSPITAL_RECENT
    assert access_reasons(reader, [world.citizen.pk]) == {world.citizen.pk: AccessReason.HOSPITAL_RECENT}
    in_sql = visible_citizens(reader.acting, reader.user, with_reason=True).get(pk=world.citizen.pk)
    assert in_sql.access_via == AccessReason.HOSPITAL_RECENT


def test_the_reasons_of_a_list_are_those_of_the_gate(world, actor):
    HospitalStayFactory(citizen=world.citizen, department=world.department)
    discharged = CitizenFactory(gp_clinic=world.clinic_b, municipality=world.municipality_a)
    HospitalStayFactory(
        citizen=discharged,
        department=world.department,
        admitted_at=timezone.now() - datetime.timedelta(days=5),
        discharged_at=timezone.now() - datetime.timedelta(days=2),
    )
    elsewhere = CitizenFactory(gp_clinic=world.clinic_b, municipality=world.municipality_b)
    citizens = [world.citizen, discharged, elsewhere]
    seen = set()
    for who in ("gp_a", "homecare_a", "hospital_nurse", "unit_physician", "gp_b", "homecare_b"):
        reader = actor(who)
        expected = dict(
            visible_citizens(reader.acting, reader.user, with_reason=True)
            .filter(pk__in=[c.pk for c in citizens])
            .values_list("pk", "access_via")
        )
        assert access_reasons(reader, [c.pk for c in citizens]) == expected
        for citizen in citizens:
            reason = access_reason(reader, citizen)
            assert (reason[0] if reason else None) == expected.get(citizen.pk)
        seen |= set(expected.values())
    assert seen == {
        AccessReason.HOSPITAL_STAY,
        AccessReason.HOSPITAL_RECENT,
        AccessReason.GP_CLINIC,
        AccessReason.MUNICIPALITY,
    }


def test_the_gate_is_built_once_per_organisation_and_user_and_only_copies_run(world, actor):
    reader = actor("gp_a")
    assert sees(reader, world.citizen)
    kept = {key: rows for key, rows in access._standing.items() if key[0] == world.clinic_a.pk}
    assert {key[3:] for key in kept} >= {(reader.user.pk, "rows")}
    assert sees(reader, world.citizen)
    assert list(visible_citizens(reader.acting, reader.user, with_reason=True)) == [world.citizen]
    for key, rows in kept.items():
        assert access._standing[key] is rows  # not built again
        assert rows._result_cache is None  # never evaluated itself: every reader gets a copy


def test_one_citizens_rows_are_read_with_a_statement_compiled_once(world, actor, django_assert_num_queries):
    """A detail read runs the gate's statement compiled for the organisation and user, with the
    time and the citizen put in: the same answer as the ORM's, at any time."""
    reader = actor("gp_a")
    assert access_reason(reader, world.citizen) == (AccessReason.GP_CLINIC, "")
    key = (world.clinic_a.pk, world.clinic_a.kind, world.clinic_a.parent_id, reader.user.pk, "default", access.BY_ID)
    prepared = access._prepared[key]
    assert prepared is not None  # prepared, not the ORM's way
    with django_assert_num_queries(1):
        assert access._one_citizen_rows(world.clinic_a, reader.user, world.citizen.pk, timezone.now())
    before = timezone.now() - datetime.timedelta(days=365 * 200)  # before any relationship began
    for now in (before, timezone.now(), timezone.now() + datetime.timedelta(days=1)):
        for citizen in (world.citizen, CitizenFactory(gp_clinic=world.clinic_b)):
            orm = access._rows(world.clinic_a, reader.user, now).filter(citizen_id=citizen.pk)
            expected = list(orm.values_list(*access._GRANTING_COLUMNS))
            assert access._one_citizen_rows(world.clinic_a, reader.user, citizen.pk, now) == expected
    assert access._prepared[key] is prepared


def test_the_compiled_statement_sees_an_objection_and_its_withdrawal_at_once(world, actor):
    """Compiled once, the statement still reads the objections and relationships when it runs."""
    reader = actor("homecare_a")
    assert access_reason(reader, world.citizen) == (AccessReason.MUNICIPALITY, "")
    municipality = world.municipality_a
    key = (municipality.pk, municipality.kind, municipality.parent_id, reader.user.pk, "default", access.BY_ID)
    prepared = access._prepared[key]
    objection = objection_record(
        actor=actor("gp_a"), citizen=world.citizen, target=ObjectionTarget.SECTOR, sector=Sector.MUNICIPALITY
    )
    assert access_reason(reader, world.citizen) is None
    objection_withdraw(actor=actor("gp_a"), objection=objection)
    assert access_reason(reader, world.citizen) == (AccessReason.MUNICIPALITY, "")
    world.citizen.municipality = world.municipality_b
    world.citizen.save()  # moved away: the municipality's relationship ends
    assert access_reason(reader, world.citizen) is None
    assert access._prepared[key] is prepared


def test_the_reason_by_cpr_is_the_gates_and_an_unknown_cpr_is_like_a_hidden_one(world, actor):
    """An exact search asks the gate by CPR number (one prepared lookup): the same reason as the
    list's, and nothing both for a citizen outside the gate and for a CPR number nobody has."""
    elsewhere = CitizenFactory(gp_clinic=world.clinic_b, municipality=world.municipality_b)
    for who in ("gp_a", "homecare_a", "gp_b", "homecare_b"):
        reader = actor(who)
        for citizen in (world.citizen, elsewhere):
            listed = visible_citizens(reader.acting, reader.user, with_reason=True).filter(pk=citizen.pk)
            expected = dict(listed.values_list("pk", "access_via"))
            assert access.access_reasons_for_cpr(reader, citizen.cpr) == expected
        assert access.access_reasons_for_cpr(reader, "0101010000") == {}
        key = (reader.organisation.pk, reader.organisation.kind, reader.organisation.parent_id, reader.user.pk)
        assert access._prepared[(*key, "default", access.BY_CPR)] is not None  # prepared, not the ORM's way
