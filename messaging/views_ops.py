"""The hospital-events page (a department records admissions, leave, discharges and deaths, and
corrects or cancels them), the operations page (an organisation administrator follows and
retries deliveries) and the notification settings. Each view parses input, calls a selector or
a service and renders: the access policy and the access log live in ``selectors`` and
``services``, never here."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from citizens.access import Actor, actor_from_request
from smartcare.forms import apply_service_errors
from smartcare.pagination import CappedPaginator

from . import hospital_rules, selectors, services
from .followup import hospital_followups_attach
from .forms_ops import (
    PREFERENCE_TYPES,
    DeliveryFilterForm,
    EmailPreferencesForm,
    HospitalEventCorrectForm,
    HospitalEventForm,
)
from .integrations import integration_traffic, may_see_all

EVENTS_PAGE_SIZE = 25
DELIVERIES_PAGE_SIZE = 25

# A service names the stay's fields; the page has one time field and one citizen field.
FIELD_ALIASES = {
    "admitted_at": "occurred_at",
    "discharged_at": "occurred_at",
    "citizen": "cpr",
    "department": None,
}


def _apply_errors(exc: ValidationError, form) -> None:
    apply_service_errors(exc, form, aliases=FIELD_ALIASES)


def _query_without_page(request) -> str:
    return urlencode([(key, value) for key, value in request.GET.items() if key != "page"])


# --- hospital events --------------------------------------------------------------------------


def _require_department(actor: Actor) -> None:
    if not selectors.is_hospital_department(actor):
        raise PermissionDenied(_("Only hospital departments record hospital events."))


def _event_or_404(actor: Actor, pk: int):
    event = selectors.hospital_events(actor=actor).filter(pk=pk).first()
    if event is None:
        raise Http404
    return event


def _may_record_or_403(request, actor: Actor):
    """None when the actor may record events, else the page with the reason (403)."""
    try:
        hospital_rules.require_hospital_recorder(actor)
    except PermissionDenied as exc:
        return _render_events(request, actor, status=403, denied=str(exc))
    return None


def _render_events(request, actor: Actor, *, form=None, failed=None, status: int = 200, denied: str = ""):
    """The form and the department's events; ``failed`` is (event pk, correction form with
    errors) or (event pk, error text) for a cancellation that was refused."""
    page = CappedPaginator(selectors.hospital_events(actor=actor), EVENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    events = list(page.object_list)
    page.object_list = events
    hospital_followups_attach(event.message for event in events)
    for event in events:
        event.revisable = not event.superseded
        if failed and failed[0] == event.pk and isinstance(failed[1], HospitalEventCorrectForm):
            event.correct_form = failed[1]
        else:
            event.correct_form = HospitalEventCorrectForm(
                auto_id=f"id_%s_{event.pk}", initial={"occurred_at": event.occurred_at}
            )
        event.error = failed[1] if failed and failed[0] == event.pk and isinstance(failed[1], str) else ""
    selectors.log_listed(actor=actor, citizens=[event.citizen for event in events], detail="hospital events")
    context = {
        "form": form or HospitalEventForm(),
        "page": page,
        "events": events,
        "query": _query_without_page(request),
        "may_record": selectors.may_record_hospital_events(actor),
        "denied": denied,
    }
    if failed and not any(event.pk == failed[0] for event in events):  # not on this page: show on top
        error = (
            failed[1]
            if isinstance(failed[1], str)
            else " ".join(str(e) for es in failed[1].errors.values() for e in es)
        )
        context["error"] = error
    return render(request, "messaging/ops/hospital_events.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def hospital_events(request):
    actor = actor_from_request(request)
    _require_department(actor)
    if request.method == "GET":
        return _render_events(request, actor)
    if denied := _may_record_or_403(request, actor):
        return denied
    form = HospitalEventForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            citizen = selectors.hospital_patient_get(actor=actor, cpr=data["cpr"])
            event = services.hospital_event_record(
                actor=actor, citizen=citizen, code=data["code"], occurred_at=data["occurred_at"]
            )
        except ValidationError as exc:
            _apply_errors(exc, form)
        else:
            messages.success(
                request,
                _("Recorded %(code)s (%(label)s) at %(time)s. The citizen's municipality is notified.")
                % {
                    "code": event.code,
                    "label": event.label,
                    "time": timezone.localtime(event.occurred_at).strftime("%d-%m-%Y %H:%M"),
                },
            )
            return redirect("messaging_ops:hospital_events")
    return _render_events(request, actor, form=form, status=400)


@login_required
@require_POST
def hospital_event_correct(request, pk: int):
    actor = actor_from_request(request)
    _require_department(actor)
    if denied := _may_record_or_403(request, actor):
        return denied
    event = _event_or_404(actor, pk)
    form = HospitalEventCorrectForm(request.POST, auto_id=f"id_%s_{event.pk}")
    if form.is_valid():
        try:
            revised = services.hospital_event_correct(
                actor=actor, event=event, occurred_at=form.cleaned_data["occurred_at"]
            )
        except ValidationError as exc:
            _apply_errors(exc, form)
        else:
            messages.success(
                request,
                _("Corrected: %(code)s now at %(time)s. The citizen's municipality is notified.")
                % {
                    "code": revised.message.hospital_code_label,
                    "time": timezone.localtime(revised.occurred_at).strftime("%d-%m-%Y %H:%M"),
                },
            )
            return redirect("messaging_ops:hospital_events")
    return _render_events(request, actor, failed=(event.pk, form), status=400)


@login_required
@require_POST
def hospital_event_cancel(request, pk: int):
    actor = actor_from_request(request)
    _require_department(actor)
    if denied := _may_record_or_403(request, actor):
        return denied
    event = _event_or_404(actor, pk)
    try:
        revised = services.hospital_event_cancel(actor=actor, event=event)
    except ValidationError as exc:
        return _render_events(request, actor, failed=(event.pk, " ".join(exc.messages)), status=400)
    messages.success(
        request,
        _("Cancelled: %(code)s. The citizen's municipality is notified.")
        % {"code": revised.message.hospital_code_label},
    )
    return redirect("messaging_ops:hospital_events")


# --- operations ----------------------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if not (actor.user.is_superuser or (actor.acting and actor.acting.is_organisation_admin)):
        raise PermissionDenied(_("Only your organisation's administrators follow deliveries."))


def _render_operations(request, actor: Actor, *, error: str = "", status: int = 200):
    filters = DeliveryFilterForm(request.GET)
    failed_only = filters.failed_only
    rows = selectors.deliveries(actor=actor, failed_only=failed_only)
    if not filters.is_valid():  # the form says what is wrong; nothing is listed
        rows = rows.none()
    page = CappedPaginator(rows, DELIVERIES_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    context = {
        "filters": filters,
        "failed_only": failed_only,
        "page": page,
        "deliveries": page.object_list,
        "query": _query_without_page(request),
        "full_query": request.GET.urlencode(),
        "webhook": selectors.webhook_endpoint(actor=actor),
        "error": error,
    }
    return render(request, "messaging/ops/operations.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def operations(request):
    actor = actor_from_request(request)
    _require_admin(actor)
    return _render_operations(request, actor)


@login_required
@require_POST
def delivery_retry(request, pk: int):
    actor = actor_from_request(request)
    _require_admin(actor)
    delivery = selectors.deliveries(actor=actor).filter(pk=pk).first()
    if delivery is None:
        raise Http404
    try:
        services.delivery_retry(actor=actor, delivery=delivery)
    except ValidationError as exc:
        return _render_operations(request, actor, error=" ".join(exc.messages), status=400)
    messages.success(request, _("The delivery is sent again."))
    query = request.GET.urlencode()
    return redirect(reverse("messaging_ops:operations") + (f"?{query}" if query else ""))


@login_required
@require_http_methods(["GET"])
def integrations(request):
    """Gateways and integrations with their traffic and last errors (administrators)."""
    actor = actor_from_request(request)
    rows = integration_traffic(actor=actor)
    return render(request, "messaging/ops/integrations.html", {"rows": rows, "sees_all": may_see_all(actor)})


# --- notification settings ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    user = request.user
    if request.method == "GET":
        form = EmailPreferencesForm(initial=selectors.email_preferences(user=user))
        return render(request, "messaging/ops/preferences.html", {"form": form})
    form = EmailPreferencesForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                for message_type in PREFERENCE_TYPES:
                    services.email_preference_set(
                        user=user, message_type=message_type, mode=form.cleaned_data[message_type]
                    )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("messaging_ops:preferences")
    return render(request, "messaging/ops/preferences.html", {"form": form}, status=400)
