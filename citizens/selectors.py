"""Reads of citizen data. Each one goes through the access policy and writes the access-log
entries for what it returns, so there is no second way in."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import CharField, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.http import Http404
from django.utils import timezone

from sectors.models import Organisation
from smartcare.pagination import CappedPaginator

from .access import (
    Actor,
    access_reason,
    access_reasons,
    access_reasons_for_cpr,
    access_reasons_for_replacement,
    visible_citizens,
)
from .accesslog import access_log_record
from .choices import AccessAction
from .citizen_detail import citizen_read
from .cpr import exact_cpr
from .documents import citizen_documents
from .filtersets import CitizenFilterSet, search_citizens
from .identifiers import exact_replacement
from .models import (
    AccessLogEntry,
    AccessReviewItem,
    BreakGlassAccess,
    Citizen,
    CitizenCondition,
    CitizenIdentifier,
    Condition,
    ConsentEvent,
    HospitalStay,
)
from .reviews import reviewed_organisations


def _with_overview_data(qs: QuerySet[Citizen]) -> QuerySet[Citizen]:
    """Also the first replacement number, in the same statement: the lists show it in place of the
    CPR number of a person without one (``Citizen.cpr_formatted``)."""
    first = CitizenIdentifier.objects.filter(citizen_id=OuterRef("pk")).order_by("created_at", "pk").values("value")
    qs = qs.annotate(first_replacement=Subquery(first[:1]))
    return qs.select_related("municipality", "gp_clinic").prefetch_related(
        Prefetch("conditions", queryset=CitizenCondition.objects.select_related("condition")),
        Prefetch(
            "stays",
            queryset=HospitalStay.objects.filter(discharged_at__isnull=True).select_related("department__parent"),
            to_attr="current_stays",
        ),
    )


def citizen_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Citizen]:
    """The citizens the actor may see, filtered; not logged until rows are shown (citizen_page)."""
    qs = visible_citizens(actor.acting, actor.user, with_reason=True)
    if filters is not None:
        filterset = CitizenFilterSet(filters, queryset=qs)
        if not filterset.is_valid():
            return qs.none()
        qs = filterset.qs
    return _with_overview_data(qs).order_by("last_name", "first_name", "cpr")


def _log_rows(actor: Actor, rows: list[Citizen], action: str, detail: str) -> None:
    reasons = {citizen.pk: getattr(citizen, "access_via", "") for citizen in rows}
    access_log_record(actor=actor, citizens=rows, action=action, detail=detail, reasons=reasons)


def citizen_page(
    *,
    actor: Actor,
    filters: Mapping[str, Any] | None,
    page_number: Any = 1,
    page_size: int = 25,
    action: str = AccessAction.LIST,
    detail: str = "citizen list",
) -> Page:
    """One page of citizens; every row shown is logged.

    The count is capped (``CappedPaginator``, ``settings.LIST_COUNT_CAP``). A search for a whole
    CPR number counts nothing: it finds one citizen or none, so the page is built from the rows
    fetched. Without other filters the gate is asked about the CPR number first and only a
    citizen the actor may see is read (``_exact_rows``); with them, at most two rows of the
    filtered list."""
    digits = citizen_exact_cpr_search(filters)
    if digits:
        page = CappedPaginator(_exact_rows(actor, digits), page_size).get_page(page_number)
    else:
        page = _filtered_page(citizen_list(actor=actor, filters=filters), filters, page_number, page_size)
    page.object_list = list(page.object_list)
    _log_rows(actor, page.object_list, action, detail)
    return page


def citizen_document_page(
    *,
    actor: Actor,
    filters: Mapping[str, Any] | None,
    page_number: Any = 1,
    page_size: int = 25,
    action: str = AccessAction.API_READ,
    detail: str = "api citizen list",
) -> Page:
    """``citizen_page`` as the API answers it: the rows are the API's citizens (``documents``),
    read for the whole page in one statement after the page's ids, instead of citizens with their
    prefetched conditions, stays and contact persons. Logged the same way."""
    digits = citizen_exact_cpr_search(filters)
    if digits:
        found = citizen_documents_for_cpr(actor=actor, cpr=digits, action=action, detail=detail)
        return CappedPaginator(found, page_size).get_page(page_number)
    rows = citizen_list(actor=actor, filters=filters).prefetch_related(None)
    page = _filtered_page(rows, filters, page_number, page_size)
    citizens = list(page.object_list)
    _log_rows(actor, citizens, action, detail)
    documents = citizen_documents([c.pk for c in citizens], {c.pk: getattr(c, "access_via", "") for c in citizens})
    page.object_list = [documents[c.pk] for c in citizens if c.pk in documents]
    return page


def _filtered_page(rows: QuerySet[Citizen], filters: Mapping[str, Any] | None, page_number: Any, size: int) -> Page:
    """A page of the list; a whole CPR number with other filters finds one citizen or none, so
    at most two rows are read and nothing is counted."""
    digits = exact_search(str(filters.get("search") or "")) if filters is not None else ""
    return CappedPaginator(list(rows[:2]) if digits else rows, size).get_page(page_number)


def exact_search(text: str) -> str:
    """A whole CPR number (10 digits) or a whole replacement number (as written), or "". The two
    cannot be confused: a CPR number has no letters, a replacement number has some."""
    return exact_cpr(text) or exact_replacement(text)


def citizen_exact_cpr_search(filters: Mapping[str, Any] | None) -> str:
    """The CPR number (10 digits) or replacement number when the filters are a search for a whole
    one and nothing else, or "": such a search finds one citizen (rarely more: one replacement
    number from two issuers) or none (``citizen_documents_for_cpr``)."""
    if filters is None or _narrowed(filters):
        return ""
    return exact_search(str(filters.get("search") or ""))


def _exact_reasons(actor: Actor, value: str) -> dict[Any, str]:
    """The gate's answer for the citizens a whole CPR or replacement number names."""
    return access_reasons_for_cpr(actor, value) if exact_cpr(value) else access_reasons_for_replacement(actor, value)


def _narrowed(filters: Mapping[str, Any] | None) -> bool:
    """Whether a filter other than the search is given."""
    return filters is not None and any(
        filters.get(name) not in (None, "") for name in CitizenFilterSet.base_filters if name != "search"
    )


def _exact_rows(actor: Actor, value: str) -> list[Citizen]:
    """The citizen with this CPR (or replacement) number, as ``citizen_list`` would list it, or
    nothing: the gate is asked first (by CPR, one prepared lookup), and only a citizen the actor
    may see is read."""
    reasons = _exact_reasons(actor, value)
    if not reasons:
        return []
    rows = list(_with_overview_data(Citizen.objects.filter(pk__in=list(reasons))).order_by("last_name", "first_name"))
    for citizen in rows:
        citizen.access_via = reasons[citizen.pk]  # type: ignore[attr-defined]  # as visible_citizens annotates it
    return rows


def citizen_search(*, actor: Actor, query: str, limit: int = 25) -> list[Citizen]:
    """Search hits within the access policy only: a CPR outside it is indistinguishable from
    one that does not exist."""
    if not (query or "").strip():
        return []
    qs = search_citizens(visible_citizens(actor.acting, actor.user, with_reason=True), query)
    hits = list(_with_overview_data(qs).order_by("last_name", "first_name", "cpr")[:limit])
    _log_rows(actor, hits, AccessAction.SEARCH, "search hit")
    return hits


def citizen_exact_hit(*, actor: Actor, filters: Mapping[str, Any]) -> Citizen | None:
    """The one citizen an exact-CPR search finds (with the other filters), or None. Fetches at
    most two rows and never counts the list: a CPR outside the access policy is None, exactly
    like one that does not exist. The hit is logged as a search hit."""
    hits = list(citizen_list(actor=actor, filters=filters).prefetch_related(None)[:2])
    if len(hits) != 1:
        return None
    _log_rows(actor, hits, AccessAction.SEARCH, "search hit")
    return hits[0]


def citizen_get(
    *,
    actor: Actor,
    pk: Any,
    action: str = AccessAction.VIEW,
    detail: str = "overview",
    with_objections: bool = True,
    with_identifiers: bool = False,
) -> Citizen:
    """One citizen with everything the overview shows, or 404; the read is logged. Without
    ``with_objections`` (the API, which does not show them) the objections are not read; the
    replacement numbers only ``with_identifiers`` (the overview lists them)."""
    citizen = citizen_read(pk, with_objections=with_objections, with_identifiers=with_identifiers)
    if citizen is None:  # no such citizen, or not an id
        raise Http404
    reason = access_reason(actor, citizen)
    if reason is None:
        raise Http404
    citizen.access_via, citizen.access_reason_text = reason  # type: ignore[attr-defined]  # for the page, not fields
    access_log_record(
        actor=actor, citizens=citizen, action=action, detail=detail, reason=reason[0], reason_text=reason[1]
    )
    return citizen


MERGE_HOPS = 8  # a registration merged into one that was merged later: follow at most this many


def citizen_launch(*, actor: Actor, cpr: str | None = None, patient: str | None = None) -> uuid.UUID:
    """The id of the citizen an EPJ opens the portal on (``/launch``), by CPR number (with or
    without the dash) or by the Patient's FHIR id (the citizen's id), or 404.

    Unknown, outside the gate and malformed are one answer, so a launch link reveals no more than
    a search. The citizen is logged as a search hit would be; nothing of it is read but its id. A
    Patient id of a registration merged into another opens the one kept, if the gate allows.
    Exactly one of ``cpr`` and ``patient`` is given (the view answers a link without one)."""
    if (cpr is None) == (patient is None):
        raise ValueError("citizen_launch takes exactly one of cpr and patient")
    if cpr is not None:
        digits = exact_cpr(cpr)
        reasons = access_reasons_for_cpr(actor, digits) if digits else {}
    else:
        reasons = _launch_reasons(actor, str(patient))
    if len(reasons) != 1:  # a CPR number is unique: none found, or outside the gate
        raise Http404
    access_log_record(
        actor=actor,
        citizens=[Citizen(pk=pk) for pk in reasons],
        action=AccessAction.SEARCH,
        detail="epj launch",
        reasons=reasons,
    )
    return next(iter(reasons))


def _launch_reasons(actor: Actor, patient: str) -> dict[Any, str]:
    """The gate's answer for the citizen with this id, or for the registration it was merged into."""
    try:
        pk = uuid.UUID(patient.strip())
    except ValueError:
        return {}
    reasons = access_reasons(actor, [pk])
    if reasons:
        return reasons
    # A merged-away registration has no relationships left (``citizens.merge``): follow it.
    seen = {pk}
    for _hop in range(MERGE_HOPS):
        kept = Citizen.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()
        if kept is None or kept in seen:
            return {}
        pk = kept
        seen.add(pk)
        reasons = access_reasons(actor, [pk])
        if reasons:
            return reasons
    return {}


def citizen_document_get(
    *, actor: Actor, pk: Any, action: str = AccessAction.API_READ, detail: str = "api citizen detail"
) -> dict[str, Any]:
    """The API's citizen (``documents``: one statement, no model instances), or 404; logged. The
    gate is asked first, so nothing of a citizen outside it is read."""
    try:
        citizen = Citizen(pk=uuid.UUID(str(pk)))
    except ValueError as exc:
        raise Http404 from exc
    reason = access_reason(actor, citizen)
    document = citizen_documents([citizen.pk], {citizen.pk: reason[0]}).get(citizen.pk) if reason else None
    if reason is None or document is None:
        raise Http404
    access_log_record(
        actor=actor, citizens=citizen, action=action, detail=detail, reason=reason[0], reason_text=reason[1]
    )
    return document


def citizen_documents_for_cpr(
    *, actor: Actor, cpr: str, action: str = AccessAction.API_READ, detail: str = "api citizen list"
) -> list[dict[str, Any]]:
    """An exact-CPR (or replacement number) search as the API answers it: the citizen's document,
    or nothing when the number is unknown or outside the gate (indistinguishable). Logged; nothing is counted."""
    reasons = _exact_reasons(actor, cpr)
    documents = list(citizen_documents(reasons, reasons).values())
    if documents:
        shown = [Citizen(pk=uuid.UUID(document["id"])) for document in documents]
        access_log_record(actor=actor, citizens=shown, action=action, detail=detail, reasons=reasons)
    return documents


def citizen_is_visible(*, actor: Actor, citizen: Citizen) -> bool:
    """Whether the actor may (still) see the citizen; reads nothing of the citizen's data."""
    return access_reason(actor, citizen) is not None


def citizen_access_report(
    *,
    actor: Actor,
    citizen_pk: Any,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> tuple[Citizen, QuerySet[AccessLogEntry]]:
    """ "Who has seen my data": every access to one citizen in a period. Viewing it is logged."""
    citizen = citizen_get(actor=actor, pk=citizen_pk, action=AccessAction.ACCESS_REPORT, detail="access report")
    # The entries of registrations merged into this one stay theirs (the log is append-only).
    entries = AccessLogEntry.objects.filter(Q(citizen=citizen) | Q(citizen__merged_into=citizen))
    if since:
        entries = entries.filter(at__date__gte=since)
    if until:
        entries = entries.filter(at__date__lte=until)
    return citizen, entries.order_by("-at", "-pk")


def review_organisations(*, actor: Actor) -> QuerySet[Organisation]:
    """The organisations whose accesses the actor reviews, for the review list's filter."""
    return reviewed_organisations(actor).order_by("name", "pk")


def _review_rows(qs: QuerySet, *, reviewed: bool | None, organisation_id: int | None) -> QuerySet:
    if reviewed is not None:
        qs = qs.filter(reviewed_at__isnull=not reviewed)
    if organisation_id is not None:
        qs = qs.filter(organisation_id=organisation_id)
    return qs


def break_glass_for_review(
    *,
    actor: Actor,
    include_reviewed: bool = False,
    only_reviewed: bool = False,
    organisation_id: int | None = None,
) -> QuerySet[BreakGlassAccess]:
    """Break-the-glass accesses by the staff of the organisations the actor reviews (its own; for
    a region's administrators every organisation of the region)."""
    qs = BreakGlassAccess.objects.filter(organisation__in=reviewed_organisations(actor)).select_related(
        "user", "citizen", "reviewed_by", "organisation"
    )
    reviewed = True if only_reviewed else (None if include_reviewed else False)
    return _review_rows(qs, reviewed=reviewed, organisation_id=organisation_id).order_by("-started_at")


BREAK_THE_GLASS = "break_the_glass"


def review_items_for(
    *,
    actor: Actor,
    include_reviewed: bool = False,
    only_reviewed: bool = False,
    organisation_id: int | None = None,
) -> QuerySet[AccessReviewItem]:
    """Admissions without an earlier relationship and deaths, for the administrators of the
    department that recorded them and of its region."""
    if not actor.acting or not actor.acting.is_organisation_admin:
        return AccessReviewItem.objects.none()
    qs = AccessReviewItem.objects.filter(
        Q(organisation__in=reviewed_organisations(actor)) | Q(region_id=actor.acting_organisation.pk)
    ).select_related("user", "citizen", "reviewed_by", "organisation")
    reviewed = True if only_reviewed else (None if include_reviewed else False)
    return _review_rows(qs, reviewed=reviewed, organisation_id=organisation_id).order_by("-at", "-pk")


def access_review_page(*, actor: Actor, page_number: Any = 1, page_size: int = 25, **filters: Any):
    """One page of the review list: break-the-glass accesses and the review items, newest
    first. Paginated on (kind, id, time) rows; only the page's rows are fetched whole.
    ``filters``: those of ``break_glass_for_review``."""
    grants = break_glass_for_review(actor=actor, **filters)
    items = review_items_for(actor=actor, **filters)
    rows = (
        grants.annotate(source=Value(BREAK_THE_GLASS, output_field=CharField()), when=F("started_at"))
        .values_list("source", "pk", "when")
        .order_by()
        .union(items.annotate(source=F("kind"), when=F("at")).values_list("source", "pk", "when").order_by())
        .order_by("-when", "-pk")
    )
    page = Paginator(rows, page_size).get_page(page_number)
    keys = list(page.object_list)
    found = {
        **{(BREAK_THE_GLASS, g.pk): g for g in grants.filter(pk__in=[pk for s, pk, _ in keys if s == BREAK_THE_GLASS])},
        **{(i.kind, i.pk): i for i in items.filter(pk__in=[pk for s, pk, _ in keys if s != BREAK_THE_GLASS])},
    }
    shown = [found[(source, pk)] for source, pk, _when in keys if (source, pk) in found]
    for row in shown:
        row.is_break_glass = isinstance(row, BreakGlassAccess)  # type: ignore[attr-defined]  # for the page
    page.object_list = shown  # type: ignore[assignment]  # the page of keys becomes a page of the rows they name
    return page


def conditions_list() -> QuerySet[Condition]:
    return Condition.objects.filter(is_active=True).order_by("icd10_code")


def consent_events_list(*, citizen: Citizen) -> QuerySet[ConsentEvent]:
    """The consent and objection history of a citizen the caller got through ``citizen_get``
    (which checked and logged the access)."""
    return citizen.consent_events.select_related("by", "organisation").order_by("-at", "-pk")


def break_glass_current(*, actor: Actor, citizen: Citizen) -> BreakGlassAccess | None:
    """The actor's running break-the-glass access to this citizen, for the warning banner."""
    if not actor.acting:
        return None
    return (
        BreakGlassAccess.objects.filter(
            citizen=citizen, user=actor.user, organisation=actor.organisation, expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .first()
    )
