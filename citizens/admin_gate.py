"""What the shared admin base (``smartcare.admin``) takes from this app: which citizens a request
may see, the citizen search of the portal, and the access-log entries for what a page showed."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import HttpRequest

from sectors.acting import acting_for

from .access import access_reason, actor_from_request, visible_citizens
from .accesslog import access_log_record, citizens_read_log
from .choices import AccessAction
from .filtersets import search_citizens
from .models import Citizen


def visible_ids(request: HttpRequest) -> QuerySet:
    """The ids of the citizens the organisation the request acts for may see (a subquery)."""
    return visible_citizens(acting_for(request), request.user).values("pk")


def search_ids(search_term: str) -> QuerySet:
    """The ids of the citizens a CPR number (whole or the first six digits or more) or name finds."""
    return search_citizens(Citizen.objects.all(), search_term).values("pk")


def log_listed(request: HttpRequest, citizens: Iterable[Citizen | None], *, detail: str) -> None:
    """One entry per citizen shown, appended together, each with the relationship behind it."""
    shown = [citizen for citizen in citizens if citizen is not None]
    citizens_read_log(actor=actor_from_request(request), citizens=shown, action=AccessAction.LIST, detail=detail)


def log_viewed(request: HttpRequest, citizen: Citizen | None, *, detail: str) -> None:
    """The citizen whose page this is, with the relationship and, after breaking the glass, the
    reason given. A superuser may have no relationship: the reason stays blank, so it stands out."""
    if citizen is None:
        return
    actor = actor_from_request(request)
    reason, text = access_reason(actor, citizen) or ("", "")
    access_log_record(
        actor=actor, citizens=citizen, action=AccessAction.VIEW, detail=detail, reason=reason, reason_text=text
    )
