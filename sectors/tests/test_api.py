"""``/api/v1/``: the organisation directory and the signed-in user, for integrations."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from sectors.choices import MembershipRole, OrganisationKind
from sectors.identifiers import GLN_SYSTEM, MUNICIPALITY_CODE_SYSTEM, SOR_SYSTEM, YDERNUMMER_SYSTEM

from .factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    MembershipFactory,
    MunicipalityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ORGANISATIONS = "/api/v1/organisations/"


@pytest.fixture
def api(api_client):
    api_client.force_authenticate(UserFactory())
    return api_client


@pytest.fixture
def named():
    """Named organisations of two municipalities, for the searches and filters."""
    odense = MunicipalityFactory(name="Odense Kommune", municipality_code="0461")
    kolding = MunicipalityFactory(name="Kolding Kommune", municipality_code="0621")
    unit = HospitalUnitFactory(name="Sygehus Lillebælt", municipality=kolding)
    return {
        "odense": odense,
        "kolding": kolding,
        "unit": unit,
        "department": HospitalDepartmentFactory(name="Medicinsk afdeling Kolding", parent=unit, municipality=kolding),
        "clinic": GPClinicFactory(name="Lægerne Vestergade", municipality=odense, ydernummer="12345"),
    }


def get_ok(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return response.json()


def result_names(body) -> set[str]:
    return {row["name"] for row in body["results"]}


def names(named, *keys) -> set[str]:
    return {named[k].name for k in keys}


@pytest.mark.parametrize("url", [ORGANISATIONS, "/api/v1/me/", f"{ORGANISATIONS}1/"])
def test_api_requires_authentication(api_client, named, url):
    response = api_client.get(url)
    assert response.status_code == 403
    assert "results" not in response.json()


def test_list_has_count_and_every_organisation(api, named):
    body = get_ok(api, ORGANISATIONS)
    assert body["count"] == 5
    assert result_names(body) == names(named, *named)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("vestergade", ["clinic"]),
        ("kolding", ["kolding", "department"]),
        ("0461", ["odense", "clinic"]),  # municipality code: the municipality and what is located in it
        ("0621", ["kolding", "unit", "department"]),
        ("12345", ["clinic"]),  # ydernummer
    ],
)
def test_list_search(api, named, search, expected):
    assert result_names(get_ok(api, ORGANISATIONS, {"search": search})) == names(named, *expected)


@pytest.mark.parametrize("key", ["odense", "unit", "department", "clinic"])
def test_list_search_by_sor_and_gln(api, named, key):
    organisation = named[key]
    assert result_names(get_ok(api, ORGANISATIONS, {"search": organisation.sor_code})) == {organisation.name}
    assert result_names(get_ok(api, ORGANISATIONS, {"search": organisation.gln})) == {organisation.name}


def test_list_filter_by_kind_and_municipality(api, named):
    assert result_names(get_ok(api, ORGANISATIONS, {"kind": OrganisationKind.HOSPITAL_DEPARTMENT})) == names(
        named, "department"
    )
    assert result_names(get_ok(api, ORGANISATIONS, {"municipality": named["kolding"].pk})) == names(
        named, "kolding", "unit", "department"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "nonsense"}, "kind"),
        ({"municipality": "abc"}, "municipality"),
        ({"municipality": "987654"}, "municipality"),
    ],
)
def test_bad_query_input_is_a_400_with_field_errors(api, named, params, field):
    response = api.get(ORGANISATIONS, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_municipality_filter_refuses_a_non_municipality(api, named):
    response = api.get(ORGANISATIONS, {"municipality": named["unit"].pk})
    assert response.status_code == 400
    assert "municipality" in response.json()


def test_detail_has_identifiers(api, named):
    clinic = named["clinic"]
    body = get_ok(api, f"{ORGANISATIONS}{clinic.pk}/")
    assert body["sor_code"] == clinic.sor_code
    assert body["gln"] == clinic.gln
    assert body["ydernummer"] == "12345"
    assert body["municipality_code"] == ""
    assert body["sector"] == "general_practice"
    assert body["municipality"] == {"id": named["odense"].pk, "name": "Odense Kommune", "kind": "municipality"}
    assert body["identifiers"] == [
        {"system": SOR_SYSTEM, "value": clinic.sor_code},
        {"system": GLN_SYSTEM, "value": clinic.gln},
        {"system": YDERNUMMER_SYSTEM, "value": "12345"},
    ]
    assert SOR_SYSTEM == "urn:oid:1.2.208.176.1.1"
    assert GLN_SYSTEM == "https://www.gs1.org/gln"


def test_detail_of_a_municipality_and_a_department(api, named):
    municipality = get_ok(api, f"{ORGANISATIONS}{named['odense'].pk}/")
    assert municipality["municipality_code"] == "0461"
    assert {"system": MUNICIPALITY_CODE_SYSTEM, "value": "0461"} in municipality["identifiers"]
    department = get_ok(api, f"{ORGANISATIONS}{named['department'].pk}/")
    assert department["parent"]["id"] == named["unit"].pk
    assert department["sector"] == "hospital"


def test_detail_of_unknown_id_is_404(api):
    assert api.get(f"{ORGANISATIONS}987654/").status_code == 404


def test_the_directory_is_read_only(api, named):
    assert api.post(ORGANISATIONS, {"name": "X"}).status_code == 405
    assert api.delete(f"{ORGANISATIONS}{named['clinic'].pk}/").status_code == 405


def count_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        body = get_ok(client, ORGANISATIONS, {"page_size": 500})
    assert body["count"] == len(body["results"])
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(api):
    unit = HospitalUnitFactory()
    HospitalDepartmentFactory.create_batch(3, parent=unit, municipality=MunicipalityFactory())
    few = count_list_queries(api)
    HospitalDepartmentFactory.create_batch(30, parent=unit, municipality=MunicipalityFactory())
    GPClinicFactory.create_batch(10)
    assert count_list_queries(api) == few
    assert few <= 3  # count and page (authentication is forced here)


def test_token_authentication(api_client, named):
    user = UserFactory()
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert get_ok(api_client, ORGANISATIONS)["count"] == 5
    assert get_ok(api_client, "/api/v1/me/")["email"] == user.email


def test_wrong_token_is_refused(api_client, named):
    Token.objects.create(user=UserFactory())
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = api_client.get(ORGANISATIONS)
    # 403 rather than 401: session authentication comes first and sends no WWW-Authenticate.
    assert response.status_code == 403
    assert "results" not in response.json()


def test_token_of_a_deactivated_user_is_refused(api_client):
    user = UserFactory()
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.get(ORGANISATIONS)
    assert response.status_code == 403
    assert "results" not in response.json()


def test_me_lists_memberships_and_the_acting_organisation(api_client, named):
    user = UserFactory()
    gp = MembershipFactory(user=user, organisation=named["clinic"], role=MembershipRole.GP)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ended = MembershipFactory(
        user=user,
        organisation=named["odense"],
        role=MembershipRole.CARE_COORDINATOR,
        start_date=yesterday - datetime.timedelta(days=100),
        end_date=yesterday,
    )
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    body = get_ok(api_client, "/api/v1/me/")

    assert body["email"] == user.email
    memberships = {m["id"]: m for m in body["memberships"]}
    assert set(memberships) == {gp.pk, ended.pk}
    assert memberships[gp.pk]["is_active"] is True
    assert memberships[gp.pk]["role"] == "gp"
    assert memberships[gp.pk]["organisation"]["id"] == named["clinic"].pk
    assert memberships[ended.pk]["is_active"] is False
    # The ended membership is listed but cannot be acted for (it would come first by name).
    assert body["acting_organisation"] == {"id": named["clinic"].pk, "name": "Lægerne Vestergade", "kind": "gp_clinic"}
    assert body["acting_roles"] == ["gp"]


def test_me_without_membership(api):
    body = get_ok(api, "/api/v1/me/")
    assert body["memberships"] == []
    assert body["acting_organisation"] is None
    assert body["acting_roles"] == []


def test_schema_documents_the_endpoints(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/organisations/" in schema["paths"]
    assert "/api/v1/organisations/{id}/" in schema["paths"]
    assert "/api/v1/me/" in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/v1/organisations/"]["get"]["parameters"]}
    assert {"search", "kind", "municipality", "page"} <= parameters
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_api_docs_page_for_a_signed_in_user(client):
    client.force_login(UserFactory())
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "<title>SmartCare API</title>" in response.content.decode()
    # Swagger UI's start-up script is a separate file (no inline script) that loads our schema.
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()
