"""The Today and alert lists are cut at a limit and never counted (issue 13 §3): when they leave
rows out, the page says so in words, and only the rows shown are logged."""

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


def test_the_alert_list_says_when_it_leaves_alerts_out(client, world, actor, monkeypatch, english):
    monkeypatch.setattr(selectors, "ALERTS_LIMIT", 3)
    raise_alerts(world, actor, 3)
    login(client, world, "gp_a")

    html = client.get(reverse("careplans:alerts")).content.decode()
    assert 'data-testid="list-cut"' not in html and "Open: 3." in html

    raise_alerts(world, actor, 1)
    before = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(reverse("careplans:alerts"))
    html = response.content.decode()
    assert len(response.context["alerts"]) == 3
    assert "Open: at least 3." in html
    assert "The list shows the first 3 alerts, red first and then the oldest; there are more." in html
    assert AccessLogEntry.objects.filter(pk__gt=before, action=AccessAction.LIST, detail="alert list").count() == 3


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
