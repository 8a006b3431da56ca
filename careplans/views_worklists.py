"""The work lists: home care's "Today", hand-off requests, alerts, recording a measurement and a
citizen's thresholds. Each view parses input, calls a selector or a service and renders; the
access policy and the access log live in the selectors and services, never here."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citizens import permissions
from citizens import selectors as citizen_selectors
from citizens.access import Actor, actor_from_request
from smartcare.forms import apply_service_errors
from smartcare.pagination import CappedPaginator

from . import monitoring, selectors, services
from .choices import AlertSeverity, HandoffStatus, ObservationCode, ThresholdCode
from .forms_worklists import (
    ActivityDoneForm,
    AlertAckForm,
    HandoffAcceptForm,
    HandoffRejectForm,
    MeasurementForm,
    ScheduleForm,
    ThresholdForm,
)
from .measurements import COMPONENT_BY_CODE, MEASUREMENTS
from .monitoring_entry import measurement_entry_record
from .today import today_visits

CODE_LABELS = dict(ObservationCode.choices)


def _safe_next(request) -> str:
    """Where to go after a form: only a path on this site (never an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


def _keep_query(request, *names: str) -> str:
    return urlencode({name: request.GET[name] for name in names if request.GET.get(name)})


# --- Today ---------------------------------------------------------------------------------------


def _render_today(request, actor: Actor, *, failed: tuple[int, ActivityDoneForm] | None = None, status: int = 200):
    listing = today_visits(actor=actor, page=request.GET.get("page"))
    activities = listing.activities
    for activity in activities:
        if failed and failed[0] == activity.pk:
            activity.done_form = failed[1]
        else:
            activity.done_form = ActivityDoneForm(auto_id=f"id_%s_{activity.pk}")
    context = {
        "day": listing.day,
        "visits": listing.page.object_list,
        "visit_count": len(listing.visits),
        "page": listing.page,
        "paused_visits": listing.paused_shown,
        "paused_count": len(listing.paused),
        "count": listing.count,
        "overdue_count": listing.overdue_count,
        "more": listing.more,
        "limit": selectors.TODAY_LIMIT,
    }
    if failed and not any(a.pk == failed[0] for a in activities):  # not on the list: show the error on top
        context["error"] = " ".join(message for messages_ in failed[1].errors.values() for message in messages_)
    return render(request, "careplans/worklists/today.html", context, status=status)


@login_required
@require_GET
def today(request):
    return _render_today(request, actor_from_request(request))


@login_required
@require_POST
def activity_done(request, pk: int):
    actor = actor_from_request(request)
    activity = selectors.activity_get(actor=actor, pk=pk)
    form = ActivityDoneForm(request.POST, auto_id=f"id_%s_{activity.pk}")
    if form.is_valid():
        try:
            activity = services.activity_mark_done(actor=actor, activity=activity, note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            if request.htmx:
                return render(request, "careplans/worklists/_today_activity.html", {"activity": activity, "done": True})
            if activity.next_due_on:
                text = _("Done: %(activity)s. Next time: %(date)s.") % {
                    "activity": activity,
                    "date": formats.date_format(activity.next_due_on, "SHORT_DATE_FORMAT"),
                }
            else:
                text = _("Done: %(activity)s.") % {"activity": activity}
            messages.success(request, text)
            return redirect("careplans:today")
    if request.htmx:
        activity.done_form = form
        activity.overdue_days = (timezone.localdate() - activity.next_due_on).days if activity.next_due_on else 0
        return render(request, "careplans/worklists/_today_activity.html", {"activity": activity}, status=400)
    return _render_today(request, actor, failed=(activity.pk, form), status=400)


# --- recording a measurement ---------------------------------------------------------------------


def _limits_by_component(measurement, thresholds) -> list[tuple[str, object]]:
    return [(component.label, thresholds.get(component.code)) for component in measurement.components]


def _render_measurement(request, actor: Actor, citizen, *, measurement=None, form=None, status: int = 200):
    latest = {obs.code: obs for obs in selectors.latest_observations(citizen=citizen)}
    context = {
        "citizen": citizen,
        "measurement": measurement,
        "form": form,
        "next": _safe_next(request),
        "open_alerts": selectors.alerts_worklist(actor=actor, citizen=citizen),
        "decimal_separator": formats.get_format("DECIMAL_SEPARATOR"),
        "choices": [(m, latest.get(m.code)) for m in MEASUREMENTS.values()],
    }
    if measurement is not None:
        context["latest"] = latest.get(measurement.code)
        context["limits"] = _limits_by_component(measurement, selectors.current_thresholds(citizen=citizen))
    return render(request, "careplans/worklists/measurement_form.html", context, status=status)


def _outcome_message(request, observation) -> None:
    alerts = list(observation.alerts.select_related("organisation").order_by("organisation__name"))
    measurement = MEASUREMENTS[observation.code]
    recorded = _("%(measurement)s %(value)s recorded.") % {
        "measurement": measurement.label,
        "value": observation.display_value,
    }
    if not alerts:
        messages.success(request, recorded)
        return
    text = _("%(recorded)s Outside the limits — alert raised for %(organisations)s.") % {
        "recorded": recorded,
        "organisations": ", ".join(alert.organisation.name for alert in alerts),
    }
    if any(alert.severity == AlertSeverity.RED for alert in alerts):
        messages.error(request, text)
    else:
        messages.warning(request, text)


@login_required
@require_http_methods(["GET", "POST"])
def measurement_new(request, citizen_pk):
    actor = actor_from_request(request)
    citizen = citizen_selectors.citizen_get(actor=actor, pk=citizen_pk, detail="record measurement")
    code = request.POST.get("code") if request.method == "POST" else request.GET.get("code")
    measurement = MEASUREMENTS.get(code or "")
    if measurement is None:
        if request.method == "POST":
            messages.error(request, _("Choose what you measured."))
            return _render_measurement(request, actor, citizen, status=400)
        return _render_measurement(request, actor, citizen)
    if request.method == "GET":
        return _render_measurement(
            request, actor, citizen, measurement=measurement, form=MeasurementForm(measurement=measurement)
        )
    form = MeasurementForm(request.POST, measurement=measurement)
    if form.is_valid():
        try:
            observations = measurement_entry_record(
                actor=actor, citizen=citizen, reading=form.reading(), pulse=form.cleaned_data.get("pulse")
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            for observation in observations:
                _outcome_message(request, observation)
            return redirect(_safe_next(request) or reverse("careplans:measurement_new", args=[citizen.pk]))
    return _render_measurement(request, actor, citizen, measurement=measurement, form=form, status=400)


# --- hand-offs -----------------------------------------------------------------------------------


def _is_overdue(handoff, cutoff: datetime.datetime) -> bool:
    return handoff.status == HandoffStatus.REQUESTED and handoff.requested_at < cutoff


def _render_handoffs(request, actor: Actor, *, tab: str = "incoming", failed=None, status: int = 200):
    cutoff = timezone.now() - services.handoff_overdue_after()
    rows = selectors.handoffs_sent(actor=actor) if tab == "sent" else selectors.handoffs_incoming(actor=actor)
    for handoff in rows:
        handoff.is_overdue = _is_overdue(handoff, cutoff)
        auto_id = f"id_%s_{handoff.pk}"
        handoff.accept_form = HandoffAcceptForm(auto_id=auto_id)
        handoff.reject_form = HandoffRejectForm(auto_id=auto_id)
        if failed and failed[0] == handoff.pk:
            setattr(handoff, failed[1], failed[2])
            handoff.failed = failed[1]
    context = {
        "tab": tab,
        "handoffs": rows,
        "overdue_count": sum(1 for h in rows if h.is_overdue),
        "overdue_hours": int(services.handoff_overdue_after().total_seconds() // 3600),
    }
    return render(request, "careplans/worklists/handoffs.html", context, status=status)


@login_required
@require_GET
def handoffs(request):
    tab = "sent" if request.GET.get("tab") == "sent" else "incoming"
    return _render_handoffs(request, actor_from_request(request), tab=tab)


def _answer(request, pk: int, *, accept: bool):
    actor = actor_from_request(request)
    handoff = selectors.handoff_get(actor=actor, pk=pk)
    auto_id = f"id_%s_{handoff.pk}"
    form_class = HandoffAcceptForm if accept else HandoffRejectForm
    form = form_class(request.POST, auto_id=auto_id)
    if form.is_valid():
        try:
            if accept:
                services.handoff_accept(actor=actor, handoff=handoff, comment=form.cleaned_data["comment"])
            else:
                services.handoff_reject(actor=actor, handoff=handoff, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            item = handoff.item
            if accept:
                messages.success(request, _("You accepted “%(item)s”.") % {"item": item})
            else:
                messages.info(
                    request, _("You rejected “%(item)s”. The requesting organisation is told.") % {"item": item}
                )
            return redirect("careplans:handoffs")
    field = "accept_form" if accept else "reject_form"
    return _render_handoffs(request, actor, failed=(handoff.pk, field, form), status=400)


@login_required
@require_POST
def handoff_accept(request, pk: int):
    return _answer(request, pk, accept=True)


@login_required
@require_POST
def handoff_reject(request, pk: int):
    return _answer(request, pk, accept=False)


# --- alerts --------------------------------------------------------------------------------------


def _render_alerts(request, actor: Actor, *, failed=None, error: str = "", status: int = 200):
    include_acknowledged = request.GET.get("all") == "1"
    citizen = None
    if request.GET.get("citizen"):
        citizen = citizen_selectors.citizen_get(actor=actor, pk=request.GET["citizen"], detail="alerts")
    rows = selectors.alerts_page_rows(actor=actor, include_acknowledged=include_acknowledged, citizen=citizen)
    page = CappedPaginator(rows, selectors.ALERTS_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    if citizen is None:  # one citizen's list was logged when the citizen was read
        selectors.alerts_listed(actor=actor, alerts=shown)
    yellow_open = {a.citizen_id for a in shown if a.is_open and a.severity == AlertSeverity.YELLOW}
    if failed and not any(a.pk == failed[0] for a in shown):  # e.g. acknowledged meanwhile: not listed
        error = error or " ".join(message for messages_ in failed[1].errors.values() for message in messages_)
    for alert in shown:
        alert.ack_form = failed[1] if failed and failed[0] == alert.pk else AlertAckForm(auto_id=f"id_%s_{alert.pk}")
        alert.has_yellow_siblings = alert.citizen_id in yellow_open
        alert.code_label = CODE_LABELS.get(alert.code, alert.code)
    context = {
        "alerts": shown,
        "page": page,
        "citizen": citizen,
        "include_acknowledged": include_acknowledged,
        "query": _keep_query(request, "all", "citizen"),  # the pages' links
        "ack_query": _keep_query(request, "all", "citizen", "page"),  # back to this page after an answer
        "citizen_query": _keep_query(request, "citizen"),
        "all_query": urlencode({**({"citizen": request.GET["citizen"]} if citizen else {}), "all": "1"}),
        "error": error,
    }
    return render(request, "careplans/worklists/alerts.html", context, status=status)


@login_required
@require_GET
def alerts(request):
    return _render_alerts(request, actor_from_request(request))


def _back_to_alerts(request):
    query = _keep_query(request, "all", "citizen", "page")
    return redirect(reverse("careplans:alerts") + (f"?{query}" if query else ""))


@login_required
@require_POST
def alert_ack(request, pk: int):
    actor = actor_from_request(request)
    alert = selectors.alert_get(actor=actor, pk=pk)
    form = AlertAckForm(request.POST, auto_id=f"id_%s_{alert.pk}")
    if form.is_valid():
        try:
            monitoring.alert_acknowledge(actor=actor, alert=alert, note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("The alert for %(name)s is acknowledged.") % {"name": alert.citizen.full_name})
            return _back_to_alerts(request)
    return _render_alerts(request, actor, failed=(alert.pk, form), status=400)


@login_required
@require_POST
def alerts_ack_yellow(request, citizen_pk):
    actor = actor_from_request(request)
    citizen = citizen_selectors.citizen_get(actor=actor, pk=citizen_pk, detail="acknowledge yellow alerts")
    form = AlertAckForm(request.POST)
    if not form.is_valid():
        return _render_alerts(request, actor, error=" ".join(form.errors.get("note", [])), status=400)
    count = monitoring.alerts_acknowledge_yellow(actor=actor, citizen=citizen, note=form.cleaned_data["note"])
    messages.success(
        request,
        ngettext(
            "%(count)d yellow alert for %(name)s is acknowledged.",
            "%(count)d yellow alerts for %(name)s are acknowledged.",
            count,
        )
        % {"count": count, "name": citizen.full_name},
    )
    return _back_to_alerts(request)


# --- thresholds and monitoring schedules ---------------------------------------------------------


def _render_thresholds(request, actor: Actor, citizen, *, threshold_form=None, schedule_form=None, status=200):
    current = selectors.current_thresholds(citizen=citizen)
    rows = []
    for code, label in ThresholdCode.choices:
        measurement, _index = COMPONENT_BY_CODE[code]
        rows.append({"code": code, "label": label, "unit": measurement.unit_display, "threshold": current.get(code)})
    may_set = permissions.may_set_thresholds(actor)
    if may_set and threshold_form is None:
        code = request.GET.get("code")
        threshold_form = ThresholdForm(
            initial=ThresholdForm.initial_for(code, current.get(code)) if code in COMPONENT_BY_CODE else None
        )
    if may_set and schedule_form is None:
        schedule_form = ScheduleForm(
            organisations=selectors.monitoring_organisation_choices(actor=actor, citizen=citizen),
            initial={"monitoring_organisation": actor.organisation.pk},
        )
    context = {
        "citizen": citizen,
        "rows": rows,
        "history": selectors.threshold_history(citizen=citizen),
        "schedules": selectors.monitoring_schedules(citizen=citizen),
        "may_set": may_set,
        "threshold_form": threshold_form,
        "schedule_form": schedule_form,
    }
    return render(request, "careplans/worklists/thresholds.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def thresholds(request, citizen_pk):
    actor = actor_from_request(request)
    citizen = citizen_selectors.citizen_get(actor=actor, pk=citizen_pk, detail="thresholds")
    if request.method == "GET":
        return _render_thresholds(request, actor, citizen)
    permissions.require_set_thresholds(actor)  # before the form: a non-clinician gets 403, not field errors
    url = reverse("careplans:thresholds", args=[citizen.pk])
    if request.POST.get("action") == "schedule":
        form = ScheduleForm(
            request.POST, organisations=selectors.monitoring_organisation_choices(actor=actor, citizen=citizen)
        )
        if form.is_valid():
            try:
                monitoring.schedule_create(actor=actor, citizen=citizen, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(request, _("The monitoring schedule is added."))
                return redirect(url)
        return _render_thresholds(request, actor, citizen, schedule_form=form, status=400)
    form = ThresholdForm(request.POST)
    if form.is_valid():
        try:
            threshold = monitoring.threshold_set(actor=actor, citizen=citizen, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(
                request,
                _("New limits for %(quantity)s are set (version %(version)d).")
                % {"quantity": threshold.get_code_display(), "version": threshold.version},
            )
            return redirect(url)
    return _render_thresholds(request, actor, citizen, threshold_form=form, status=400)
