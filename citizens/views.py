"""The citizen pages. Each view parses input, calls one selector or service and renders: the
access policy and the access log live in ``selectors`` and ``services``, never here."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from sectors.choices import OrganisationKind
from smartcare.forms import apply_service_errors
from smartcare.pagination import CappedPaginator

from . import accessreport, permissions, selectors, services
from .access import Actor, actor_from_request
from .choices import AccessReason, ReviewConclusion
from .cpr import exact_cpr, normalise_cpr
from .filtersets import CitizenFilterSet
from .forms import (
    AccessReportFilterForm,
    BreakGlassForm,
    BreakGlassReviewForm,
    CitizenForm,
    ConditionFormSetFactory,
    ConsentForm,
    ContactFormSetFactory,
    ObjectionForm,
    ObjectionWithdrawForm,
    ReviewFilterForm,
)
from .models import BreakGlassAccess, Citizen
from .overview import overview_sections

LIST_PAGE_SIZE = 25
REVIEW_PAGE_SIZE = 25
ACCESS_REPORT_PAGE_SIZE = 50  # groups: one organisation's accesses on one day
ACCESS_REPORT_GROUP_ENTRIES = 100  # entries shown per group; the CSV has them all
REASON_LABELS = dict(AccessReason.choices)
CONCLUSION_LABELS = dict(ReviewConclusion.choices)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _apply_errors(exc: ValidationError, form, **formsets) -> None:
    apply_service_errors(exc, form, formsets=formsets)


# --- lists and search --------------------------------------------------------------------------


def _open_citizen(request, citizen: Citizen):
    """A whole CPR number that finds one citizen opens the overview; an htmx search asks the
    browser to go there (a full page, not a swap into the results)."""
    url = reverse("citizens:detail", args=[citizen.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_GET
def citizen_list(request):
    actor = actor_from_request(request)
    filterset = CitizenFilterSet(request.GET or None, queryset=Citizen.objects.none())
    if selectors.exact_search(request.GET.get("search", "")):
        hit = selectors.citizen_exact_hit(actor=actor, filters=request.GET)
        if hit is not None:
            return _open_citizen(request, hit)
        page = CappedPaginator([], LIST_PAGE_SIZE).get_page(1)  # nothing found, and nothing to count
    else:
        page = selectors.citizen_page(
            actor=actor, filters=request.GET, page_number=request.GET.get("page"), page_size=LIST_PAGE_SIZE
        )
    context = {
        "filterset": filterset,
        "page": page,
        "query": _query_without_page(request),
        "may_register": permissions.may_register_citizens(actor),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "citizens/_citizen_results.html" if partial else "citizens/citizen_list.html"
    return render(request, template, context)


@login_required
@require_GET
def citizen_search(request):
    actor = actor_from_request(request)
    query = (request.GET.get("q") or "").strip()[:100]
    hits = selectors.citizen_search(actor=actor, query=query)
    if selectors.exact_search(query) and len(hits) == 1:
        return _open_citizen(request, hits[0])
    context = {
        "query": query,
        "hits": hits,
        "may_break_the_glass": permissions.may_break_the_glass(actor),
        # Only a whole CPR number is carried over to the break-the-glass form.
        "break_glass_cpr": exact_cpr(query),
    }
    return render(request, "citizens/citizen_search.html", context)


# --- the overview ------------------------------------------------------------------------------


@login_required
@require_GET
def citizen_detail(request, pk):
    actor = actor_from_request(request)
    citizen = selectors.citizen_get(actor=actor, pk=pk, with_identifiers=True)
    grant = None
    if citizen.access_via == AccessReason.BREAK_THE_GLASS:
        grant = selectors.break_glass_current(actor=actor, citizen=citizen)
    # The sections the apps above register (care plans and measurements, messages; see ``overview``).
    section_templates, section_context = overview_sections(actor=actor, citizen=citizen)
    context = {
        "citizen": citizen,
        "access_label": REASON_LABELS.get(citizen.access_via, citizen.access_via),
        "active_objections": [objection for objection in citizen.objections.all() if objection.is_active],
        "break_glass": grant,
        "is_break_glass": citizen.access_via == AccessReason.BREAK_THE_GLASS,
        "may_register": permissions.may_register_citizens(actor),
        "overview_sections": section_templates,
        **section_context,
    }
    return render(request, "citizens/citizen_detail.html", context)


# --- registration and edit ---------------------------------------------------------------------


def _require_registering(actor: Actor) -> None:
    permissions.require_register_citizens(actor)


def _own_relationships(actor: Actor) -> dict:
    """Pre-fill the acting organisation where it is the citizen's clinic or municipality."""
    organisation = actor.organisation
    if organisation.kind == OrganisationKind.GP_CLINIC:
        return {"gp_clinic": organisation, "municipality": organisation.municipality_id}
    if organisation.kind == OrganisationKind.MUNICIPALITY:
        return {"municipality": organisation}
    return {}


def _render_citizen_form(request, *, form, conditions, contacts, citizen=None, status=200, existing=None):
    """``existing``: the id of the already registered citizen the user may open."""
    context = {"form": form, "conditions": conditions, "contacts": contacts, "citizen": citizen, "existing": existing}
    return render(request, "citizens/citizen_form.html", context, status=status)


def _lists_checked(form, conditions, contacts, *, birth_date) -> bool:
    """Whether the condition and contact rows parsed. While another field of the form is wrong,
    the service's checks of the lists run too, so every error shows in the same answer."""
    if not (conditions.is_valid() and contacts.is_valid()):
        return False
    if not form.is_valid():
        try:
            services.citizen_items_check(
                birth_date=birth_date, conditions=conditions.items(), contact_persons=contacts.items()
            )
        except ValidationError as exc:
            _apply_errors(exc, form, conditions=conditions, contact_persons=contacts)
    return True


@login_required
@require_http_methods(["GET", "POST"])
def citizen_create(request):
    actor = actor_from_request(request)
    _require_registering(actor)
    if request.method == "GET":
        return _render_citizen_form(
            request,
            form=CitizenForm(initial=_own_relationships(actor)),
            conditions=ConditionFormSetFactory(prefix="conditions"),
            contacts=ContactFormSetFactory(prefix="contacts"),
        )
    form = CitizenForm(request.POST)
    conditions = ConditionFormSetFactory(request.POST, prefix="conditions")
    contacts = ContactFormSetFactory(request.POST, prefix="contacts")
    existing = None
    form_valid = form.is_valid()  # also when not: the lists are checked against a valid CPR's birth date
    if _lists_checked(form, conditions, contacts, birth_date=form.birth_date()) and form_valid:
        try:
            citizen = services.citizen_create(
                actor=actor, conditions=conditions.items(), contact_persons=contacts.items(), **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(exc, form, conditions=conditions, contact_persons=contacts)
            existing = getattr(exc, "citizen_pk", None)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": citizen.full_name})
            return redirect("citizens:detail", pk=citizen.pk)
    return _render_citizen_form(
        request, form=form, conditions=conditions, contacts=contacts, status=400, existing=existing
    )


@login_required
@require_http_methods(["GET", "POST"])
def citizen_edit(request, pk):
    actor = actor_from_request(request)
    _require_registering(actor)
    citizen = selectors.citizen_get(actor=actor, pk=pk, detail="edit form")
    if request.method == "GET":
        return _render_citizen_form(
            request,
            citizen=citizen,
            form=CitizenForm(initial=CitizenForm.initial_for(citizen), with_cpr=False),
            conditions=ConditionFormSetFactory(
                prefix="conditions", initial=ConditionFormSetFactory.initial_for(citizen)
            ),
            contacts=ContactFormSetFactory(prefix="contacts", initial=ContactFormSetFactory.initial_for(citizen)),
        )
    form = CitizenForm(request.POST, with_cpr=False)
    conditions = ConditionFormSetFactory(request.POST, prefix="conditions")
    contacts = ContactFormSetFactory(request.POST, prefix="contacts")
    if _lists_checked(form, conditions, contacts, birth_date=citizen.birth_date) and form.is_valid():
        try:
            services.citizen_update(
                actor=actor,
                citizen=citizen,
                conditions=conditions.items(),
                contact_persons=contacts.items(),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _apply_errors(exc, form, conditions=conditions, contact_persons=contacts)
        else:
            if not selectors.citizen_is_visible(actor=actor, citizen=citizen):
                # e.g. the citizen moved to another GP clinic: saved, and out of our hands now.
                messages.info(
                    request,
                    _("The changes are saved. %(name)s is no longer in your organisation's care.")
                    % {"name": citizen.full_name},
                )
                return redirect("citizens:list")
            messages.success(request, _("The changes are saved."))
            return redirect("citizens:detail", pk=citizen.pk)
    return _render_citizen_form(
        request, citizen=citizen, form=form, conditions=conditions, contacts=contacts, status=400
    )


# --- consent and objections --------------------------------------------------------------------


def _render_consent(request, citizen, *, consent_form=None, objection_form=None, withdraw_error=None, status=200):
    context = {
        "citizen": citizen,
        "consent_form": consent_form or ConsentForm(),
        "objection_form": objection_form or ObjectionForm(),
        "withdraw_error": withdraw_error,
        "events": selectors.consent_events_list(citizen=citizen),
    }
    return render(request, "citizens/citizen_consent.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def citizen_consent(request, pk):
    actor = actor_from_request(request)
    citizen = selectors.citizen_get(actor=actor, pk=pk, detail="consent and objections")
    if request.method == "GET":
        return _render_consent(request, citizen)
    if request.POST.get("action") == "objection":
        form = ObjectionForm(request.POST)
        if form.is_valid():
            try:
                services.objection_record(
                    actor=actor,
                    citizen=citizen,
                    target=form.cleaned_data["target"],
                    sector=form.cleaned_data["sector"],
                    organisation=form.cleaned_data["organisation"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                _apply_errors(exc, form)
            else:
                messages.success(request, _("The objection is recorded."))
                return redirect("citizens:consent", pk=citizen.pk)
        return _render_consent(request, citizen, objection_form=form, status=400)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_record(
                actor=actor, citizen=citizen, consent=form.cleaned_data["consent"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            _apply_errors(exc, form)
        else:
            messages.success(request, _("The consent is recorded."))
            return redirect("citizens:consent", pk=citizen.pk)
    return _render_consent(request, citizen, consent_form=form, status=400)


@login_required
@require_POST
def objection_withdraw(request, pk, objection_pk: int):
    actor = actor_from_request(request)
    citizen = selectors.citizen_get(actor=actor, pk=pk, detail="withdraw objection")
    objection = next((o for o in citizen.objections.all() if o.pk == objection_pk), None)
    if objection is None:
        raise Http404
    form = ObjectionWithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.objection_withdraw(actor=actor, objection=objection, note=form.cleaned_data["note"])
        except ValidationError as exc:
            return _render_consent(request, citizen, withdraw_error=" ".join(exc.messages), status=400)
        messages.success(request, _("The objection is withdrawn."))
        return redirect("citizens:consent", pk=citizen.pk)
    return _render_consent(request, citizen, withdraw_error=" ".join(form.errors["note"]), status=400)


# --- break the glass ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def break_glass(request):
    actor = actor_from_request(request)
    permissions.require_break_the_glass(actor)
    context = {"hours": services.break_the_glass_hours()}
    if request.method == "GET":
        cpr = normalise_cpr(request.GET.get("cpr", ""))[:10]
        context["form"] = BreakGlassForm(initial={"cpr": cpr} if cpr else None)
        return render(request, "citizens/break_glass.html", context)
    form = BreakGlassForm(request.POST)
    if form.is_valid():
        try:
            citizen = services.break_glass_open(
                actor=actor, cpr=form.cleaned_data["cpr"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _apply_errors(exc, form)
        else:
            messages.warning(
                request,
                _("You have broken the glass. Your access to %(name)s is logged and will be reviewed.")
                % {"name": citizen.full_name},
            )
            return redirect("citizens:detail", pk=citizen.pk)
    context["form"] = form
    return render(request, "citizens/break_glass.html", context, status=400)


def _require_admin(actor: Actor) -> None:
    if not actor.acting or not actor.acting.is_organisation_admin:
        raise PermissionDenied(_("Only your organisation's administrators review break-the-glass accesses."))


def _render_review(request, actor: Actor, *, failed=None, status=200):
    """``failed``: (is break-the-glass, pk, review form with errors)."""
    organisations = selectors.review_organisations(actor=actor)
    filter_form = ReviewFilterForm(request.GET, organisations=organisations)
    filters = filter_form.filters()
    if filters is None:
        page, status = Paginator([], REVIEW_PAGE_SIZE).get_page(1), 400
    else:
        page = selectors.access_review_page(
            actor=actor, page_number=request.GET.get("page"), page_size=REVIEW_PAGE_SIZE, **filters
        )
    for row in page:
        prefix = "" if row.is_break_glass else "item_"
        if failed and failed[:2] == (row.is_break_glass, row.pk):
            row.review_form = failed[2]
        else:
            row.review_form = BreakGlassReviewForm(auto_id=f"id_%s_{prefix}{row.pk}")
        row.conclusion_label = CONCLUSION_LABELS.get(row.conclusion, "")
    context = {
        "page": page,
        "filter_form": filter_form,
        "several_organisations": len(filter_form.fields["organisation"].choices) > 2,
        "query": _query_without_page(request),
    }
    return render(request, "citizens/break_glass_review.html", context, status=status)


@login_required
@require_GET
def break_glass_review(request):
    actor = actor_from_request(request)
    _require_admin(actor)
    return _render_review(request, actor)


@login_required
@require_POST
def break_glass_review_done(request, pk: int):
    actor = actor_from_request(request)
    _require_admin(actor)
    grant = selectors.break_glass_for_review(actor=actor, include_reviewed=True).filter(pk=pk).first()
    if grant is None:
        raise Http404
    return _mark_reviewed(
        request, actor, grant, lambda **review: services.break_glass_review(actor=actor, grant=grant, **review)
    )


def _mark_reviewed(request, actor: Actor, row, review):
    """The review form of one row of the list: ``review(conclusion=, note=)`` is the service call."""
    is_break_glass = isinstance(row, BreakGlassAccess)
    form = BreakGlassReviewForm(request.POST, auto_id=f"id_%s_{'' if is_break_glass else 'item_'}{row.pk}")
    if form.is_valid():
        try:
            review(conclusion=form.cleaned_data["conclusion"], note=form.cleaned_data["note"])
        except ValidationError as exc:
            _apply_errors(exc, form)
        else:
            messages.success(request, _("The access is marked as reviewed."))
            return redirect("citizens:break_glass_review")
    return _render_review(request, actor, failed=(is_break_glass, row.pk, form), status=400)


@login_required
@require_POST
def access_review_done(request, pk: int):
    """An admission without an earlier relationship, or a death, reviewed like break-the-glass."""
    actor = actor_from_request(request)
    _require_admin(actor)
    item = selectors.review_items_for(actor=actor, include_reviewed=True).filter(pk=pk).first()
    if item is None:
        raise Http404
    return _mark_reviewed(
        request, actor, item, lambda **review: services.access_review_done(actor=actor, item=item, **review)
    )


# --- who has seen the data ---------------------------------------------------------------------


def _report_period(request) -> tuple[AccessReportFilterForm, dict]:
    form = AccessReportFilterForm(request.GET)
    if form.is_valid():
        return form, {"since": form.cleaned_data["since"], "until": form.cleaned_data["until"]}
    return form, {}


@login_required
@require_GET
def access_report(request, pk):
    actor = actor_from_request(request)
    form, period = _report_period(request)
    citizen, entries = selectors.citizen_access_report(actor=actor, citizen_pk=pk, **period)
    context = {"citizen": citizen, "form": form, "page": None, "query": _query_without_page(request)}
    if form.is_valid():
        page = Paginator(accessreport.access_report_groups(entries), ACCESS_REPORT_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        groups = accessreport.access_report_group_entries(
            entries, list(page.object_list), per_group=ACCESS_REPORT_GROUP_ENTRIES
        )
        context.update(page=page, groups=groups, total=entries.count())
    status = 200 if context["page"] is not None else 400
    return render(request, "citizens/access_report.html", context, status=status)


class _Echo:
    def write(self, value):
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value) -> str:
    """Text typed by users (names, stated reasons) must not run as a spreadsheet formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_rows(entries) -> Iterator[list[str]]:
    yield [
        _("Time"),
        _("User"),
        _("Organisation"),
        _("Role"),
        _("Action"),
        _("What"),
        _("Why"),
        _("Stated reason"),
        _("Logged as"),
    ]
    for entry in entries.iterator(chunk_size=2000):
        accessreport.label_entry(entry)
        yield [
            timezone.localtime(entry.at).isoformat(timespec="seconds"),
            _csv_safe(entry.user_name),
            _csv_safe(entry.organisation_name),
            entry.role_label,
            entry.get_action_display(),
            _csv_safe(entry.detail_label),
            entry.get_reason_display() if entry.reason else "",
            _csv_safe(entry.reason_text),
            _csv_safe(entry.detail),
        ]


@login_required
@require_GET
def access_report_csv(request, pk):
    actor = actor_from_request(request)
    form, period = _report_period(request)
    if not form.is_valid():
        # Answered before the citizen is looked up: the same for every citizen, so it reveals nothing.
        errors = " ".join(message for messages_ in form.errors.values() for message in messages_)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    citizen, entries = selectors.citizen_access_report(actor=actor, citizen_pk=pk, **period)
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in _csv_rows(entries))
    response = StreamingHttpResponse(_with_bom(rows), content_type="text/csv; charset=utf-8")
    # Named by the birth date (never the CPR number); a person without a known one by the download's date.
    filename = f"access-log-{citizen.birth_date or timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _with_bom(rows: Iterator[str]) -> Iterator[str]:
    """A byte-order mark, so spreadsheet programs read the Danish letters as UTF-8."""
    yield "\ufeff"
    yield from rows
