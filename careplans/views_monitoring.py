"""Home monitoring from the citizen's pages: which monitoring pages a page links to, and the
measurement charts of a citizen (with or without a care plan). The access policy and the access
log live in the selectors, the rules of who may do what in ``citizens.permissions``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from citizens import permissions
from citizens import selectors as citizen_selectors
from citizens.access import Actor, actor_from_request

from .charts import measurement_charts


def monitoring_links(actor: Actor) -> dict[str, bool]:
    """What the links to home monitoring offer: everyone who sees the citizen sees the limits and
    the charts; recording a measurement needs an organisation to act for (the service asks for
    access to the citizen, nothing more); setting limits and schedules is for clinicians."""
    return {
        "may_record_measurement": bool(actor.acting),
        "may_set_thresholds": permissions.may_set_thresholds(actor),
    }


@login_required
@require_GET
def measurements(request, citizen_pk):
    actor = actor_from_request(request)
    citizen = citizen_selectors.citizen_get(actor=actor, pk=citizen_pk, detail="measurement charts")
    context = {"citizen": citizen, "charts": measurement_charts(citizen), **monitoring_links(actor)}
    return render(request, "careplans/measurements.html", context)
