"""The measurement chart writes numbers and dates in the page's language, not the browser's:
77,8 kg and 6. dec. 2026 in Danish, 77.8 kg and 6 Dec 2026 (never Dec 6 or 12/06) in English."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from careplans.choices import CarePlanStatus, ObservationCode
from careplans.monitoring import Reading, observation_record
from careplans.services import careplan_create
from citizens.access import Actor
from citizens.demo import citizen_demo_load
from citizens.models import Citizen
from sectors.acting import resolve
from sectors.demo import demo_data_load
from sectors.models import Membership

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the chart's tooltip says about the first point (6 December 2026, 14:30 in Copenhagen).
TOOLTIP = """c => {
  const chart = window.Chart.getChart(c);
  const callbacks = chart.options.plugins.tooltip.callbacks;
  const point = chart.data.datasets[0].data[0];
  const item = {dataset: chart.data.datasets[0], parsed: point};
  return [chart.options.locale, callbacks.title([item]), callbacks.label(item)];
}"""


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", ["da", "6. dec. 2026, 14.30", ": 77,8 kg"]),
        ("en", ["en-GB", "6 Dec 2026, 14:30", ": 77.8 kg"]),
    ],
)
def test_chart_tooltip_follows_the_page_language(new_page, language, expected):
    demo_data_load()
    citizen_demo_load()
    membership = Membership.objects.select_related("user", "organisation").get(user__email="gp@smartcare.example")
    citizen = Citizen.objects.filter(gp_clinic=membership.organisation).order_by("cpr").first()
    gp = Actor(user=membership.user, acting=resolve(membership.user, None))
    plan = careplan_create(
        actor=gp,
        citizen=citizen,
        title="Hjertesvigt",
        coordinating_organisation=membership.organisation,
        status=CarePlanStatus.ACTIVE,
    )
    moment = timezone.make_aware(datetime.datetime(2026, 12, 6, 14, 30))
    observation_record(
        actor=gp,
        citizen=citizen,
        reading=Reading(
            code=ObservationCode.BODY_WEIGHT, value=Decimal("77.8"), unit="kg", effective_at=moment, source="citizen"
        ),
    )

    page = new_page(language=language)
    sign_in(page, "gp@smartcare.example")
    page.wait_for_url("**/")
    page.goto(f"/care/plans/{plan.pk}/")
    canvas = page.locator(f"canvas[data-chart='chart-data-{ObservationCode.BODY_WEIGHT}']")
    canvas.wait_for()
    page.wait_for_function("() => !!window.Chart && !!window.Chart.getChart(document.querySelector('canvas'))")
    locale, title, label = canvas.evaluate(TOOLTIP)
    assert [locale, title] == expected[:2]
    assert label.endswith(expected[2])
    assert page.console_errors == []
