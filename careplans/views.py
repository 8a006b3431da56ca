"""The care-plan pages: creating a plan, and the plan page on which the care team edits the plan,
its team, goals and activities.

On the plan page every form posts to its own endpoint. With htmx the answer is the section that
changed plus, out of band, the sections the change touches and the history, so the page never
reloads; without JavaScript the same endpoints redirect back to the page (or show it again with
the errors). Each view parses input, calls one service or selector and renders: the access
policy and the access log live in ``selectors`` and ``services``, never here.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citizens import selectors as citizen_selectors
from citizens.access import Actor, actor_from_request
from sectors.choices import OrganisationKind
from sectors.selectors import organisation_list
from smartcare.forms import apply_service_errors

from . import selectors, services
from .charts import measurement_charts
from .checks import careplan_create_check
from .choices import (
    ActivityStatus,
    CarePlanStatus,
    GoalAchievement,
    GoalLifecycleStatus,
    HandoffStatus,
)
from .forms import (
    ActivityForm,
    CarePlanForm,
    GoalForm,
    OrganisationSearchForm,
    PlanStatusForm,
    ReassignForm,
    TeamEndForm,
    TeamForm,
    directory_for,
)
from .lifecycle import ACTIVITY_TRANSITIONS, DOABLE, GOAL_TRANSITIONS, PLAN_TRANSITIONS, allowed_next
from .measurements import COMPONENT_BY_CODE
from .models import Activity, CarePlan, CareTeamParticipant, Goal, PlanChange
from .undo import undoable_activities
from .views_monitoring import monitoring_links

ORGANISATION_SEARCH_LIMIT = 20

# The plan page's sections, and what else a change in one of them can change: a goal or an
# activity for another organisation puts that organisation on the care team; the plan's status
# decides what can still be edited. The history changes with everything.
SECTIONS = {
    "header": "careplans/_plan_header.html",
    "team": "careplans/_team.html",
    "goals": "careplans/_goals.html",
    "activities": "careplans/_activities.html",
    "history": "careplans/_history.html",
}
ALSO_CHANGED = {
    "header": ("team", "goals", "activities", "history"),
    "team": ("history",),
    "goals": ("team", "history"),
    "activities": ("team", "history"),
}
ANCHORS = {"header": "plan-header", "team": "team", "goals": "goals", "activities": "activities"}
PARTIAL_HEADER = "X-SmartCare-Partial"  # careplans.js swaps 400/403 answers that carry it

HISTORY_ACTIONS = {
    "created": gettext_lazy("Plan created"),
    "updated": gettext_lazy("Changed"),
    "status": gettext_lazy("Status changed"),
    "team-added": gettext_lazy("Joined the care team"),
    "team-ended": gettext_lazy("Left the care team"),
    "goal-added": gettext_lazy("Goal added"),
    "activity-added": gettext_lazy("Activity added"),
    "done": gettext_lazy("Done"),
    "done-undone": gettext_lazy("“Done” undone"),
    "handoff-accepted": gettext_lazy("Hand-off accepted"),
    "handoff-rejected": gettext_lazy("Hand-off rejected"),
    "reassigned": gettext_lazy("Reassigned"),
}
HISTORY_TARGETS: dict[str, tuple[type[models.Model], Any]] = {
    "careplan": (CarePlan, gettext_lazy("Plan")),
    "goal": (Goal, gettext_lazy("Goal")),
    "activity": (Activity, gettext_lazy("Activity")),
    "careteamparticipant": (CareTeamParticipant, gettext_lazy("Care team")),
}
HISTORY_EXTRA_FIELDS = {"handoff": (gettext_lazy("hand-off"), dict(HandoffStatus.choices))}


# --- errors ------------------------------------------------------------------------------------


def _submit(form, write: Callable[[], Any], check: Callable[[], None] | None = None) -> tuple[int, Any]:
    """Validate the form and call the service; its errors go onto the form. While the form is
    invalid, ``check`` (the service's checks of the fields that were read) adds its errors too,
    so every error shows at once. The HTTP status to answer with, and what the service returned."""
    if not form.is_valid():
        if check is not None:
            try:
                check()
            except ValidationError as exc:
                apply_service_errors(exc, form)
        return 400, None
    try:
        return 200, write()
    except ValidationError as exc:
        apply_service_errors(exc, form)
        return 400, None
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or _("Your organisation may not make this change."))
        return 403, None


@dataclass(frozen=True)
class Failure:
    """A form of one item (its status, reassigning it, ending a participation) that failed:
    the page shows the errors at that item."""

    kind: str  # goal, activity, participant
    pk: int
    action: str  # status, reassign, end
    errors: list[str]

    @classmethod
    def of(cls, kind: str, pk: int, action: str, form) -> Failure:
        return cls(kind, pk, action, [message for errors in form.errors.values() for message in errors])


# --- history -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    change: PlanChange
    action: str
    what: str
    rows: list[tuple[str, Any, Any]]


def _model_field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _history_value(field: models.Field | None, choices: dict | None, value: Any) -> Any:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if choices and value in choices:
        return choices[value]
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _history_rows(model: type[models.Model] | None, changes: dict) -> list[tuple[str, Any, Any]]:
    rows = []
    for name, pair in (changes or {}).items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        field = _model_field(model, name) if model else None
        if field is not None:
            label, choices = field.verbose_name, dict(field.choices) if field.choices else None
        else:
            label, choices = HISTORY_EXTRA_FIELDS.get(name, (name.replace("_", " "), None))
        rows.append((capfirst(label), _history_value(field, choices, before), _history_value(field, choices, after)))
    return rows


def _history(plan: CarePlan) -> list[HistoryEntry]:
    entries = []
    for change in selectors.careplan_history(plan=plan):
        model, what = HISTORY_TARGETS.get(change.target_type, (None, change.target_type))
        entries.append(
            HistoryEntry(
                change=change,
                action=str(HISTORY_ACTIONS.get(change.action, change.action)),
                what=str(what),
                rows=_history_rows(model, change.changes),
            )
        )
    return entries


def _rejection_reasons(history: Iterable[HistoryEntry]) -> dict[tuple[str, str], str]:
    """Why an item's hand-off was rejected: the reason is the newest rejection's comment in the
    history, which the page has loaded anyway (no query per item)."""
    reasons: dict[tuple[str, str], str] = {}
    for entry in history:  # newest first
        if entry.change.action == "handoff-rejected":
            reasons.setdefault((entry.change.target_type, entry.change.target_id), entry.change.comment)
    return reasons


# --- the plan page -----------------------------------------------------------------------------


def _next(table: dict[str, set[str]], current: str, labels) -> list[tuple[str, str]]:
    """The statuses the lifecycle allows next, in the lifecycle's order (not alphabetically)."""
    allowed = set(allowed_next(table, current))
    return [(code, label) for code, label in labels.choices if code in allowed]


def _decorate_items(plan: CarePlan, actor: Actor, history: list[HistoryEntry], today: datetime.date) -> None:
    """What the page shows with each goal and activity; the services decide what may be done."""
    organisation_pk = actor.organisation.pk if actor.organisation else None
    reasons = _rejection_reasons(history)
    undoable = undoable_activities((entry.change for entry in history), actor.user.pk)
    blocked = (HandoffStatus.REQUESTED, HandoffStatus.REJECTED)
    for goal in plan.goals.all():
        goal.kind, goal.dom_id = "goal", f"goal-{goal.pk}"
        goal.rejection_reason = reasons.get(("goal", str(goal.pk)), "")
        goal.workable = goal.responsible_organisation_id == organisation_pk and goal.handoff_status not in blocked
        goal.next_statuses = _next(GOAL_TRANSITIONS, goal.lifecycle_status, GoalLifecycleStatus)
    for activity in plan.activitys.all():
        activity.kind, activity.dom_id = "activity", f"activity-{activity.pk}"
        activity.rejection_reason = reasons.get(("activity", str(activity.pk)), "")
        activity.workable = (
            activity.responsible_organisation_id == organisation_pk and activity.handoff_status not in blocked
        )
        activity.next_statuses = _next(ACTIVITY_TRANSITIONS, activity.status, ActivityStatus)
        activity.doable, activity.undoable = activity.status in DOABLE, str(activity.pk) in undoable
        activity.is_overdue = bool(activity.next_due_on and activity.next_due_on < today)


def _plan_context(
    actor: Actor,
    plan: CarePlan,
    *,
    forms: dict | None = None,
    failed: Failure | None = None,
    open_form: str = "",
    flash_error: str = "",
    confirm=None,
) -> dict:
    today = timezone.localdate()
    organisation_pk = actor.organisation.pk if actor.organisation else None
    history = _history(plan)
    _decorate_items(plan, actor, history, today)
    # Only for showing the forms; the services check who may change what.
    on_team = plan.coordinating_organisation_id == organisation_pk or any(
        p.organisation_id == organisation_pk and p.is_active_on(today) for p in plan.participants.all()
    )
    own = {"responsible_organisation": organisation_pk}
    page_forms = {
        "plan_form": CarePlanForm(citizen=plan.citizen, plan=plan, initial=CarePlanForm.initial_for(plan)),
        "status_form": PlanStatusForm(),
        "team_form": TeamForm(),
        "goal_form": GoalForm(initial=own),
        "activity_form": ActivityForm(initial=own),
        **(forms or {}),
    }
    directory = directory_for(actor=actor, citizen=plan.citizen, plan=plan)
    for form in page_forms.values():
        if hasattr(form, "offer"):
            form.offer(directory)
    return {
        "plan": plan,
        "citizen": plan.citizen,
        "history": history,
        "directory": directory,
        "on_team": on_team,
        "editable": on_team and plan.status != CarePlanStatus.ENTERED_IN_ERROR,
        "next_statuses": _next(PLAN_TRANSITIONS, plan.status, CarePlanStatus),
        "achievements": GoalAchievement.choices,
        "failed": failed,
        "confirm": confirm,  # the confirmation step of an irreversible status change (views_status)
        "open_form": open_form,
        "flash_error": flash_error,
        "today": today,
        **page_forms,
    }


def _render_page(request, actor: Actor, plan: CarePlan, *, status: int = 200, **kwargs):
    context = _plan_context(actor, plan, **kwargs)
    context["charts"] = measurement_charts(plan.citizen)
    context.update(monitoring_links(actor))
    context["target_units"] = {code: m.unit_display for code, (m, _i) in COMPONENT_BY_CODE.items()}
    return render(request, "careplans/plan_detail.html", context, status=status)


def _render_sections(
    request, actor: Actor, plan: CarePlan, section: str, *, status: int = 200, flash: str = "", also=(), **kwargs
):
    context = _plan_context(actor, plan, **kwargs)
    context.update(primary=SECTIONS[section], oob_sections=[SECTIONS[name] for name in also], flash=flash)
    response = render(request, "careplans/_sections.html", context, status=status)
    response[PARTIAL_HEADER] = "1"
    return response


def _load(request, pk, detail: str) -> tuple[Actor, CarePlan]:
    actor = actor_from_request(request)
    return actor, selectors.careplan_get(actor=actor, pk=pk, detail=detail)


def _saved(request, actor: Actor, plan: CarePlan, section: str, message: str, open_form: str = ""):
    """After a change: the changed sections (htmx) or the page again (a plain form post)."""
    if not citizen_selectors.citizen_is_visible(actor=actor, citizen=plan.citizen):
        # e.g. the plan was revoked and its care team was the organisation's only relationship.
        messages.info(request, _("The change is saved. The citizen is no longer in your organisation's care."))
        if request.htmx:
            return HttpResponse(headers={"HX-Redirect": reverse("citizens:list")})
        return redirect("citizens:list")
    if not request.htmx:
        messages.success(request, message)
        return redirect(f"{reverse('careplans:detail', args=[plan.pk])}#{ANCHORS[section]}")
    plan = selectors.careplan_get(actor=actor, pk=plan.pk)
    return _render_sections(
        request, actor, plan, section, flash=message, also=ALSO_CHANGED[section], open_form=open_form
    )


def _failed(request, actor: Actor, plan: CarePlan, section: str, status: int, **kwargs):
    # Read again: a write that failed half-way may have changed the objects in memory.
    plan = selectors.careplan_get(actor=actor, pk=plan.pk)
    if status == 403:
        # The form may not be on the page for this organisation: say why at the top as well.
        failed = kwargs.get("failed")
        errors = (
            failed.errors if failed else [e for f in kwargs.get("forms", {}).values() for e in f.non_field_errors()]
        )
        kwargs["flash_error"] = " ".join(str(e) for e in errors)
    if request.htmx:
        return _render_sections(request, actor, plan, section, status=status, also=("history",), **kwargs)
    return _render_page(request, actor, plan, status=status, **kwargs)


def _find(items: Iterable, pk: int):
    for item in items:
        if item.pk == pk:
            return item
    raise Http404


# --- pages -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request, citizen_pk):
    actor = actor_from_request(request)
    citizen = citizen_selectors.citizen_get(actor=actor, pk=citizen_pk, detail="new care plan")
    status = 200
    if request.method == "GET":
        organisation_pk = actor.organisation.pk if actor.organisation else None
        form = CarePlanForm(citizen=citizen, initial={"coordinating_organisation": organisation_pk})
    else:
        form = CarePlanForm(request.POST, citizen=citizen)
        status, plan = _submit(
            form,
            lambda: services.careplan_create(actor=actor, citizen=citizen, **form.cleaned_data),
            # While the form is invalid, its cleaned data holds the fields it could read.
            lambda: careplan_create_check(actor=actor, citizen=citizen, **form.cleaned_data),
        )
        if status == 200:
            messages.success(request, _("The care plan “%(title)s” is created.") % {"title": plan.title})
            return redirect("careplans:detail", pk=plan.pk)
    form.offer(directory_for(actor=actor, citizen=citizen))
    return render(request, "careplans/plan_form.html", {"form": form, "citizen": citizen}, status=status)


@login_required
@require_GET
def plan_detail(request, pk):
    actor, plan = _load(request, pk, "care plan")
    return _render_page(request, actor, plan)


@login_required
@require_POST
def plan_edit(request, pk):
    actor, plan = _load(request, pk, "care plan: edit")
    form = CarePlanForm(request.POST, citizen=plan.citizen, plan=plan)
    status, _result = _submit(
        form,
        lambda: services.careplan_update(actor=actor, plan=plan, **form.cleaned_data),
    )
    if status == 200:
        return _saved(request, actor, plan, "header", _("The plan is saved."))
    return _failed(request, actor, plan, "header", status, forms={"plan_form": form})


@login_required
@require_POST
def team_add(request, pk):
    actor, plan = _load(request, pk, "care plan: add to the care team")
    form = TeamForm(request.POST)
    status, _result = _submit(form, lambda: services.careteam_add(actor=actor, plan=plan, **form.cleaned_data))
    if status == 200:
        return _saved(request, actor, plan, "team", _("The care team is changed."), open_form="team")
    return _failed(request, actor, plan, "team", status, forms={"team_form": form})


@login_required
@require_POST
def team_end(request, pk, participant_pk: int):
    actor, plan = _load(request, pk, "care plan: end participation")
    participant = _find(plan.participants.all(), participant_pk)
    form = TeamEndForm(request.POST)
    status, _result = _submit(
        form,
        lambda: services.careteam_end(
            actor=actor,
            participant=participant,
            end_date=form.cleaned_data["end_date"],
            comment=form.cleaned_data["comment"],
        ),
    )
    if status == 200:
        return _saved(request, actor, plan, "team", _("The participation is ended."))
    return _failed(request, actor, plan, "team", status, failed=Failure.of("participant", participant.pk, "end", form))


@login_required
@require_POST
def goal_add(request, pk):
    actor, plan = _load(request, pk, "care plan: add goal")
    form = GoalForm(request.POST)
    status, _result = _submit(form, lambda: services.goal_create(actor=actor, plan=plan, **form.cleaned_data))
    if status == 200:
        return _saved(request, actor, plan, "goals", _("The goal is added."), open_form="goal")
    return _failed(request, actor, plan, "goals", status, forms={"goal_form": form})


@login_required
@require_POST
def activity_add(request, pk):
    actor, plan = _load(request, pk, "care plan: add activity")
    form = ActivityForm(request.POST)
    status, _result = _submit(form, lambda: services.activity_create(actor=actor, plan=plan, **form.cleaned_data))
    if status == 200:
        return _saved(request, actor, plan, "activities", _("The activity is added."), open_form="activity")
    return _failed(request, actor, plan, "activities", status, forms={"activity_form": form})


REASSIGNABLE = {"goals": ("goal", "goals"), "activities": ("activity", "activitys")}


@login_required
@require_POST
def item_reassign(request, pk, kind: str, item_pk: int):
    if kind not in REASSIGNABLE:
        raise Http404
    actor, plan = _load(request, pk, "care plan: reassign")
    name, related = REASSIGNABLE[kind]
    item = _find(getattr(plan, related).all(), item_pk)
    form = ReassignForm(request.POST)
    status, _result = _submit(
        form,
        lambda: services.item_reassign(
            actor=actor, item=item, organisation=form.cleaned_data["organisation"], comment=form.cleaned_data["comment"]
        ),
    )
    if status == 200:
        return _saved(request, actor, plan, kind, _("The request is sent to the new organisation."))
    return _failed(request, actor, plan, kind, status, failed=Failure.of(name, item.pk, "reassign", form))


@login_required
@require_GET
def organisation_search(request):
    """Organisations by name or code for the selects' search box (the directory is no health
    data; any signed-in member of staff may look it up)."""
    form = OrganisationSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    results = []
    if len(query) >= 2:
        organisations = (
            organisation_list(filters={"search": query, "is_active": "true"})
            .exclude(kind=OrganisationKind.REGION)
            .filter(is_external=False)
            .order_by("name", "pk")[:ORGANISATION_SEARCH_LIMIT]
        )
        results = [{"id": o.pk, "name": o.name, "kind": o.get_kind_display()} for o in organisations]
    return JsonResponse({"results": results})
