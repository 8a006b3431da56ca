"""``/api/v1/citizens/`` and ``/api/v1/conditions/`` with the fixed cast: the citizen's GP (insider),
a colleague in the same clinic and an outsider from another clinic, who must get nothing."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from citizens.choices import AccessAction, AccessReason
from citizens.cpr import parse_cpr
from citizens.models import AccessLogEntry, Citizen, CitizenCondition, Condition, ContactPerson
from sectors.choices import MembershipRole
from sectors.tests.factories import (
    HospitalDepartmentFactory,
    MembershipFactory,
    MunicipalityFactory,
)

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/citizens/"


def detail_url(citizen_or_pk) -> str:
    return f"/api/v1/citizens/{getattr(citizen_or_pk, 'pk', citizen_or_pk)}/"


def make_citizen(clinic, cpr: str, first_name: str = "Karen", last_name: str = "Jensen", **fields) -> Citizen:
    parsed = parse_cpr(cpr)
    fields.setdefault("municipality", clinic.municipality)
    return Citizen.objects.create(
        cpr=parsed.digits,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        first_name=first_name,
        last_name=last_name,
        gp_clinic=clinic,
        **fields,
    )


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def citizen(clinic):
    citizen = make_citizen(clinic, "0101801235", first_name="Inger", last_name="Holm")
    CitizenCondition.objects.create(citizen=citizen, condition=Condition.objects.get(icd10_code="J44"))
    ContactPerson.objects.create(citizen=citizen, name="Ole Holm", relation="søn", phone="20304050", is_primary=True)
    return citizen


@pytest.fixture
def new_citizen_payload(clinic):
    return {
        "cpr": "150372-4321",
        "first_name": "Birthe",
        "last_name": "Kjær",
        "street": "Vestergade 4",
        "postal_code": "5000",
        "city": "Odense C",
        "phone": "66 11 22 33",
        "municipality": clinic.municipality_id,
        "gp_clinic": clinic.pk,
        "receives_home_care": False,
        "conditions": [{"icd10_code": "E11", "onset_date": "2015-06-01"}, {"icd10_code": "I10"}],
        "contact_persons": [{"name": "Jens Kjær", "relation": "ægtefælle", "phone": "30405060", "is_primary": True}],
    }


# --- the cast on every endpoint ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["gp", "colleague"])
def test_insider_and_colleague_see_the_citizen_in_list_search_and_detail(request, who, citizen):
    client = client_for(request.getfixturevalue(who))

    listed = client.get(LIST_URL)
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert listed.json()["results"][0]["id"] == str(citizen.pk)

    for query in ("010180-1235", "0101801235", "010180", "inger", "HOLM"):
        found = client.get(LIST_URL, {"search": query})
        assert [row["id"] for row in found.json()["results"]] == [str(citizen.pk)], query

    detail = client.get(detail_url(citizen))
    assert detail.status_code == 200
    assert detail.json()["cpr"] == "0101801235"


def test_detail_has_every_documented_field(gp, citizen):
    body = client_for(gp).get(detail_url(citizen)).json()

    assert body["cpr_formatted"] == "010180-1235"
    assert body["birth_date"] == "1980-01-01"
    assert body["sex"] == "male"
    assert body["municipality"] == {
        "id": citizen.municipality_id,
        "name": citizen.municipality.name,
        "municipality_code": citizen.municipality.municipality_code,
    }
    assert body["gp_clinic"] == {"id": citizen.gp_clinic_id, "name": citizen.gp_clinic.name}
    assert [c["icd10_code"] for c in body["conditions"]] == ["J44"]
    assert body["conditions"][0]["name"]
    assert body["contact_persons"] == [{"name": "Ole Holm", "relation": "søn", "phone": "20304050", "is_primary": True}]
    assert body["consent"] == {"consent_to_share": None, "recorded_at": None}
    assert body["current_stay"] is None
    assert body["access_via"] == AccessReason.GP_CLINIC


def test_current_stay_is_shown_with_department_and_unit(gp, citizen):
    from django.utils import timezone

    from citizens.services import hospital_stay_start

    department = HospitalDepartmentFactory()
    hospital_stay_start(citizen=citizen, department=department, admitted_at=timezone.now())

    stay = client_for(gp).get(detail_url(citizen)).json()["current_stay"]

    assert stay["department"] == {"id": department.pk, "name": department.name}
    assert stay["unit"] == department.parent.name
    assert stay["kind"] == "inpatient"
    assert stay["on_leave"] is False


def test_outsider_gets_an_empty_list_and_no_search_hits(outsider, citizen):
    client = client_for(outsider)

    assert client.get(LIST_URL).json()["count"] == 0
    for query in ("010180-1235", "010180", "Holm"):
        assert client.get(LIST_URL, {"search": query}).json() == {
            "count": 0,
            "count_is_estimate": False,
            "next": None,
            "previous": None,
            "results": [],
        }


def test_outsider_gets_404_on_detail_exactly_like_a_missing_citizen(outsider, citizen):
    client = client_for(outsider)

    hidden = client.get(detail_url(citizen))
    missing = client.get(detail_url(uuid.uuid4()))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert client.get("/api/v1/citizens/not-a-uuid/").status_code == 404


@pytest.mark.parametrize("method", ["put", "patch"])
def test_outsider_gets_404_on_update_and_nothing_changes(outsider, citizen, method):
    client = client_for(outsider)
    payload = {"first_name": "Hacked", "last_name": "Name", "municipality": citizen.municipality_id}

    response = getattr(client, method)(detail_url(citizen), payload, format="json")
    missing = getattr(client, method)(detail_url(uuid.uuid4()), payload, format="json")

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    citizen.refresh_from_db()
    assert citizen.first_name == "Inger"


def test_outsider_gets_404_before_any_validation_of_the_body(outsider, citizen):
    response = client_for(outsider).patch(detail_url(citizen), {"municipality": "nonsense"}, format="json")

    assert response.status_code == 404


def test_anonymous_is_refused_everywhere(citizen, new_citizen_payload):
    client = APIClient()

    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(citizen)).status_code == 403
    assert client.post(LIST_URL, new_citizen_payload, format="json").status_code == 403
    assert client.patch(detail_url(citizen), {"first_name": "X"}, format="json").status_code == 403
    assert client.get("/api/v1/conditions/").status_code == 403
    assert not Citizen.objects.filter(cpr="1503724321").exists()


def test_token_authentication_acts_for_the_users_organisation(gp, outsider, citizen):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=gp).key}")

    assert client.get(LIST_URL).json()["count"] == 1
    assert client.get(detail_url(citizen)).status_code == 200

    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=outsider).key}")
    assert client.get(LIST_URL).json()["count"] == 0
    assert client.get(detail_url(citizen)).status_code == 404

    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get(LIST_URL).status_code == 403


def test_acting_organisation_header_switches_between_memberships(gp, citizen, other_clinic):
    MembershipFactory(user=gp, organisation=other_clinic, role=MembershipRole.GP)
    client = client_for(gp)

    assert client.get(LIST_URL, HTTP_X_ACTING_ORGANISATION=str(citizen.gp_clinic_id)).json()["count"] == 1
    assert client.get(LIST_URL, HTTP_X_ACTING_ORGANISATION=str(other_clinic.pk)).json()["count"] == 0
    assert client.get(detail_url(citizen), HTTP_X_ACTING_ORGANISATION=str(other_clinic.pk)).status_code == 404


def test_a_user_without_memberships_sees_nothing(citizen):
    from sectors.tests.factories import UserFactory

    client = client_for(UserFactory())

    assert client.get(LIST_URL).json()["count"] == 0
    assert client.get(detail_url(citizen)).status_code == 404


# --- filters ---------------------------------------------------------------------------------


def test_filters_narrow_the_list(gp, clinic, citizen):
    other = make_citizen(clinic, "0202751234", first_name="Bent", last_name="Lund", receives_home_care=True)
    client = client_for(gp)

    def ids(**params):
        return {row["id"] for row in client.get(LIST_URL, params).json()["results"]}

    assert ids() == {str(citizen.pk), str(other.pk)}
    assert ids(condition="J44") == {str(citizen.pk)}
    assert ids(receives_home_care="true") == {str(other.pk)}
    assert ids(receives_home_care="false") == {str(citizen.pk)}
    assert ids(admitted_now="true") == set()
    assert ids(gp_clinic=clinic.pk) == {str(citizen.pk), str(other.pk)}
    assert ids(municipality=clinic.municipality_id) == {str(citizen.pk), str(other.pk)}


@pytest.mark.parametrize("params", [{"condition": "X99"}, {"municipality": "abc"}, {"gp_clinic": "999999"}])
def test_an_invalid_filter_is_a_400_with_the_filter_named(gp, citizen, params):
    response = client_for(gp).get(LIST_URL, params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_pagination_has_count_and_page_size(gp, clinic):
    for i in range(7):
        make_citizen(clinic, f"01018{i}1234", last_name=f"Person{i}")
    client = client_for(gp)

    first = client.get(LIST_URL, {"page_size": 3}).json()
    last = client.get(LIST_URL, {"page_size": 3, "page": 3}).json()

    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["next"] and first["previous"] is None
    assert len(last["results"]) == 1 and last["next"] is None
    assert client.get(LIST_URL, {"page": "nonsense"}).status_code == 200


# --- the access log ----------------------------------------------------------------------------


def test_each_listed_row_is_logged_as_api_read_with_the_reason(gp, clinic, citizen):
    second = make_citizen(clinic, "0202751234")
    before = AccessLogEntry.objects.count()

    client_for(gp).get(LIST_URL)

    entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert {e.citizen_id for e in entries} == {citizen.pk, second.pk}
    assert {(e.action, e.reason, e.user_id, e.organisation_id) for e in entries} == {
        (AccessAction.API_READ, AccessReason.GP_CLINIC, gp.pk, clinic.pk)
    }


def test_municipality_staff_read_is_logged_with_the_municipality_reason(citizen):
    nurse = MembershipFactory(organisation=citizen.municipality, role=MembershipRole.HOME_CARE_NURSE).user

    response = client_for(nurse).get(detail_url(citizen))

    assert response.json()["access_via"] == AccessReason.MUNICIPALITY
    entry = AccessLogEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.reason, entry.citizen_id) == (
        AccessAction.API_READ,
        AccessReason.MUNICIPALITY,
        citizen.pk,
    )


def test_detail_read_is_logged_once_and_a_refused_one_not_at_all(gp, outsider, citizen):
    before = AccessLogEntry.objects.count()

    client_for(gp).get(detail_url(citizen), HTTP_USER_AGENT="pytest-agent")
    client_for(outsider).get(detail_url(citizen))

    entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert len(entries) == 1
    assert (entries[0].action, entries[0].reason, entries[0].user_id) == (
        AccessAction.API_READ,
        AccessReason.GP_CLINIC,
        gp.pk,
    )
    assert entries[0].user_agent == "pytest-agent"


def test_list_uses_a_fixed_number_of_queries(gp, clinic):
    client = client_for(gp)
    hypertension = Condition.objects.get(icd10_code="I10")

    def add_citizens(numbers):
        for i in numbers:
            citizen = make_citizen(clinic, f"{i + 1:02d}0180{1000 + i}", last_name=f"Person{i:02d}")
            CitizenCondition.objects.create(citizen=citizen, condition=hypertension)
            ContactPerson.objects.create(citizen=citizen, name="Kontakt", phone="12345678")

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(LIST_URL)
        return len(response.json()["results"]), len(ctx.captured_queries)

    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    add_citizens(range(3))
    rows_3, queries_3 = queries()
    add_citizens(range(3, 20))
    rows_20, queries_20 = queries()

    assert (rows_3, rows_20) == (3, 20)
    assert queries_3 == queries_20


def test_a_token_detail_read_costs_three_queries(gp, citizen):
    """The gate, the citizen with everything the answer shows in one statement (not the
    objections: the answer does not show them; citizens/documents.py) and the access-log insert;
    the token and the user come from the identity cache."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=gp).key}")
    assert client.get("/api/v1/me/").status_code == 200  # the identity cache is warm
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(detail_url(citizen)).status_code == 200
    assert len(ctx.captured_queries) == 3, [q["sql"][:60] for q in ctx.captured_queries]


def test_an_exact_cpr_outside_the_gate_costs_what_an_unknown_one_costs(gp, outsider, citizen):
    """An exact search asks the gate by CPR number before it reads a citizen: a CPR number the
    organisation may not see runs the same statements as one nobody has."""

    def statements(user, cpr: str) -> list[str]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        client.get("/api/v1/me/")  # the identity cache is warm
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST_URL, {"search": cpr}).json()["results"] == []
        return [q["sql"].split(" WHERE ")[0] for q in ctx.captured_queries]  # what each one reads

    unknown = "0101010000"
    assert not Citizen.objects.filter(cpr=unknown).exists()
    hidden = statements(outsider, citizen.cpr)
    assert hidden == statements(outsider, unknown)
    assert len(hidden) == 1  # the gate's, nothing else
    assert not AccessLogEntry.objects.filter(citizen=citizen).exists()


# --- writes ------------------------------------------------------------------------------------


def test_gp_registers_a_citizen_with_conditions_and_contacts(gp, clinic, new_citizen_payload):
    response = client_for(gp).post(LIST_URL, new_citizen_payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["cpr"] == "1503724321"
    assert body["birth_date"] == "1972-03-15"
    assert body["sex"] == "male"
    assert [(c["icd10_code"], c["onset_date"]) for c in body["conditions"]] == [
        ("E11", "2015-06-01"),
        ("I10", None),
    ]
    assert body["contact_persons"][0]["name"] == "Jens Kjær"
    assert body["access_via"] == AccessReason.CREATED
    created = Citizen.objects.get(cpr="1503724321")
    assert created.gp_clinic == clinic
    assert AccessLogEntry.objects.filter(citizen=created, action=AccessAction.CREATE).count() == 1


def test_cpr_without_dash_is_accepted(gp, new_citizen_payload):
    new_citizen_payload["cpr"] = "1503724321"

    assert client_for(gp).post(LIST_URL, new_citizen_payload, format="json").status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cpr": "320172-4321"}, "cpr"),  # no 32nd of January
        ({"cpr": "15037243"}, "cpr"),
        ({"cpr": "abcdefghij"}, "cpr"),
        ({"cpr": "0101801235"}, "cpr"),  # already registered
        ({"conditions": [{"icd10_code": "X99"}]}, "conditions"),
        ({"conditions": [{"icd10_code": "E11"}, {"icd10_code": "E11"}]}, "conditions"),
        ({"conditions": [{"icd10_code": "E11", "onset_date": "2999-01-01"}]}, "conditions"),
        ({"conditions": [{"icd10_code": "E11", "onset_date": "1960-01-01"}]}, "conditions"),
        ({"contact_persons": [{"name": "Uden telefon"}]}, "contact_persons"),
        ({"municipality": 999999}, "municipality"),
        ({"first_name": ""}, "first_name"),
    ],
)
def test_invalid_registration_is_a_400_with_field_errors_and_creates_nothing(
    gp, citizen, new_citizen_payload, change, field
):
    new_citizen_payload.update(change)
    citizens, log = Citizen.objects.count(), AccessLogEntry.objects.count()

    response = client_for(gp).post(LIST_URL, new_citizen_payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Citizen.objects.count() == citizens
    assert AccessLogEntry.objects.count() == log
    assert not CitizenCondition.objects.exclude(citizen=citizen).exists()


def test_registering_a_citizen_for_someone_else_is_a_400_and_creates_nothing(gp, new_citizen_payload):
    new_citizen_payload["gp_clinic"] = None
    new_citizen_payload["municipality"] = MunicipalityFactory().pk

    response = client_for(gp).post(LIST_URL, new_citizen_payload, format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Citizen.objects.filter(cpr="1503724321").exists()


def test_hospital_staff_may_not_register_citizens(new_citizen_payload):
    nurse = MembershipFactory(organisation=HospitalDepartmentFactory(), role=MembershipRole.HOSPITAL_NURSE).user

    response = client_for(nurse).post(LIST_URL, new_citizen_payload, format="json")

    assert response.status_code == 403
    assert not Citizen.objects.filter(cpr="1503724321").exists()


def test_malformed_json_is_a_400(gp):
    response = client_for(gp).generic("POST", LIST_URL, "{not json", content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("who", ["gp", "colleague"])
def test_insider_and_colleague_update_the_citizen(request, who, citizen):
    client = client_for(request.getfixturevalue(who))

    response = client.patch(
        detail_url(citizen),
        {"phone": "70 70 70 70", "conditions": [{"icd10_code": "E11"}], "contact_persons": []},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["phone"] == "70 70 70 70"
    assert [c["icd10_code"] for c in response.json()["conditions"]] == ["E11"]
    assert response.json()["contact_persons"] == []
    citizen.refresh_from_db()
    assert citizen.phone == "70 70 70 70"
    assert citizen.first_name == "Inger"
    entry = AccessLogEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.reason) == (AccessAction.UPDATE, AccessReason.GP_CLINIC)


def test_put_requires_the_required_fields(gp, citizen):
    client = client_for(gp)

    incomplete = client.put(detail_url(citizen), {"first_name": "Inge"}, format="json")
    complete = client.put(
        detail_url(citizen),
        {"first_name": "Inge", "last_name": "Holm", "municipality": citizen.municipality_id},
        format="json",
    )

    assert incomplete.status_code == 400
    assert {"last_name", "municipality"} <= set(incomplete.json())
    assert complete.status_code == 200
    assert complete.json()["first_name"] == "Inge"


def test_moving_the_citizen_away_saves_and_answers_204(gp, citizen, other_clinic):
    client = client_for(gp)

    response = client.patch(
        detail_url(citizen),
        {"gp_clinic": other_clinic.pk, "municipality": other_clinic.municipality_id},
        format="json",
    )

    assert response.status_code == 204
    assert not response.content
    citizen.refresh_from_db()
    assert citizen.gp_clinic == other_clinic
    assert client.get(detail_url(citizen)).status_code == 404


def test_update_cannot_change_the_cpr_number(gp, citizen):
    response = client_for(gp).patch(detail_url(citizen), {"cpr": "0202751234"}, format="json")

    assert response.status_code == 200
    citizen.refresh_from_db()
    assert citizen.cpr == "0101801235"


def test_invalid_update_is_a_400_and_changes_nothing(gp, citizen):
    response = client_for(gp).patch(
        detail_url(citizen),
        {"first_name": "Changed", "conditions": [{"icd10_code": "J44", "onset_date": "2999-01-01"}]},
        format="json",
    )

    assert response.status_code == 400
    assert "conditions" in response.json()
    citizen.refresh_from_db()
    assert citizen.first_name == "Inger"


def test_hospital_staff_who_see_the_citizen_may_not_change_them(citizen):
    from django.utils import timezone

    from citizens.services import hospital_stay_start

    department = HospitalDepartmentFactory()
    hospital_stay_start(citizen=citizen, department=department, admitted_at=timezone.now())
    nurse = MembershipFactory(organisation=department, role=MembershipRole.HOSPITAL_NURSE).user
    client = client_for(nurse)

    assert client.get(detail_url(citizen)).status_code == 200
    assert client.patch(detail_url(citizen), {"phone": "1"}, format="json").status_code == 403


# --- conditions and the schema -----------------------------------------------------------------


def test_conditions_lists_the_maintained_codes(gp):
    Condition.objects.create(icd10_code="G20", name_da="Parkinsons sygdom", name_en="Parkinson's disease")
    Condition.objects.create(icd10_code="G30", name_da="Alzheimers", name_en="Alzheimer's", is_active=False)

    body = client_for(gp).get("/api/v1/conditions/").json()

    codes = [row["icd10_code"] for row in body["results"]]
    assert {"J44", "E11", "I50", "G20"} <= set(codes)
    assert "G30" not in codes
    assert codes == sorted(codes)


def test_openapi_schema_documents_the_citizen_endpoints(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = response.content.decode()
    assert "/api/v1/citizens/" in schema
    assert "/api/v1/citizens/{id}/" in schema
    assert "/api/v1/conditions/" in schema
    assert "cpr_formatted" in schema
