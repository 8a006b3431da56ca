"""The Today list is cut at a limit and never counted, the alert list is paginated and counted up
to LIST_COUNT_CAP (issue 13 §3): when they leave rows out, the page says so in words, and only the
rows shown are logged."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from careplans import selectors
from careplans.monitoring import observation_record
from citizens.choices import AccessAction
from citizens.models import AccessLogEntry

from .test_worklists import WEDNESDAY, citizen_in, frozen, home_care_activity, login, weight, weight_limits

pytestmark = pytest.mark.django_db
__all__ = ["frozen"]  # the autouse fixture: Wednesday 11 March 2026


def raise_alerts(world, actor, n: int) -> None:
    gp = actor("gp_a")
    for _ in range(n):
        citizen = citizen_in(world)
        weight_limits(gp, citizen, yellow_high=90, red_high=100)
        observation_record(actor=gp, citizen=citizen, reading=weight(105, source="gp"))


def test_the_alert_list_is_paginated_and_logs_the_page_shown(client, world, actor, monkeypatch, english):
    monkeypatch.setattr(selectors, "ALERTS_PAGE_SIZE", 2)
    raise_alerts(world, actor, 2)
    login(client, world, "gp_a")

    html = client.get(reverse("careplans:alerts")).content.decode()
    assert 'data-testid="page-number"' not in html and "Open: 2." in html

    raise_alerts(world, actor, 1)
    before = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(reverse("careplans:alerts"))
    first = [a.pk for a in response.context["alerts"]]
    assert len(first) == 2 and "Open: 3." in response.content.decode() and "Page 1 of 2" in response.content.decode()
    assert AccessLogEntry.objects.filter(pk__gt=before, action=AccessAction.LIST, detail="alert list").count() == 2

    response = client.get(reverse("careplans:alerts"), {"page": 2})
    second = [a.pk for a in response.context["alerts"]]
    assert len(second) == 1 and not set(first) & set(second)
    # Acknowledging on page 2 returns to page 2 (out of range now: the last page).
    html = response.content.decode()
    assert f'action="{reverse("careplans:alert_ack", args=[second[0]])}?page=2"' in html
    answer = client.post(reverse("careplans:alert_ack", args=[second[0]]) + "?page=2", {"note": "Set"})
    assert answer.status_code == 302 and answer["Location"].endswith("?page=2")
    assert "Open: 2." in client.get(answer["Location"]).content.decode()


def test_the_alert_list_says_when_it_stops_counting(client, world, actor, settings, english):
    settings.LIST_COUNT_CAP = 2
    raise_alerts(world, actor, 3)
    login(client, world, "gp_a")
    html = client.get(reverse("careplans:alerts")).content.decode()
    assert "Open: more than 2." in html and 'data-testid="count-capped"' in html
    assert "Showing 1–3 of more than 2 alerts." in html
    html = client.get(reverse("careplans:alerts"), {"all": "1"}).content.decode()
    assert "Open and acknowledged: more than 2." in html


def test_the_today_list_says_when_it_leaves_activities_out(client, world, actor, monkeypatch, english):
    monkeypatch.setattr(selectors, "TODAY_LIMIT", 2)
    homecare = actor("homecare_a")
    for i in range(2):
        home_care_activity(homecare, citizen_in(world, street=f"Testvej {i}"), due_date=WEDNESDAY)
    login(client, world, "homecare_a")

    response = client.get(reverse("careplans:today"))
    assert not response.context["more"] and 'data-testid="list-cut"' not in response.content.decode()

    home_care_activity(homecare, citizen_in(world, street="Testvej 9"), due_date=WEDNESDAY - datetime.timedelta(1))
    before = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(reverse("careplans:today"))
    assert response.context["count"] == 2 and response.context["more"]
    assert "The list shows the 2 most overdue activities; more are due." in response.content.decode()
    assert AccessLogEntry.objects.filter(pk__gt=before, action=AccessAction.LIST, detail="today list").count() == 2


def test_the_today_list_knows_more_past_its_candidates(world, actor, monkeypatch):
    """Exactly the limit passes the checks among the candidates: the complete query decides."""
    monkeypatch.setattr(selectors, "TODAY_LIMIT", 1)
    homecare = actor("homecare_a")
    for i in range(3):
        home_care_activity(homecare, citizen_in(world, street=f"Testvej {i}"), due_date=WEDNESDAY)
    rows = selectors.today_list(actor=homecare)
    assert len(rows) == 1 and rows.more
    rows = selectors.today_list(actor=actor("homecare_b"))
    assert rows == [] and not rows.more


def test_the_today_list_is_paginated_by_visit_and_logs_the_page_shown(client, world, actor, monkeypatch, english):
    """A municipality's 300 due activities were one 900 KiB page: the visits come 30 a page in
    visiting order, numbered across the pages; the counts cover them all."""
    monkeypatch.setattr("careplans.today.VISITS_PAGE_SIZE", 2)
    homecare = actor("homecare_a")
    for i in range(3):
        home_care_activity(homecare, citizen_in(world, street=f"Testvej {i}"), due_date=WEDNESDAY)
    login(client, world, "homecare_a")

    before = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(reverse("careplans:today"))
    html = response.content.decode()
    first = [visit.citizen.street for visit in response.context["visits"]]
    assert first == ["Testvej 0", "Testvej 1"] and "3 visits" in html and "Page 1 of 2" in html
    logged = AccessLogEntry.objects.filter(pk__gt=before, action=AccessAction.LIST, detail="today list")
    assert sorted(logged.values_list("citizen__street", flat=True)) == first

    response = client.get(reverse("careplans:today"), {"page": "2"})
    html = response.content.decode()
    assert [visit.citizen.street for visit in response.context["visits"]] == ["Testvej 2"]
    assert '<span class="visit-number" aria-hidden="true">3</span>' in html and "3 visits" in html
    assert client.get(reverse("careplans:today"), {"page": "x"}).context["page"].number == 1
