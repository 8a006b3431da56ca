"""``verify_access_log`` and ``generate_region``."""

from __future__ import annotations

import datetime
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.utils import timezone

from citizens.access import Actor
from citizens.accesslog import access_log_record, access_log_seal
from citizens.choices import AccessAction, AccessReason
from citizens.cpr import parse_cpr
from citizens.models import AccessLogEntry, Citizen, CitizenCondition, HospitalStay
from citizens.synthetic_cpr import synthetic_cpr, synthetic_slot, valid_century_digits
from citizens.synthetic_region import POPULATION
from sectors.acting import resolve
from sectors.choices import OrganisationKind
from sectors.models import Organisation

pytestmark = pytest.mark.django_db


# --- verify_access_log -----------------------------------------------------------------------------


@pytest.fixture
def log_entries(gp, clinic):
    parsed = parse_cpr("0101801235")
    citizen = Citizen.objects.create(
        cpr=parsed.digits,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        first_name="Inger",
        last_name="Holm",
        municipality=clinic.municipality,
        gp_clinic=clinic,
    )
    actor = Actor(user=gp, acting=resolve(gp, clinic.pk))
    for detail in ("first", "second", "third"):
        access_log_record(
            actor=actor, citizens=citizen, action=AccessAction.VIEW, detail=detail, reason=AccessReason.GP_CLINIC
        )
    access_log_seal()
    return list(AccessLogEntry.objects.order_by("pk"))


def allow_tampering(operation: str) -> None:
    """Remove the database's append-only guard inside this test's transaction, as an attacker
    with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS citizens_accesslog_no_{operation}")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS citizens_accesslog_append_only ON citizens_accesslogentry")


def verify() -> str:
    out = StringIO()
    call_command("verify_access_log", stdout=out)
    return out.getvalue()


def broken() -> str:
    with pytest.raises(CommandError) as failure:
        verify()
    assert failure.value.returncode == 1
    return str(failure.value)


def test_an_intact_log_verifies(log_entries):
    assert verify().strip() == "OK: 3 entries verified"


def test_an_empty_log_verifies(db):
    assert verify().strip() == "OK: 0 entries verified"


def test_entries_not_sealed_yet_are_counted_not_judged(log_entries, gp, clinic):
    actor = Actor(user=gp, acting=resolve(gp, clinic.pk))
    access_log_record(actor=actor, citizens=log_entries[0].citizen, action=AccessAction.VIEW, detail="fourth")

    assert verify().splitlines() == [
        "OK: 3 entries verified",
        "1 entries are not sealed yet (the sealer chains them within seconds)",
    ]


def test_the_database_refuses_to_change_the_log(log_entries):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE citizens_accesslogentry SET detail = 'x' WHERE id = %s", [log_entries[0].pk])


def test_an_altered_entry_is_found(log_entries):
    allow_tampering("update")
    middle = log_entries[1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE citizens_accesslogentry SET detail = 'nothing to see' WHERE id = %s", [middle.pk])

    message = broken()

    assert message == f"BROKEN at entry {middle.pk}: this entry was altered (1 entries verified before it)"


def test_an_entry_altered_with_a_recomputed_hash_breaks_the_next_link(log_entries):
    from citizens.accesslog import entry_digest

    allow_tampering("update")
    middle = log_entries[1]
    middle.detail = "nothing to see"
    forged = entry_digest(middle, middle.prev_hash)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE citizens_accesslogentry SET detail = %s, hash = %s WHERE id = %s",
            ["nothing to see", forged, middle.pk],
        )

    assert broken().startswith(
        f"BROKEN at entry {log_entries[2].pk}: an earlier entry was removed, altered or inserted"
    )


def test_a_deleted_middle_entry_is_found(log_entries):
    allow_tampering("delete")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM citizens_accesslogentry WHERE id = %s", [log_entries[1].pk])

    message = broken()

    assert message == (
        f"BROKEN at entry {log_entries[2].pk}: an earlier entry was removed, altered or inserted"
        " (1 entries verified before it)"
    )


def test_a_deleted_newest_entry_is_found(log_entries):
    allow_tampering("delete")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM citizens_accesslogentry WHERE id = %s", [log_entries[-1].pk])

    message = broken()

    assert message.startswith("BROKEN at the end of the chain: the newest entries were removed")
    assert "(2 entries verified before it)" in message


# --- generate_region: the CPR block ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "digits"),
    [(1920, [0, 1, 2, 3]), (1936, [0, 1, 2, 3]), (1950, [0, 1, 2, 3, 4, 9]), (1990, [0, 1, 2, 3, 4, 9])]
    + [(2010, [4, 5, 6, 7, 8, 9]), (2036, [4, 5, 6, 7, 8, 9])],
)
def test_century_digits_follow_the_century_rule(year, digits):
    assert valid_century_digits(year) == digits


@pytest.mark.parametrize(
    "birth_date", [datetime.date(1921, 2, 28), datetime.date(1964, 2, 29), datetime.date(2019, 12, 31)]
)
@pytest.mark.parametrize("male", [True, False])
def test_synthetic_numbers_are_valid_distinct_and_reversible(birth_date, male):
    numbers = []
    slot = 0
    while (cpr := synthetic_cpr(birth_date, male, slot)) is not None:
        parsed = parse_cpr(cpr)
        assert (parsed.birth_date, parsed.sex) == (birth_date, "male" if male else "female")
        assert cpr[7] == "9"
        assert synthetic_slot(cpr) == (birth_date, male, slot)
        numbers.append(cpr)
        slot += 1
    assert len(numbers) == len(set(numbers)) == 50 * len(valid_century_digits(birth_date.year))


# --- generate_region: the data -----------------------------------------------------------------------


@pytest.fixture
def generated_region(db):
    out = StringIO()
    call_command("generate_region", citizens=2000, seed=7, stdout=out)
    assert "Generated 2000 citizens" in out.getvalue()


def adult(citizen_birth_date: datetime.date) -> bool:
    today = timezone.localdate()
    return citizen_birth_date <= today.replace(year=today.year - 18) - datetime.timedelta(days=1)


def test_generate_region_creates_valid_unique_cprs(generated_region):
    rows = list(Citizen.objects.values_list("cpr", "birth_date", "sex", "first_name", "last_name", "search_name"))

    assert len(rows) == 2000
    assert len({cpr for cpr, *_ in rows}) == 2000
    for cpr, birth_date, sex, first, last, search_name in rows:
        parsed = parse_cpr(cpr)
        assert (parsed.birth_date, parsed.sex) == (birth_date, sex), cpr
        assert cpr[7] == "9"
        assert search_name == Citizen.make_search_name(first, last)


def test_every_citizen_has_a_gp_clinic_in_their_own_municipality(generated_region):
    assert not Citizen.objects.filter(gp_clinic__isnull=True).exists()
    mismatched = Citizen.objects.exclude(gp_clinic__municipality=F("municipality"))
    assert not mismatched.exists()
    assert Organisation.objects.filter(kind=OrganisationKind.GP_CLINIC).count() >= 22  # one per municipality at least


def test_citizens_spread_over_the_municipalities_in_proportion(generated_region):
    per_code = Counter(Citizen.objects.values_list("municipality__municipality_code", flat=True))
    total = sum(POPULATION.values())

    assert set(per_code) == set(POPULATION)
    for code, population in POPULATION.items():
        assert abs(per_code[code] - 2000 * population / total) <= 1, code


def test_ages_and_conditions_are_plausible(generated_region):
    birth_dates = list(Citizen.objects.values_list("birth_date", flat=True))
    adults = sum(1 for b in birth_dates if adult(b))
    today = timezone.localdate()
    over_80 = sum(1 for b in birth_dates if (today - b).days > 80 * 365.25)

    assert 0.7 < adults / 2000 < 0.85
    assert 0.02 < over_80 / 2000 < 0.09

    def share(code: str) -> float:
        with_condition = CitizenCondition.objects.filter(condition__icd10_code=code).values_list(
            "citizen__birth_date", flat=True
        )
        return sum(1 for b in with_condition if adult(b)) / adults

    assert 0.10 <= share("I10") <= 0.30
    assert 0.03 <= share("E11") <= 0.10
    assert 0.02 <= share("J44") <= 0.09
    assert 0.01 <= share("I25") <= 0.08
    assert share("I10") > share("E11") > share("I50")
    # Prevalence rises with age.
    hypertensive = CitizenCondition.objects.filter(condition__icd10_code="I10").values_list(
        "citizen__birth_date", flat=True
    )
    assert sum(1 for b in hypertensive if (today - b).days > 60 * 365.25) > len(hypertensive) / 2
    # No condition before birth or in the future.
    for onset, birth_date in CitizenCondition.objects.exclude(onset_date=None).values_list(
        "onset_date", "citizen__birth_date"
    ):
        assert birth_date <= onset <= today


def test_a_few_citizens_are_admitted_at_their_regions_hospital(generated_region):
    current = HospitalStay.objects.filter(discharged_at__isnull=True)

    assert 0 < current.count() < 40
    assert set(current.values_list("department__kind", flat=True)) == {OrganisationKind.HOSPITAL_DEPARTMENT}
    assert current.values("citizen").distinct().count() == current.count()
    for admitted, discharged in HospitalStay.objects.exclude(discharged_at=None).values_list(
        "admitted_at", "discharged_at"
    ):
        assert admitted <= discharged


def test_running_again_adds_citizens_without_collisions(generated_region):
    call_command("generate_region", citizens=1500, seed=7, stdout=StringIO())

    cprs = list(Citizen.objects.values_list("cpr", flat=True))
    assert len(cprs) == len(set(cprs)) == 3500


def test_refuses_to_run_in_production(db, settings):
    settings.IS_PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        call_command("generate_region", citizens=10, stdout=StringIO())
    assert not Citizen.objects.exists()


def test_refuses_nonsense_arguments(db):
    with pytest.raises(CommandError):
        call_command("generate_region", citizens=0, stdout=StringIO())
