"""Home monitoring is reachable from the citizen's pages: the overview and the plan page link to
the limits, to recording a measurement and to the charts, each only for those who may use it; the
overview's latest measurements open their chart, which a citizen without a care plan has too."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse

from careplans.choices import CarePlanStatus, ObservationCode
from careplans.monitoring import observation_record
from careplans.services import careplan_create
from citizens.models import AccessLogEntry

from .helpers import active_plan, blood_pressure

pytestmark = pytest.mark.django_db


def page(client, world, user: str, url: str, status: int = 200) -> str:
    client.force_login(world.users[user])
    response = client.get(url)
    assert response.status_code == status
    return response.content.decode()


def link(html: str, testid: str) -> str:
    """The href of the element with this test id."""
    start = html.rindex("<a ", 0, html.index(f'data-testid="{testid}"'))
    return html[start:].split('href="', 1)[1].split('"', 1)[0]


def test_a_gp_starts_home_monitoring_from_the_citizen_overview(client, world):
    overview = reverse("citizens:detail", args=[world.citizen.pk])
    html = page(client, world, "gp_a", overview)
    assert link(html, "link-set-thresholds") == reverse("careplans:thresholds", args=[world.citizen.pk])
    assert link(html, "link-record-measurement") == (
        reverse("careplans:measurement_new", args=[world.citizen.pk]) + "?next=" + quote(overview)
    )
    assert link(html, "link-charts") == reverse("careplans:measurements", args=[world.citizen.pk])
    assert 'data-testid="link-thresholds"' not in html


def test_a_non_clinician_sees_the_limits_but_is_not_offered_to_set_them(client, world):
    html = page(client, world, "assistant_a", reverse("citizens:detail", args=[world.citizen.pk]))
    assert link(html, "link-thresholds") == reverse("careplans:thresholds", args=[world.citizen.pk])
    assert 'data-testid="link-set-thresholds"' not in html
    assert 'data-testid="link-record-measurement"' in html  # the home-care assistant measures on visits


def test_the_latest_measurements_open_their_chart(client, world, actor):
    observation_record(actor=actor("gp_a"), citizen=world.citizen, reading=blood_pressure(142, 88))
    html = page(client, world, "gp_a", reverse("citizens:detail", args=[world.citizen.pk]))
    charts = reverse("careplans:measurements", args=[world.citizen.pk])
    assert link(html, "latest-measurements-charts") == charts
    assert link(html, "latest-measurement-chart") == f"{charts}#measurement-{ObservationCode.BLOOD_PRESSURE}"

    html = page(client, world, "gp_a", charts)  # no care plan: the charts have a page of their own
    assert f'id="measurement-{ObservationCode.BLOOD_PRESSURE}"' in html
    assert f'<script id="chart-data-{ObservationCode.BLOOD_PRESSURE}"' in html
    assert 'data-testid="link-charts"' not in html and 'data-testid="link-set-thresholds"' in html
    entry = AccessLogEntry.objects.filter(citizen=world.citizen, detail="measurement charts").get()
    assert entry.user == world.users["gp_a"]


def test_the_plan_page_links_to_the_limits_and_recording(client, world, actor):
    plan = active_plan(world, actor("gp_a"))
    html = page(client, world, "gp_a", reverse("careplans:detail", args=[plan.pk]))
    assert link(html, "link-set-thresholds") == reverse("careplans:thresholds", args=[world.citizen.pk])
    assert link(html, "link-record-measurement").startswith(
        reverse("careplans:measurement_new", args=[world.citizen.pk]) + "?next="
    )
    assert 'data-testid="link-charts"' not in html  # the charts are on the plan page

    html = page(client, world, "assistant_a", reverse("careplans:detail", args=[plan.pk]))
    assert 'data-testid="link-thresholds"' in html and 'data-testid="link-set-thresholds"' not in html


@pytest.mark.parametrize("user", ["gp_b", "homecare_b", "other_hospital"])
def test_the_outsider_gets_404_for_the_charts(client, world, actor, user):
    careplan_create(
        actor=actor("gp_a"),
        citizen=world.citizen,
        title="KOL",
        coordinating_organisation=world.clinic_a,
        status=CarePlanStatus.ACTIVE,
    )
    page(client, world, user, reverse("careplans:measurements", args=[world.citizen.pk]), status=404)
