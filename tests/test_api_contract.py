"""The API answers as its OpenAPI schema says: unset choices are null, what can be null is
declared nullable, every error has the one documented shape (parse errors, refused transitions,
unknown pages and paths, server errors with an id that is also in the log)."""

from __future__ import annotations

import datetime
import json
import logging

import jsonschema
import pytest
from django.db import OperationalError
from django.test import RequestFactory
from rest_framework.test import APIClient

from careplans.services import activity_create, careplan_create, goal_create
from citizens.tests.factories import CitizenFactory
from messaging.services import message_send
from sectors.tests.factories import RegionFactory
from smartcare.errors import server_error
from tests.cast import actor_for

from .openapi import CHECKS, load_schema, schema_dict, token_header, wsgi_app

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ERROR_REF = "#/components/schemas/Error"
SOON = datetime.date.today() + datetime.timedelta(days=7)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_is_error(body) -> None:
    """The body is valid against the documented Error component."""
    jsonschema.validate(body, schema_dict()["components"]["schemas"]["Error"])


@pytest.fixture
def plan(world):
    gp = actor_for(world.users["gp_a"])
    return careplan_create(actor=gp, citizen=world.citizen, title="KOL", coordinating_organisation=world.clinic_a)


@pytest.fixture
def app():
    with wsgi_app() as handler:
        yield handler


# --- 1. an unset choice is null, not "" ---------------------------------------------------------


def test_unset_choices_are_null(world, plan):
    gp = actor_for(world.users["gp_a"])
    goal = goal_create(actor=gp, plan=plan, description="Går selv på trapper", responsible_organisation=world.clinic_a)
    activity = activity_create(
        actor=gp, plan=plan, description="Spirometri", responsible_organisation=world.clinic_a, due_date=SOON
    )
    client = client_for(world.users["gp_a"])

    goal_body = client.get(f"/api/v1/goals/{goal.pk}/").json()
    activity_body = client.get(f"/api/v1/activities/{activity.pk}/").json()

    assert (goal_body["target_code"], goal_body["target_comparator"], goal_body["handoff_status"]) == (None, None, None)
    assert activity_body["handoff_status"] is None


def test_an_unset_choice_of_a_message_is_null(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as deliveries:
        message = message_send(
            actor=actor_for(world.users["gp_a"]),
            citizen=world.citizen,
            receiver=world.municipality_a,
            category="nursing",
            text="Ny medicin.",
        )

    sent = client_for(world.users["gp_a"]).get(f"/api/v1/messages/{message.pk}/").json()
    for deliver in deliveries:
        deliver()
    [item] = client_for(world.users["homecare_a"]).get("/api/v1/messages/").json()["results"]

    assert sent["hospital_code"] is None and sent["notice_kind"] is None
    assert sent["receivers"][0]["ack_code"] is None  # not acknowledged yet
    assert item["notice_kind"] is None


def test_a_goal_with_a_target_names_its_choices(world, plan):
    gp = actor_for(world.users["gp_a"])
    goal = goal_create(
        actor=gp,
        plan=plan,
        description="Vægt under 80 kg",
        responsible_organisation=world.clinic_a,
        target_code="29463-7",
        target_comparator="<",
        target_value="80",
        target_unit="kg",
    )

    body = client_for(world.users["gp_a"]).get(f"/api/v1/goals/{goal.pk}/").json()

    assert (body["target_code"], body["target_comparator"]) == ("29463-7", "<")


# --- 2. what can be null is declared nullable ---------------------------------------------------


def test_reads_of_records_with_their_optional_parts_unset_match_the_schema(world, plan, app):
    """A region (no parent, no municipality), a goal and an activity without target or hand-off, a
    message without copies or acknowledgement: every read of them conforms."""
    gp = actor_for(world.users["gp_a"])
    region = RegionFactory()
    goal = goal_create(actor=gp, plan=plan, description="Går selv", responsible_organisation=world.clinic_a)
    activity = activity_create(
        actor=gp, plan=plan, description="Spirometri", responsible_organisation=world.clinic_a, due_date=SOON
    )
    message = message_send(actor=gp, citizen=world.citizen, receiver=world.municipality_a, category="nursing", text="x")
    schema = load_schema()
    reads = [
        ("/api/v1/organisations/{id}/", {"id": region.pk}),
        ("/api/v1/organisations/", None),
        ("/api/v1/careplans/{id}/", {"id": str(plan.pk)}),
        ("/api/v1/goals/{id}/", {"id": goal.pk}),
        ("/api/v1/goals/", None),
        ("/api/v1/activities/{id}/", {"id": activity.pk}),
        ("/api/v1/activities/", None),
        ("/api/v1/citizens/{id}/", {"id": str(world.citizen.pk)}),
        ("/api/v1/messages/{id}/", {"id": str(message.pk)}),
        ("/api/v1/messages/{id}/thread/", {"id": str(message.pk)}),
        ("/api/v1/messages/", None),
        ("/api/v1/me/", None),
    ]

    for path, parameters in reads:
        case = schema[path]["GET"].Case(path_parameters=parameters)
        response = case.call_and_validate(app=app, headers=token_header(world.users["gp_a"]), checks=CHECKS)
        assert response.status_code == 200, path


def test_nullable_fields_are_declared_nullable_in_the_schema():
    components = schema_dict()["components"]["schemas"]

    assert components["Organisation"]["properties"]["parent"].get("nullable") is True
    assert components["Organisation"]["properties"]["municipality"].get("nullable") is True
    for name in ("handoff_status", "target_code", "target_comparator"):
        assert {"$ref": "#/components/schemas/NullEnum"} in components["Goal"]["properties"][name]["oneOf"], name


# --- 3. one error schema ------------------------------------------------------------------------


def test_every_error_answer_of_every_api_operation_is_the_error_schema():
    undocumented = []
    for path, operations in schema_dict()["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
            for code in ("403", "429", "500"):
                if code not in errors:
                    undocumented.append(f"{method.upper()} {path} {code}")
            for code, response in errors.items():
                schema = response["content"]["application/json"]["schema"]
                if ERROR_REF not in (schema.get("$ref"), *(part.get("$ref") for part in schema.get("allOf", []))):
                    undocumented.append(f"{method.upper()} {path} {code}: {schema}")

    assert undocumented == []


def test_a_body_that_is_not_json_is_a_400_in_the_error_schema(world):
    response = client_for(world.users["gp_a"]).post(
        "/api/v1/careplans/", data=b'{"title": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error" and response.json()["detail"].startswith("JSON parse error")
    assert_is_error(response.json())


def test_a_refused_transition_is_in_the_error_schema(world, plan):
    response = client_for(world.users["gp_a"]).post(
        f"/api/v1/careplans/{plan.pk}/status/", {"status": "completed"}, format="json"
    )

    assert response.status_code == 400 and response.json()["code"] == "invalid_transition"
    assert_is_error(response.json())


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [("/api/v1/careplans/00000000-0000-0000-0000-000000000000/", 404, "not_found"), ("/api/v1/me/", 403, None)],
)
def test_errors_about_the_request_have_detail_and_code(world, path, status, code):
    client = client_for(world.users["gp_a"]) if code else APIClient()

    response = client.get(path)

    assert response.status_code == status
    assert response.json()["code"] == (code or "not_authenticated") and response.json()["detail"]
    assert_is_error(response.json())


def test_field_errors_of_list_items_are_in_the_error_schema(world):
    response = client_for(world.users["gp_a"]).post(
        "/api/v1/messages/",
        {"citizen": str(world.citizen.pk), "receiver": world.municipality_a.pk, "cc": ["nobody"], "text": "x"},
        format="json",
    )

    assert response.status_code == 400 and "cc" in response.json()
    assert_is_error(response.json())


# --- 4. documented answers: unknown pages and paths, server errors ------------------------------


def test_a_page_beyond_the_last_is_a_documented_404(world):
    response = client_for(world.users["gp_a"]).get("/api/v1/careplans/", {"page": 9999})

    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert_is_error(response.json())
    for path in ("/api/v1/careplans/", "/api/v1/organisations/", "/api/v1/conditions/", "/api/v1/messages/"):
        assert "404" in schema_dict()["paths"][path]["get"]["responses"], path


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/nothing", "/api/v1/careplans/not-a-uuid/"])
def test_an_unknown_path_under_api_answers_json(world, path):
    response = client_for(world.users["gp_a"]).get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Ikke fundet.", "code": "not_found"}


def test_an_unknown_page_of_the_portal_is_still_html(gp_client):
    response = gp_client.get("/no-such-page/")

    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_an_unexpected_error_is_a_json_500_with_an_id_in_the_log(world, monkeypatch, caplog):
    """A deadlock on send: JSON with an error id the log has too, and no CPR number in the log."""

    def deadlock(**kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr("messaging.services.message_send", deadlock)
    client = client_for(world.users["gp_a"])
    client.raise_request_exception = False
    payload = {
        "citizen": str(world.citizen.pk),
        "receiver": world.municipality_a.pk,
        "category": "nursing",
        "text": "x",
    }

    with caplog.at_level(logging.ERROR, logger="smartcare.api"):
        response = client.post(f"/api/v1/messages/?search={world.citizen.cpr}", payload, format="json")

    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "server_error" and len(body["error_id"]) == 32
    assert_is_error(body)
    [record] = [r for r in caplog.records if r.name == "smartcare.api"]
    assert body["error_id"] in record.getMessage() and record.exc_info[0] is OperationalError
    assert world.citizen.cpr not in caplog.text


def test_an_error_outside_the_api_views_under_api_is_a_json_500(caplog):
    request = RequestFactory().get("/api/v1/me/")
    try:
        raise RuntimeError("in a middleware")
    except RuntimeError:
        with caplog.at_level(logging.ERROR, logger="smartcare.api"):
            response = server_error(request)

    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert b'"error_id"' in response.content
    assert_is_error(json.loads(response.content))
    assert any(r.name == "smartcare.api" and r.exc_info for r in caplog.records)


def test_an_error_of_a_portal_page_keeps_the_html_500():
    response = server_error(RequestFactory().get("/citizens/"))

    assert response.status_code == 500 and b"error_id" not in response.content


def test_a_citizens_data_never_gets_into_the_error_log_line(world, monkeypatch, caplog):
    citizen = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)

    def failing(*args, **kwargs):
        raise ValueError("unexpected")

    monkeypatch.setattr("citizens.api.views.citizen_document_get", failing)
    client = client_for(world.users["gp_a"])

    with caplog.at_level(logging.ERROR, logger="smartcare.api"):
        response = client.get(f"/api/v1/citizens/{citizen.pk}/", {"search": citizen.cpr})

    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.name == "smartcare.api"]
    assert citizen.cpr not in record.getMessage() and f"/api/v1/citizens/{citizen.pk}/" in record.getMessage()


def test_a_server_error_of_the_fhir_export_is_an_operation_outcome_with_the_error_id(world, monkeypatch, caplog):
    message = message_send(
        actor=actor_for(world.users["gp_a"]),
        citizen=world.citizen,
        receiver=world.municipality_a,
        category="nursing",
        text="x",
    )

    def failing(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr("messaging.fhir.views_export.message_bundle", failing)

    with caplog.at_level(logging.ERROR, logger="smartcare.api"):
        response = client_for(world.users["gp_a"]).get(f"/fhir/Bundle/{message.pk}")

    assert response.status_code == 500 and response["Content-Type"] == "application/fhir+json"
    [issue] = json.loads(response.content)["issue"]
    [record] = [r for r in caplog.records if r.name == "smartcare.api"]
    assert issue["code"] == "exception" and record.args[0] in issue["diagnostics"]
