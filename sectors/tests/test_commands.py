"""``load_reference_data`` and ``load_demo_data``."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction

from sectors.choices import MUNICIPAL_UNIT_KINDS, MembershipRole, OrganisationKind
from sectors.demo import DEMO_PASSWORD, STAFF_BY_KIND
from sectors.models import LocationNumber, Membership, Organisation, User
from sectors.validators import validate_gln, validate_sor

# DOMAIN.md: the 22 municipalities of the Region of Southern Denmark.
MUNICIPALITIES = {
    "0410": "Middelfart",
    "0420": "Assens",
    "0430": "Faaborg-Midtfyn",
    "0440": "Kerteminde",
    "0450": "Nyborg",
    "0461": "Odense",
    "0479": "Svendborg",
    "0480": "Nordfyns",
    "0482": "Langeland",
    "0492": "Ærø",
    "0510": "Haderslev",
    "0530": "Billund",
    "0540": "Sønderborg",
    "0550": "Tønder",
    "0561": "Esbjerg",
    "0563": "Fanø",
    "0573": "Varde",
    "0575": "Vejen",
    "0580": "Aabenraa",
    "0607": "Fredericia",
    "0621": "Kolding",
    "0630": "Vejle",
}
# The shipped SOR file (sectors/fixtures/reference/sor_region_syddanmark.csv).
REFERENCE_UNITS = 539
EXTERNAL_ENTRIES = 15

# DOMAIN.md: hospital units and their main sites.
HOSPITAL_SITES = {
    "Odense Universitetshospital": {"Odense", "Svendborg", "Nyborg", "Ærø"},
    "Sygehus Lillebælt": {"Kolding", "Vejle", "Middelfart"},
    "Sygehus Sønderjylland": {"Aabenraa", "Sønderborg", "Tønder"},
    "Sydvestjysk Sygehus": {"Esbjerg", "Grindsted"},
}


def snapshot():
    return sorted(
        Organisation.objects.values_list(
            "pk", "kind", "name", "sor_code", "gln", "municipality_code", "parent_id", "municipality_id"
        )
    )


# --- load_reference_data ----------------------------------------------------------------------


@pytest.mark.django_db
def test_load_reference_data_creates_the_region():
    out = StringIO()
    call_command("load_reference_data", stdout=out)

    portal = Organisation.objects.in_portal()
    of_kind = {kind: list(portal.filter(kind=kind)) for kind in OrganisationKind}
    assert {kind: len(rows) for kind, rows in of_kind.items()} == {
        OrganisationKind.REGION: 1,
        OrganisationKind.MUNICIPALITY: 22,
        OrganisationKind.NOTIFICATION_UNIT: 22,
        OrganisationKind.HOME_CARE: 59,
        OrganisationKind.HOME_NURSING: 23,
        OrganisationKind.NURSING_HOME: 81,
        OrganisationKind.HEALTH_VISITOR: 22,
        OrganisationKind.REHABILITATION: 22,
        OrganisationKind.ACUTE_TEAM: 22,
        OrganisationKind.HOSPITAL_UNIT: 4,
        OrganisationKind.HOSPITAL_DEPARTMENT: 47,
        OrganisationKind.HOSPITAL_WARD: 94,
        OrganisationKind.GP_CLINIC: 69,
        OrganisationKind.SPECIALIST_PRACTICE: 12,
        OrganisationKind.PHARMACY: 24,
        OrganisationKind.OTHER: 0,
    }
    assert Organisation.objects.filter(is_external=True).count() == EXTERNAL_ENTRIES
    assert f"{REFERENCE_UNITS} created" in out.getvalue()

    region = of_kind[OrganisationKind.REGION][0]
    assert region.name == "Region Syddanmark"
    municipalities = {m.municipality_code: m for m in of_kind[OrganisationKind.MUNICIPALITY]}
    assert {code: m.name for code, m in municipalities.items()} == {
        code: f"{name} Kommune" for code, name in MUNICIPALITIES.items()
    }
    assert all(m.parent == region for m in municipalities.values())

    units = {u.name: u for u in of_kind[OrganisationKind.HOSPITAL_UNIT]}
    assert set(units) == set(HOSPITAL_SITES)
    assert all(u.parent == region for u in units.values())
    sites: dict[str, set[str]] = {name: set() for name in HOSPITAL_SITES}
    for department in of_kind[OrganisationKind.HOSPITAL_DEPARTMENT]:
        assert department.children.filter(kind=OrganisationKind.HOSPITAL_WARD).count() == 2
        assert department.parent.kind == OrganisationKind.HOSPITAL_UNIT
        assert department.municipality.kind == OrganisationKind.MUNICIPALITY
        sites[department.parent.name].add(department.city)
    assert sites == HOSPITAL_SITES
    odense_department = Organisation.objects.get(
        kind=OrganisationKind.HOSPITAL_DEPARTMENT,
        parent=units["Odense Universitetshospital"],
        name="Odense Universitetshospital, Medicinsk afdeling Odense",
    )
    assert odense_department.municipality == municipalities["0461"]
    # Every municipality has its units below it, each with its EAN number(s).
    for municipality in municipalities.values():
        kinds = set(municipality.children.values_list("kind", flat=True))
        assert kinds == set(MUNICIPAL_UNIT_KINDS)
        assert all(unit.municipality == municipality for unit in municipality.children.all())
    receiving = Organisation.objects.get(name="Odense Kommune, Sygehusadviser")
    assert receiving.gln and receiving.location_numbers.count() == 1


@pytest.mark.django_db
def test_reference_data_has_valid_and_distinct_identifiers():
    call_command("load_reference_data", stdout=StringIO())
    organisations = list(Organisation.objects.all())
    for organisation in organisations:
        validate_sor(organisation.sor_code)
        if organisation.gln:
            validate_gln(organisation.gln)
        organisation.full_clean(validate_unique=False, validate_constraints=False)  # the database holds those
    numbers = [o.gln for o in organisations if o.gln] + list(LocationNumber.objects.values_list("gln", flat=True))
    assert len({o.sor_code for o in organisations}) == REFERENCE_UNITS
    assert len(set(numbers)) == len(numbers) > REFERENCE_UNITS - 100


@pytest.mark.django_db
def test_load_reference_data_twice_changes_nothing():
    call_command("load_reference_data", stdout=StringIO())
    before = snapshot()
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    assert snapshot() == before
    assert f"0 created, 0 updated, {REFERENCE_UNITS} unchanged" in out.getvalue()


@pytest.mark.django_db
def test_load_reference_data_repairs_a_changed_row():
    call_command("load_reference_data", stdout=StringIO())
    before = snapshot()
    Organisation.objects.filter(municipality_code="0461").update(name="Renamed")
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    assert snapshot() == before
    assert "0 created, 1 updated" in out.getvalue()


@pytest.mark.django_db
def test_load_reference_data_gives_an_older_database_the_danish_hospital_names():
    """Databases loaded before the names were Danish had "Odense University Hospital": a new
    load renames the unit and its departments in place (same rows, same identifiers)."""
    call_command("load_reference_data", stdout=StringIO())
    before = snapshot()
    ouh = Organisation.objects.filter(name__startswith="Odense Universitetshospital")
    assert ouh.count() == 1 + 4 + 10  # the unit, its four medical departments and ten more
    for organisation in ouh:
        Organisation.objects.filter(pk=organisation.pk).update(
            name=organisation.name.replace("Odense Universitetshospital", "Odense University Hospital")
        )
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    assert snapshot() == before
    assert "0 created, 15 updated" in out.getvalue()
    assert not Organisation.objects.filter(name__contains="University").exists()
    department = Organisation.objects.get(name="Odense Universitetshospital, Medicinsk afdeling Odense")
    assert department.parent.name == "Odense Universitetshospital"


# --- load_demo_data ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_demo_data_refuses_to_run_in_production(settings):
    settings.IS_PRODUCTION = True
    counts = (Organisation.objects.count(), User.objects.count(), Membership.objects.count())
    with pytest.raises(CommandError, match="production"):
        call_command("load_demo_data", stdout=StringIO())
    assert (Organisation.objects.count(), User.objects.count(), Membership.objects.count()) == counts


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Load the demo data once for this module, inside a transaction rolled back at the end; each
    test runs in a savepoint within it."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("load_demo_data", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def membership_of(email: str) -> Membership:
    return Membership.objects.select_related("organisation__municipality", "organisation__parent").get(
        user__email=email
    )


def test_demo_accounts(demo, db):
    admin = User.objects.get(email="admin@smartcare.example")
    assert admin.is_superuser and admin.is_staff

    gp = membership_of("gp@smartcare.example")
    assert gp.role == MembershipRole.GP
    assert gp.organisation.kind == OrganisationKind.GP_CLINIC
    assert gp.organisation.municipality.municipality_code == "0461"

    gp2 = membership_of("gp2@smartcare.example")
    assert gp2.role == MembershipRole.GP
    assert gp2.organisation.kind == OrganisationKind.GP_CLINIC
    assert gp2.organisation.municipality.municipality_code == "0621"
    assert gp2.organisation != gp.organisation

    nurse = membership_of("nurse.ouh@smartcare.example")
    assert nurse.role == MembershipRole.HOSPITAL_NURSE
    assert nurse.organisation.kind == OrganisationKind.HOSPITAL_DEPARTMENT
    assert nurse.organisation.parent.name == "Odense Universitetshospital"
    assert nurse.organisation.municipality.municipality_code == "0461"

    for email, code in [
        ("homecare.odense@smartcare.example", "0461"),
        ("homecare.svendborg@smartcare.example", "0479"),
    ]:
        homecare = membership_of(email)
        assert homecare.role == MembershipRole.HOME_CARE_NURSE
        assert homecare.organisation.kind == OrganisationKind.MUNICIPALITY
        assert homecare.organisation.municipality_code == code


@pytest.mark.parametrize(
    "email",
    [
        "admin@smartcare.example",
        "gp@smartcare.example",
        "gp2@smartcare.example",
        "nurse.ouh@smartcare.example",
        "homecare.odense@smartcare.example",
        "homecare.svendborg@smartcare.example",
    ],
)
def test_demo_accounts_share_the_published_password(demo, db, client, email):
    user = User.objects.get(email=email)
    assert user.check_password("smartcare-demo")
    assert DEMO_PASSWORD == "smartcare-demo"
    assert user.emailaddress_set.filter(email=email, primary=True).exists()


def test_demo_gp_can_sign_in(demo, db, client):
    response = client.post("/accounts/login/", {"login": "gp@smartcare.example", "password": "smartcare-demo"})
    assert response.status_code == 302
    assert client.get("/").context["acting"].organisation == membership_of("gp@smartcare.example").organisation


def test_demo_has_staff_for_every_role(demo, db):
    assert set(Membership.objects.active().values_list("role", flat=True)) == set(MembershipRole.values)


def test_demo_has_every_role_in_every_organisation_that_needs_staff(demo, db):
    for kind, roles in STAFF_BY_KIND.items():
        organisations = Organisation.objects.in_portal().filter(kind=kind)
        assert organisations.exists()
        for organisation in organisations:
            present = set(Membership.objects.active().filter(organisation=organisation).values_list("role", flat=True))
            assert set(roles) <= present, organisation


def test_demo_clinics_are_valid_and_in_every_municipality(demo, db):
    clinics = list(
        Organisation.objects.in_portal().filter(kind=OrganisationKind.GP_CLINIC).select_related("municipality")
    )
    assert {c.municipality.municipality_code for c in clinics} == set(MUNICIPALITIES)
    for clinic in clinics:
        clinic.full_clean()


def test_load_demo_data_is_idempotent(demo, db):
    counts = (Organisation.objects.count(), User.objects.count(), Membership.objects.count())
    before = snapshot()
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    assert (Organisation.objects.count(), User.objects.count(), Membership.objects.count()) == counts
    assert snapshot() == before
    for loader in settings.SMARTCARE_DEMO_LOADERS:
        assert f"{loader}: nothing new" in out.getvalue()
    assert "sectors.demo.demo_data_load: nothing new" not in demo  # the first load did create rows
