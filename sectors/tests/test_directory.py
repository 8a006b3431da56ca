"""The organisation directory as a SOR tree: units, wards, several EAN numbers, external entries
without members, and ``manage.py import_sor`` (idempotent, in place, all or nothing)."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from scripts.sor_file import render
from sectors.choices import MembershipRole, OrganisationKind, OrganisationSource
from sectors.models import LocationNumber, Membership, Organisation
from sectors.reference import SOR_FILE
from sectors.selectors import organisation_by_identifier
from sectors.services import organisation_from_message
from sectors.sor import COLUMNS, SorFileError, sor_import

from .factories import (
    ExternalOrganisationFactory,
    HospitalDepartmentFactory,
    HospitalWardFactory,
    MembershipFactory,
    MunicipalityFactory,
    MunicipalUnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REGION = "910000000083"
HEADER = ",".join(COLUMNS)


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


# the smallest tree: the region, a municipality with a home-care district (two EAN numbers), and a
# hospital elsewhere in Denmark with a department
BASE = [
    f"{REGION},,Region Syddanmark,region,5791000000835,,,,7100,Vejle,,,",
    f"920000000461,{REGION},Odense Kommune,municipality,5792000004618,0461,,,5000,Odense C,,,",
    "960000000001,920000000461,Odense Kommune; Hjemmeplejen Syd,home_care,5796000000014;5796500001009,"
    ",,,5000,Odense C,66 11 22 33,,",
    "900000000099,,Aarhus Universitetshospital,hospital_unit,5790000009992,0751,,,8200,Aarhus N,,,",
    "900000000098,900000000099,AUH Geriatri,hospital_department,,0751,,,8200,Aarhus N,,,",
]


def run(rows, **kwargs):
    return sor_import(text=csv_text(*rows), region_sor=REGION, region_municipality_codes=["0461"], **kwargs)


def test_import_builds_the_tree_with_units_and_external_entries():
    counts = run(BASE)
    assert counts["created"] == 5
    district = Organisation.objects.get(sor_code="960000000001")
    municipality = Organisation.objects.get(sor_code="920000000461")
    assert district.parent == municipality and district.municipality == municipality
    assert district.kind == OrganisationKind.HOME_CARE and district.phone == "66 11 22 33"
    assert district.gln == "5796000000014"
    assert list(district.location_numbers.values_list("gln", flat=True)) == ["5796500001009"]
    assert not district.is_external and district.source == OrganisationSource.SOR
    auh = Organisation.objects.get(sor_code="900000000099")
    assert auh.is_external and auh.children.get().is_external
    assert auh.children.get().gln is None  # a unit without an EAN number
    # a message to either EAN number reaches the district
    assert organisation_by_identifier(gln="5796500001009") == district
    assert organisation_by_identifier(sor_code="960000000001", gln="5796500001009") == district


def test_import_twice_changes_nothing_and_updates_in_place():
    run(BASE)
    before = list(Organisation.objects.order_by("pk").values_list("pk", "name", "gln", "parent_id"))
    assert run(BASE)["unchanged"] == 5
    changed = [*BASE[:2], BASE[2].replace("Hjemmeplejen Syd", "Hjemmeplejen Distrikt Syd"), *BASE[3:]]
    counts = run(changed)
    assert (counts["updated"], counts["created"]) == (1, 0)
    after = list(Organisation.objects.order_by("pk").values_list("pk", "name", "gln", "parent_id"))
    assert [row[0] for row in after] == [row[0] for row in before]  # the same rows
    assert Organisation.objects.get(sor_code="960000000001").name == "Odense Kommune; Hjemmeplejen Distrikt Syd"


def test_import_deactivates_what_disappeared_and_ended():
    run(BASE)
    counts = run(BASE[:3] + [BASE[3]])
    assert counts["deactivated"] == 1
    assert not Organisation.objects.get(sor_code="900000000098").is_active
    ended = [*BASE[:2], BASE[2][: -len(",,")] + ",2020-01-01,2021-01-01", *BASE[3:]]
    run(ended)
    assert not Organisation.objects.get(sor_code="960000000001").is_active
    # organisations the portal registered itself are not the import's to deactivate
    portal = MunicipalityFactory()
    run(BASE)
    portal.refresh_from_db()
    assert portal.is_active


def test_import_moves_an_ean_number_between_units_of_the_file():
    run(BASE)
    moved = [
        *BASE[:2],
        BASE[2].replace(";5796500001009", ""),
        BASE[3],
        BASE[4].replace(",,0751", ",5796500001009,0751"),
    ]
    run(moved)
    assert Organisation.objects.get(sor_code="900000000098").gln == "5796500001009"
    assert not LocationNumber.objects.filter(organisation__sor_code="960000000001").exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("960000000002,920000000461,,home_care,,,,,,,,,", "name is required"),
        ("960000000002,920000000461,X,castle,,,,,,,,,", "unknown kind 'castle'"),
        ("960000000002,999999999999,X,home_care,,,,,,,,,", "is neither in the file nor in the portal"),
        ("960000000002,920000000461,X,home_care,,,,,,,,2020-13-01,", "valid_from is not a date"),
        ("960000000001,920000000461,X,home_care,,,,,,,,,", "SOR code already on line 4"),
        ("960000000002,920000000461,X,home_care,5796000000014,,,,,,,,", "is also on line 4"),
        ("960000000002,920000000461,X,home_care,5796000000015,,,,,,,,", "wrong check digit"),
        ("960000000002,920000000461,X,hospital_ward,,,,,,,,,", "must belong to a hospital department"),
    ],
)
def test_a_bad_row_imports_nothing_and_says_which_line(row, message):
    with translation.override("en"), pytest.raises(SorFileError) as excinfo:
        run([*BASE, row])
    assert any(message in error and "Line 7" in error or message in error for error in excinfo.value.errors)
    assert any("Line" in error for error in excinfo.value.errors)
    assert not Organisation.objects.exists()  # all or nothing


def test_a_file_without_the_columns_is_refused():
    with translation.override("en"), pytest.raises(SorFileError, match="lacks the columns"):
        sor_import(text="sor_code,name\n1,2\n", region_sor=REGION, region_municipality_codes=[])


def test_an_import_confirms_a_sender_first_met_in_a_message():
    run(BASE[:2])
    unverified = ExternalOrganisationFactory(
        sor_code="960000000001", gln="5796000000014", kind=OrganisationKind.OTHER, source=OrganisationSource.MESSAGE
    )
    run(BASE[:3])
    unverified.refresh_from_db()
    assert unverified.source == OrganisationSource.SOR and not unverified.is_unverified
    assert unverified.kind == OrganisationKind.HOME_CARE and not unverified.is_external


def test_import_sor_command(tmp_path: Path):
    path = tmp_path / "sor.csv"
    path.write_text(csv_text(*BASE), encoding="utf-8")
    out = StringIO()
    call_command("import_sor", str(path), "--region-sor", REGION, stdout=out)
    assert "5 created, 0 updated, 0 unchanged, 0 deactivated" in out.getvalue()
    path.write_text(csv_text(*BASE, "x,,,,,,,,,,,,"), encoding="utf-8")
    with translation.override("en"), pytest.raises(CommandError, match="Line 7"):
        call_command("import_sor", str(path), stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_sor", str(tmp_path / "missing.csv"), stdout=StringIO())


def test_the_shipped_file_is_what_the_script_writes_and_has_the_region():
    text = SOR_FILE.read_text(encoding="utf-8")
    assert text == render()
    rows = text.strip().splitlines()[1:]
    assert len(rows) >= 400


# --- the model rules of the tree ---------------------------------------------------------------


def test_external_entries_have_no_members():
    external = ExternalOrganisationFactory()
    membership = Membership(user=UserFactory(), organisation=external, role=MembershipRole.CARE_COORDINATOR)
    with translation.override("en"), pytest.raises(ValidationError, match="no members"):
        membership.full_clean()


def test_staff_can_be_members_of_a_unit():
    unit = MunicipalUnitFactory()
    membership = Membership(user=UserFactory(), organisation=unit, role=MembershipRole.HOME_CARE_ASSISTANT)
    membership.full_clean()


def test_a_ward_belongs_to_a_department():
    ward = HospitalWardFactory.build(parent=HospitalDepartmentFactory().parent)
    with translation.override("en"), pytest.raises(ValidationError, match="must belong to a hospital department"):
        ward.full_clean()
    ward = HospitalWardFactory.build(parent=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        ward.save()


def test_an_unverified_entry_is_external_in_the_database_too():
    entry = ExternalOrganisationFactory.build(is_external=False, source=OrganisationSource.MESSAGE)
    with pytest.raises(ValidationError):
        entry.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        entry.save()


def test_an_ean_number_belongs_to_one_organisation():
    district = MunicipalUnitFactory()
    other = MunicipalUnitFactory()
    with pytest.raises(ValidationError):
        LocationNumber(organisation=district, gln=other.gln).full_clean()
    LocationNumber.objects.create(organisation=district, gln="5796500001009")
    other.gln = "5796500001009"
    with pytest.raises(ValidationError):
        other.full_clean()


# --- the directory page ------------------------------------------------------------------------


@pytest.fixture
def tree():
    run(BASE)
    return {o.sor_code: o for o in Organisation.objects.all()}


def signed_in(client):
    user = UserFactory()
    MembershipFactory(user=user, organisation=MunicipalUnitFactory(), role=MembershipRole.HOME_CARE_NURSE)
    client.force_login(user)
    return client


def test_the_directory_shows_the_tree_and_the_external_entries(client, tree, django_assert_max_num_queries):
    signed_in(client)
    client.get("/organisations/")
    with django_assert_max_num_queries(12):
        html = client.get("/organisations/").content.decode()
    portal = html[html.index('data-testid="directory-tree"') : html.index('data-testid="directory-external"')]
    external = html[html.index('data-testid="directory-external"') :]
    # region → municipality → its unit, nested in that order
    assert portal.index("Region Syddanmark") < portal.index("Odense Kommune<") < portal.index("Hjemmeplejen Syd")
    assert '<details class="ms-1" open>' in portal and "Aarhus" not in portal
    assert external.index("Aarhus Universitetshospital") < external.index("AUH Geriatri")
    assert 'data-testid="badge-external"' in external


def test_the_directory_query_count_does_not_grow_with_the_tree(client, tree, django_assert_num_queries):
    signed_in(client)
    client.get("/organisations/")
    with CaptureQueriesContext(connection) as small:
        client.get("/organisations/")
    for _n in range(20):
        MunicipalUnitFactory(parent=tree["920000000461"])
    with CaptureQueriesContext(connection) as large:
        client.get("/organisations/")
    assert len(large) == len(small)


def test_the_directory_search_finds_a_unit_by_any_ean_number_and_marks_unverified_ones(client, tree):
    signed_in(client)
    html = client.get("/organisations/", {"search": "5796500001009"}).content.decode()
    assert "Hjemmeplejen Syd" in html and 'data-testid="directory-tree"' not in html
    ExternalOrganisationFactory(name="Sender from afar", kind=OrganisationKind.OTHER, source=OrganisationSource.MESSAGE)
    html = client.get("/organisations/", {"search": "afar"}).content.decode()
    assert 'data-testid="badge-unverified"' in html and 'data-testid="badge-external"' in html
    html = client.get("/organisations/", {"is_external": "true"}).content.decode()
    assert "Sender from afar" in html and "Hjemmeplejen Syd" not in html


def test_the_organisation_page_lists_every_ean_number(client, tree):
    signed_in(client)
    html = client.get(f"/organisations/{tree['960000000001'].pk}/").content.decode()
    assert "5796000000014<br>5796500001009" in html and "66 11 22 33" in html


# --- a sender first met in a message ---------------------------------------------------------


def test_an_unknown_sender_becomes_an_unverified_external_entry():
    entry = organisation_from_message(sor_code="900000000501", gln="5790000005017", name="Ukendt Sygehus, Afd. X")
    assert (entry.is_external, entry.is_unverified, entry.kind) == (True, True, OrganisationKind.OTHER)
    assert entry.memberships.count() == 0
    nameless = organisation_from_message(sor_code="900000000502", gln="5790000005024", name="")
    with translation.override("en"):
        assert organisation_from_message(sor_code="900000000503", gln="", name="").name == (
            "Unit with SOR code 900000000503"
        )
    assert "900000000502" in nameless.name and nameless.gln == "5790000005024"
    # the same sender again is the same entry
    assert organisation_from_message(sor_code="900000000501", gln="5790000005017").pk == entry.pk


def test_an_unknown_hospital_department_needs_no_hospital_above_it():
    department = organisation_from_message(
        sor_code="900000000504", gln="5790000005031", kind=OrganisationKind.HOSPITAL_DEPARTMENT
    )
    assert department.parent is None and department.kind == OrganisationKind.HOSPITAL_DEPARTMENT
    with pytest.raises(ValidationError):
        organisation_from_message(sor_code="123", gln="5790000005048")  # not a SOR code
