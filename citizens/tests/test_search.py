"""Search: an exact CPR hit opens the citizen; a name is found whatever the order of its words."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citizens.choices import AccessAction
from citizens.filtersets import search_citizens
from citizens.models import AccessLogEntry, Citizen

from .test_views import make_citizen

pytestmark = pytest.mark.django_db

UNREGISTERED = "0101559999"


@pytest.fixture
def kirsten(gp):
    return make_citizen(gp, first_name="Kirsten", last_name="Hansen")


def _detail(citizen) -> str:
    return reverse("citizens:detail", args=[citizen.pk])


@pytest.mark.parametrize("page,param", [("citizens:search", "q"), ("citizens:list", "search")])
@pytest.mark.parametrize("form", ["digits", "dash"])
def test_an_exact_cpr_opens_the_citizen(gp_client, kirsten, page, param, form):
    query = kirsten.cpr if form == "digits" else kirsten.cpr_formatted
    response = gp_client.get(reverse(page), {param: query})
    assert response.status_code == 302
    assert response["Location"] == _detail(kirsten)
    entry = AccessLogEntry.objects.get(citizen=kirsten, action=AccessAction.SEARCH)
    assert entry.detail == "search hit"


@pytest.mark.parametrize("page,param", [("citizens:search", "q"), ("citizens:list", "search")])
def test_an_exact_cpr_opens_the_citizen_from_htmx(gp_client, kirsten, page, param):
    response = gp_client.get(reverse(page), {param: kirsten.cpr_formatted}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == _detail(kirsten)
    assert response.content == b""


def test_a_cpr_prefix_still_lists(gp_client, kirsten):
    response = gp_client.get(reverse("citizens:list"), {"search": kirsten.cpr[:6]})
    assert response.status_code == 200
    assert "Hansen" in response.content.decode()


def _citizen_counts(client, cpr: str, status: int) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("citizens:list"), {"search": cpr})
    assert response.status_code == status
    # A count of the search filters on the CPR; the navigation's badges (on every page) do not.
    return [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"] and '"citizens_citizen"."cpr"' in q["sql"]]


def test_an_exact_cpr_search_counts_nothing(client, gp, outsider, kirsten):
    client.force_login(gp)
    assert len(_citizen_counts(client, kirsten.cpr[:6], 200)) == 1  # a prefix lists and counts
    assert _citizen_counts(client, kirsten.cpr, 302) == []
    assert _citizen_counts(client, UNREGISTERED, 200) == []
    client.force_login(outsider)
    assert _citizen_counts(client, kirsten.cpr, 200) == []


def _results(response, cpr: str) -> str:
    content = response.content.decode()
    block = re.search(r'<div id="results" aria-live="polite">(.*?)</main>', content, re.S)
    assert block, "the results are missing"
    return block.group(1).replace(cpr, "CPR").replace(cpr[:6] + "-" + cpr[6:], "CPR")


def test_an_exact_cpr_outside_the_gate_is_not_found_like_an_unknown_one(outsider_client, kirsten):
    assert not Citizen.objects.filter(cpr=UNREGISTERED).exists()
    hidden = outsider_client.get(reverse("citizens:list"), {"search": kirsten.cpr})
    missing = outsider_client.get(reverse("citizens:list"), {"search": UNREGISTERED})
    assert hidden.status_code == missing.status_code == 200
    assert "Hansen" not in hidden.content.decode()
    assert "No citizen matches your filters." in hidden.content.decode()
    assert _results(hidden, kirsten.cpr) == _results(missing, UNREGISTERED)
    hidden = outsider_client.get(reverse("citizens:search"), {"q": kirsten.cpr})
    assert hidden.status_code == 200
    assert 'data-testid="no-hit"' in hidden.content.decode()
    assert AccessLogEntry.objects.filter(citizen=kirsten).exclude(action=AccessAction.CREATE).count() == 0


@pytest.mark.parametrize("query", ["Kirsten Hansen", "Hansen Kirsten", "hansen kir", "KIRS  HANS", "ansen kirst"])
def test_a_name_is_found_in_any_order(gp_client, gp, kirsten, query):
    others = [
        make_citizen(gp, first_name="Kirsten", last_name="Jensen"),
        make_citizen(gp, first_name="Hans", last_name="Olsen"),
    ]
    for page, param in (("citizens:search", "q"), ("citizens:list", "search")):
        response = gp_client.get(reverse(page), {param: query})
        content = response.content.decode()
        assert response.status_code == 200
        assert kirsten.cpr_formatted in content, (page, query)
        assert [c.cpr_formatted for c in others if c.cpr_formatted in content] == [], (page, query)


def test_a_word_that_matches_nothing_finds_nothing(gp_client, kirsten):
    response = gp_client.get(reverse("citizens:search"), {"q": "Hansen Birgit"})
    assert response.status_code == 200
    assert 'data-testid="no-hit"' in response.content.decode()


def test_a_name_search_can_use_the_trigram_index_on_postgresql(kirsten):
    if connection.vendor != "postgresql":
        pytest.skip("the trigram index exists on PostgreSQL only")
    sql, params = search_citizens(Citizen.objects.all(), "Hansen Kirsten").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "citizen_search_name_trgm" in plan
