"""No counts where they are not needed (issue 13 §3).

An exact-CPR search counts nothing. The lists that grow with an organisation count at most
``LIST_COUNT_CAP`` + 1 rows (``smartcare.pagination.CappedPaginator``): above the cap they say
"more than", the API answers ``count_is_estimate: true``, and every row shown is still logged.
Each list page and endpoint costs the same queries with 3 rows as with 30, below the cap (an
exact count) and above it (a capped one)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from careplans.choices import CarePlanStatus
from careplans.services import careplan_create
from citizens.choices import AccessAction
from citizens.models import AccessLogEntry, Citizen
from citizens.tests.factories import CitizenFactory
from citizens.tests.test_views import make_citizen
from messaging.choices import Category
from messaging.services import message_send
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import MembershipFactory
from smartcare.api.pagination import StandardPagination
from smartcare.pagination import CappedPaginator

from .openapi import schema_dict

pytestmark = pytest.mark.django_db

FEW, MANY = 3, 30
CAP = 20  # below MANY: the capped path; the default (1000) is the counted one
UNREGISTERED = "0101559999"
_serial = itertools.count(1)


@pytest.fixture(params=["counted", "capped"])
def cap(request, settings) -> int:
    settings.LIST_COUNT_CAP = 1000 if request.param == "counted" else CAP
    return settings.LIST_COUNT_CAP


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def counted(client, url: str, params: dict | None = None, *, status: int = 200) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == status, (url, response.status_code)
    return len(ctx.captured_queries), response


def few_and_many(client, url: str, add: Callable[[int], None], params: dict | None = None):
    """The query count with FEW rows, then with MANY, and the last answer."""
    client.get(url, params or {})  # warm-up: the session, the identity cache, the content types
    add(FEW)
    few, _ = counted(client, url, params)
    add(MANY - FEW)
    many, response = counted(client, url, params)
    return few, many, response


def count_queries(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]


def add_citizens(clinic) -> Callable[[int], None]:
    """Citizens of the clinic, each in a municipality of its own."""

    def add(n: int) -> None:
        for _ in range(n):
            CitizenFactory(gp_clinic=clinic, last_name=f"Borger{next(_serial):03d}")

    return add


# --- the paginator ---------------------------------------------------------------------------------


def test_the_paginator_counts_at_most_the_cap_plus_one(clinic):
    add_citizens(clinic)(7)
    rows = Citizen.objects.order_by("last_name")
    with CaptureQueriesContext(connection) as ctx:
        paginator = CappedPaginator(rows, 2, cap=5)
        assert (paginator.count, paginator.count_is_estimate) == (5, True)
    assert "LIMIT 6" in count_queries(ctx)[0]
    assert CappedPaginator(rows, 2, cap=7).count == 7 and not CappedPaginator(rows, 2, cap=7).count_is_estimate

    page = paginator.page(3)  # beyond the cap's pages: still there
    assert [c.last_name for c in page] == [c.last_name for c in rows[4:6]]
    assert page.has_next() and page.has_previous() and (page.start_index(), page.end_index()) == (5, 6)
    last = paginator.page(4)
    assert len(last) == 1 and not last.has_next() and last.end_index() == 7
    assert paginator.get_page(9).number == 1  # past the end: the first page, the last is not known
    assert paginator.get_page("x").number == 1


# --- exact CPR: nothing counted --------------------------------------------------------------------


def test_an_exact_cpr_in_the_api_counts_nothing(gp, outsider):
    kirsten = make_citizen(gp, first_name="Kirsten", last_name="Hansen")
    make_citizen(gp, first_name="Karen", last_name="Hansen")
    client = api_client(gp)
    client.get("/api/v1/me/")

    for query in (kirsten.cpr, kirsten.cpr_formatted):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/citizens/", {"search": query})
        assert response.status_code == 200
        assert count_queries(ctx) == []
        body = response.json()
        assert (body["count"], body["count_is_estimate"], body["next"], body["previous"]) == (1, False, None, None)
        assert [row["id"] for row in body["results"]] == [str(kirsten.pk)]
    entries = AccessLogEntry.objects.filter(citizen=kirsten, action=AccessAction.API_READ)
    assert entries.count() == 2  # the row shown, each time

    for user, cpr in ((gp, UNREGISTERED), (outsider, kirsten.cpr)):  # outside the gate: like no such CPR
        client = api_client(user)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/citizens/", {"search": cpr})
        assert response.status_code == 200 and count_queries(ctx) == []
        assert response.json() == {
            "count": 0,
            "count_is_estimate": False,
            "next": None,
            "previous": None,
            "results": [],
        }


def test_a_cpr_prefix_in_the_api_still_counts(gp):
    kirsten = make_citizen(gp, first_name="Kirsten", last_name="Hansen")
    with CaptureQueriesContext(connection) as ctx:
        response = api_client(gp).get("/api/v1/citizens/", {"search": kirsten.cpr[:6]})
    assert response.json()["count"] == 1
    assert len([sql for sql in count_queries(ctx) if '"citizens_citizen"."cpr"' in sql]) == 1


# --- the citizen list: capped counts, said in words -------------------------------------------------


def test_the_citizen_list_page_says_more_than_the_cap(client, settings, english, clinic, gp):
    settings.LIST_COUNT_CAP = CAP
    add_citizens(clinic)(MANY)
    client.force_login(gp)

    response = client.get(reverse("citizens:list"))
    html = response.content.decode()
    assert f"Showing 1–25 of more than {CAP} citizens. Narrow the search to see an exact number." in html
    assert f"{MANY} citizens" not in html
    assert 'data-testid="page-number">Page 1<' in html and "?page=2" in html
    listed = AccessLogEntry.objects.filter(action=AccessAction.LIST, detail="citizen list")
    assert listed.count() == 25  # the rows shown, not the one fetched to see whether more follow

    second = client.get(reverse("citizens:list"), {"page": 2})
    ordered = Citizen.objects.order_by("last_name", "first_name", "cpr")
    assert [c.pk for c in second.context["page"]] == [c.pk for c in ordered[25:]]
    assert 'data-testid="page-number">Page 2<' in second.content.decode()
    assert not second.context["page"].has_next()
    assert listed.count() == 30

    settings.LIST_COUNT_CAP = 1000
    html = client.get(reverse("citizens:list")).content.decode()
    assert f"{MANY} citizens" in html and "more than" not in html and "Page 1 of 2" in html


def test_the_api_citizen_list_says_its_count_is_an_estimate(settings, clinic, gp):
    settings.LIST_COUNT_CAP = CAP
    add_citizens(clinic)(MANY)
    client = api_client(gp)

    first = client.get("/api/v1/citizens/", {"page_size": 10}).json()
    assert list(first) == ["count", "count_is_estimate", "next", "previous", "results"]
    assert (first["count"], first["count_is_estimate"], len(first["results"])) == (CAP, True, 10)
    assert first["next"].endswith("page=2&page_size=10") or "page=2" in first["next"]
    third = client.get("/api/v1/citizens/", {"page_size": 10, "page": 3}).json()  # past the cap
    assert (len(third["results"]), third["next"]) == (10, None) and third["previous"]
    assert AccessLogEntry.objects.filter(action=AccessAction.API_READ).count() == 20

    # Past the end the citizen list answers its first page, as it answered its last before.
    beyond = client.get("/api/v1/citizens/", {"page_size": 10, "page": 4}).json()
    assert [row["id"] for row in beyond["results"]] == [row["id"] for row in first["results"]]

    settings.LIST_COUNT_CAP = 1000
    exact = client.get("/api/v1/citizens/", {"page_size": 10}).json()
    assert (exact["count"], exact["count_is_estimate"]) == (MANY, False)


def test_the_schema_documents_count_is_estimate():
    schema = schema_dict()
    page = schema["components"]["schemas"]["PaginatedCitizenList"]
    assert page["properties"]["count_is_estimate"]["type"] == "boolean"
    assert "LIST_COUNT_CAP" in page["properties"]["count_is_estimate"]["description"]


# --- the same queries with 3 rows and with 30 -------------------------------------------------------


def test_the_citizen_list_page_costs_the_same_queries(client, cap, clinic, gp):
    client.force_login(gp)
    few, many, response = few_and_many(client, reverse("citizens:list"), add_citizens(clinic))
    assert response.context["page"].paginator.count_is_estimate is (cap < MANY)
    assert many == few


def test_the_api_citizen_list_costs_the_same_queries(cap, clinic, gp):
    client = api_client(gp)
    few, many, response = few_and_many(client, "/api/v1/citizens/", add_citizens(clinic), {"page_size": 10})
    assert response.json()["count_is_estimate"] is (cap < MANY)
    assert many == few


def add_messages(world) -> Callable[[int], None]:
    """Care communications to municipality A, each about another citizen of clinic A and by
    another GP."""

    def add(n: int) -> None:
        for _ in range(n):
            gp = MembershipFactory(organisation=world.clinic_a, role=MembershipRole.GP).user
            sender = _actor(gp, world.clinic_a)
            citizen = CitizenFactory(gp_clinic=world.clinic_a, municipality=world.municipality_a)
            message_send(
                actor=sender, citizen=citizen, receiver=world.municipality_a, category=Category.NURSING,
                text="Borgeren har fået ny medicin.", topic=f"Medicin {next(_serial)}",
            )  # fmt: skip

    return add


def _actor(user, organisation):
    from citizens.access import Actor

    return Actor(user=user, acting=resolve(user, organisation.pk), ip_address="127.0.0.1")


@pytest.fixture
def inbox_add(world, django_capture_on_commit_callbacks):
    add = add_messages(world)

    def run(n: int) -> None:
        with django_capture_on_commit_callbacks(execute=True):  # the messages reach the inbox
            add(n)

    return run


def test_the_inbox_costs_the_same_queries_and_says_more_than(client, cap, world, inbox_add, english):
    client.force_login(world.users["homecare_a"])
    few, many, response = few_and_many(client, reverse("messaging:inbox"), inbox_add)
    html = response.content.decode()
    if cap < MANY:
        assert f"Showing 1–25 of more than {CAP} messages. Narrow the filters to see an exact number." in html
        assert 'data-testid="page-number">Page 1<' in html
    else:
        assert 'data-testid="count-capped"' not in html and "Page 1 of 2" in html
    assert many == few


def test_the_message_api_list_costs_the_same_queries(cap, world, inbox_add):
    client = api_client(world.users["homecare_a"])
    few, many, response = few_and_many(client, "/api/v1/messages/", inbox_add, {"page_size": 10})
    body = response.json()
    assert (body["count"], body["count_is_estimate"]) == ((CAP, True) if cap < MANY else (MANY, False))
    assert many == few
    last = client.get("/api/v1/messages/", {"page_size": 10, "page": "last"})
    beyond = client.get("/api/v1/messages/", {"page_size": 10, "page": 4})
    if cap < MANY:  # no last page to go to; past the end is past the end
        assert last.status_code == beyond.status_code == 404
        with translation.override(last.headers["Content-Language"]):  # the user's own language
            assert last.json()["detail"] == str(StandardPagination.no_last_page_message)
    else:
        assert last.status_code == 200 and len(last.json()["results"]) == 10 and beyond.status_code == 404


def test_the_care_plan_api_list_costs_the_same_queries(cap, clinic, gp):
    def add(n: int) -> None:
        for _ in range(n):
            coordinator = _actor(MembershipFactory(organisation=clinic, role=MembershipRole.GP).user, clinic)
            citizen = CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality)
            careplan_create(
                actor=coordinator, citizen=citizen, title="Forløb", coordinating_organisation=clinic,
                coordinator=coordinator.user, status=CarePlanStatus.ACTIVE,
            )  # fmt: skip

    client = api_client(gp)
    few, many, response = few_and_many(client, "/api/v1/careplans/", add, {"page_size": 10})
    body = response.json()
    assert (body["count"], body["count_is_estimate"]) == ((CAP, True) if cap < MANY else (MANY, False))
    assert many == few
