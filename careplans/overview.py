"""The care plans' section of the citizen overview (registered with ``citizens.overview``):
the open and closed plans, the latest home measurements and the open alerts."""

from __future__ import annotations

from citizens.access import Actor
from citizens.models import Citizen
from citizens.overview import Section, register_section

from . import selectors
from .charts import measurement_severity
from .measurements import MEASUREMENTS
from .views_monitoring import monitoring_links


@register_section("careplans", order=10)
def citizen_overview_section(actor: Actor, citizen: Citizen) -> Section:
    """Care plans, latest measurements and open alerts (templates/careplans/_citizen_sections.html)."""
    thresholds = selectors.current_thresholds(citizen=citizen)
    order = list(MEASUREMENTS)
    latest = sorted(selectors.latest_observations(citizen=citizen), key=lambda o: order.index(o.code))
    plans = list(selectors.careplans_for_citizen(citizen=citizen))  # closed ones too: still reachable
    context = {
        "care_plans": [plan for plan in plans if plan.is_open],
        "closed_care_plans": [plan for plan in plans if not plan.is_open],
        "latest_measurements": [
            {"observation": o, "label": MEASUREMENTS[o.code].label, "severity": measurement_severity(o, thresholds)}
            for o in latest
        ],
        "open_alerts": selectors.alerts_worklist(actor=actor, citizen=citizen),
        "may_create_plan": bool(actor.acting),
        **monitoring_links(actor),
    }
    return Section("careplans/_citizen_sections.html", context)
