"""Status changes on the plan page and on the Today list, without traps.

A change nothing comes back from (a plan revoked or entered in error; a goal cancelled, rejected
or entered in error; an activity cancelled, stopped or entered in error: ``lifecycle.is_irreversible``)
is asked about first. The status form's answer is then a confirmation step at the plan, goal or
activity with a required reason; only confirming it changes the status, and the service refuses
the change without a reason as well. "Mark done" can be undone for a few minutes by the person who
did it (``careplans.undo``): on the plan page the activity offers "Undo" while the history says so,
on the Today list the row that was just marked done does.

Like ``careplans.views``, each view parses input, calls one service and renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from citizens.access import actor_from_request

from . import selectors, services
from .choices import ActivityStatus, CarePlanStatus, GoalLifecycleStatus
from .forms import ActivityStatusForm, GoalStatusForm, PlanStatusForm
from .forms_worklists import ActivityDoneForm
from .lifecycle import ACTIVITY_TRANSITIONS, GOAL_TRANSITIONS, PLAN_TRANSITIONS, is_irreversible
from .undo import activity_done_undo
from .views import (
    Failure,
    _failed,
    _find,
    _load,
    _render_page,
    _render_sections,
    _saved,
    _submit,
)

TARGETS = {"header": "plan-header", "goals": "goals", "activities": "activities"}


@dataclass(frozen=True)
class Confirmation:
    """The confirmation step of an irreversible status change, shown at what it changes."""

    kind: str  # plan, goal, activity
    pk: Any
    url: str
    target: str  # the section the answer replaces
    field: str  # the form's status field
    code: str
    label: str
    comment: str
    hidden: tuple[tuple[str, str], ...] = ()  # the status form's other fields, sent again
    errors: tuple[str, ...] = ()

    @property
    def dom_id(self) -> str:
        return f"confirm-{self.kind}-{self.pk}"


def _confirmation(form, *, url: str, kind: str, pk: Any, section: str, field: str, code: str, labels, extra=()):
    """The step for ``code``; a bound form that failed (the reason missing) brings its errors."""
    return Confirmation(
        kind=kind,
        pk=pk,
        url=url,
        target=TARGETS[section],
        field=field,
        code=code,
        label=str(labels(code).label),
        comment=form.data.get("comment", ""),
        hidden=tuple((name, form.data.get(name, "")) for name in extra),
        errors=tuple(str(message) for errors in form.errors.values() for message in errors),
    )


def _ask(request, actor, plan, section: str, confirm: Confirmation, status: int):
    if status != 200:  # read again: a write that failed half-way may have changed the objects in memory
        plan = selectors.careplan_get(actor=actor, pk=plan.pk)
    if request.htmx:
        return _render_sections(request, actor, plan, section, status=status, also=("history",), confirm=confirm)
    return _render_page(request, actor, plan, status=status, confirm=confirm)


@dataclass(frozen=True)
class StatusKind:
    """How the status of a plan, a goal or an activity changes on the plan page."""

    section: str
    related: str  # the plan's items of this kind ("" for the plan itself)
    form: type[forms.Form]
    table: dict[str, set[str]]
    labels: Any
    field: str
    extra: tuple[str, ...]  # the form's other fields, which the confirmation step sends again
    message: Any


KINDS = {
    "plan": StatusKind(
        "header",
        "",
        PlanStatusForm,
        PLAN_TRANSITIONS,
        CarePlanStatus,
        "status",
        (),
        _lazy("The plan's status is changed."),
    ),
    "goal": StatusKind(
        "goals",
        "goals",
        GoalStatusForm,
        GOAL_TRANSITIONS,
        GoalLifecycleStatus,
        "lifecycle_status",
        ("achievement",),
        _lazy("The goal is updated."),
    ),
    "activity": StatusKind(
        "activities",
        "activitys",
        ActivityStatusForm,
        ACTIVITY_TRANSITIONS,
        ActivityStatus,
        "status",
        ("outcome_note",),
        _lazy("The activity is updated."),
    ),
}


def _write(kind: str, actor, item, form):
    data = form.cleaned_data
    if kind == "plan":
        return services.careplan_set_status(actor=actor, plan=item, status=data["status"], comment=data["comment"])
    if kind == "goal":
        return services.goal_set_status(actor=actor, goal=item, **form.status_fields())
    return services.activity_set_status(
        actor=actor, activity=item, status=data["status"], outcome_note=data["outcome_note"], comment=data["comment"]
    )


def _change_status(request, name: str, pk, item_pk: int | None = None):
    """Ask first when the new status is irreversible and not confirmed yet; else change it."""
    kind = KINDS[name]
    actor, plan = _load(request, pk, "care plan: status" if name == "plan" else f"care plan: {name} status")
    item = _find(getattr(plan, kind.related).all(), item_pk) if kind.related else plan
    form = kind.form(request.POST)
    current = getattr(item, kind.field)
    new = form.cleaned_data.get(kind.field) if form.is_valid() else None
    # Only a change the lifecycle allows is asked about; the service reports any other as usual.
    irreversible = new in kind.table.get(current, set()) and is_irreversible(kind.table, new)
    ask = {"url": request.path, "kind": name, "pk": item.pk, "section": kind.section, "field": kind.field}
    ask.update(code=new, labels=kind.labels, extra=kind.extra)
    if irreversible and not form.cleaned_data["confirmed"]:
        return _ask(request, actor, plan, kind.section, _confirmation(form, **ask), 200)
    status, _result = _submit(form, lambda: _write(name, actor, item, form))
    if status == 200:
        return _saved(request, actor, plan, kind.section, kind.message)
    if irreversible and status == 400:
        return _ask(request, actor, plan, kind.section, _confirmation(form, **ask), status)
    if name == "plan":
        return _failed(request, actor, plan, kind.section, status, forms={"status_form": form})
    return _failed(request, actor, plan, kind.section, status, failed=Failure.of(name, item.pk, "status", form))


@login_required
@require_POST
def plan_status(request, pk):
    return _change_status(request, "plan", pk)


@login_required
@require_POST
def goal_status(request, pk, item_pk: int):
    return _change_status(request, "goal", pk, item_pk)


@login_required
@require_POST
def activity_status(request, pk, item_pk: int):
    return _change_status(request, "activity", pk, item_pk)


# --- "Mark done" and its undo ----------------------------------------------------------------------


def _done_or_undo(request, pk, item_pk: int, *, undo: bool):
    actor, plan = _load(request, pk, "care plan: undo done" if undo else "care plan: activity done")
    activity = _find(plan.activitys.all(), item_pk)
    form = forms.Form(request.POST) if undo else ActivityDoneForm(request.POST)
    status, _result = _submit(
        form,
        lambda: (
            activity_done_undo(actor=actor, activity=activity)
            if undo
            else services.activity_mark_done(actor=actor, activity=activity, note=form.cleaned_data["note"])
        ),
    )
    if status == 200:
        message = _("Undone: the activity is as it was before.") if undo else _("The activity is marked done.")
        return _saved(request, actor, plan, "activities", message)
    action = "undo" if undo else "done"
    return _failed(request, actor, plan, "activities", status, failed=Failure.of("activity", activity.pk, action, form))


@login_required
@require_POST
def activity_done(request, pk, item_pk: int):
    """ "Mark done" on the plan page; the activity then offers "Undo"."""
    return _done_or_undo(request, pk, item_pk, undo=False)


@login_required
@require_POST
def activity_undo(request, pk, item_pk: int):
    return _done_or_undo(request, pk, item_pk, undo=True)


@login_required
@require_POST
def today_undo(request, pk: int):
    """ "Undo" on a row of the Today list that was just marked done: the row comes back as it was."""
    actor = actor_from_request(request)
    activity = selectors.activity_get(actor=actor, pk=pk)
    try:
        activity = activity_done_undo(actor=actor, activity=activity)
    except (ValidationError, PermissionDenied) as exc:
        status = 403 if isinstance(exc, PermissionDenied) else 400
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        if not request.htmx:
            messages.error(request, message)
            return redirect("careplans:today")
        context = {"activity": activity, "done": True, "undo_error": message}
        return render(request, "careplans/worklists/_today_activity.html", context, status=status)
    if not request.htmx:
        messages.success(request, _("Undone: %(activity)s is due again.") % {"activity": activity})
        return redirect("careplans:today")
    activity.done_form = ActivityDoneForm(auto_id=f"id_%s_{activity.pk}")
    activity.overdue_days = (timezone.localdate() - activity.next_due_on).days if activity.next_due_on else 0
    return render(request, "careplans/worklists/_today_activity.html", {"activity": activity})
