"""``/launch``: an EPJ opens the portal on the citizen in context (issue #15 §2).

``GET /launch?cpr=DDMMYYSSSS`` or ``GET /launch?patient=<Patient id>`` opens the citizen's overview
for the signed-in user, after sign-in when needed (``next`` keeps the whole query). The view picks
the one parameter out of the link and calls ``selectors.citizen_launch``, which asks the gate and
logs. A citizen that is unknown, outside the gate or named by a malformed number gets one and the
same "not found" page (404); a link that names no citizen, or two, is a broken link (400).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from . import permissions, selectors
from .access import actor_from_request
from .cpr import exact_cpr, format_cpr

PARAMETERS = ("cpr", "patient")
TEMPLATE = "citizens/launch_failed.html"


class _BrokenLink(ValueError):
    """The link names no citizen, two, or one parameter twice."""


def _named(query: QueryDict) -> tuple[str | None, str | None]:
    """(cpr, patient) as the link gives them: exactly one, once; an empty value counts as absent."""
    given = {}
    for name in PARAMETERS:
        values = [value for value in query.getlist(name) if value.strip()]
        if len(values) > 1:
            raise _BrokenLink
        if values:
            given[name] = values[0]
    if len(given) != 1:
        raise _BrokenLink
    return given.get("cpr"), given.get("patient")


@login_required
@require_GET
def citizen_launch(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    try:
        cpr, patient = _named(request.GET)
    except _BrokenLink:
        return render(request, TEMPLATE, {"broken_link": True}, status=400)
    try:
        pk = selectors.citizen_launch(actor=actor, cpr=cpr, patient=patient)
    except Http404:
        # Only what the link itself says is shown back: the page is the same whether nobody has the
        # number or the citizen is outside the gate.
        digits = exact_cpr(cpr or "")
        context = {
            "cpr": digits,
            "cpr_formatted": format_cpr(digits) if digits else "",
            "may_break_the_glass": permissions.may_break_the_glass(actor),
        }
        return render(request, TEMPLATE, context, status=404)
    return redirect("citizens:detail", pk=pk)
