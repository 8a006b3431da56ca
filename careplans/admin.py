"""The admin for care plans and home monitoring.

Superusers see every row; everybody else sees only rows of citizens inside the access gate of the
organisation they act for, on every page here (as in ``citizens.admin``). Plans, hand-offs,
measurements, thresholds, schedules and alerts change in the portal and the API, through the
services that enforce the FHIR lifecycles and write the plan history and the access log, so these
pages only show them: a measurement in particular is never edited, only corrected by a new one.
Looking at a citizen's records here is written to the access log like anywhere else.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, Q
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from citizens.access import actor_from_request
from citizens.admin import ReadOnlyMixin, gated_citizens
from citizens.choices import AccessAction
from citizens.filtersets import search_citizens
from citizens.models import Citizen

from .models import (
    Activity,
    Alert,
    CareEvent,
    CarePlan,
    CareTeamParticipant,
    Goal,
    Handoff,
    MonitoringSchedule,
    Observation,
    PlanChange,
    Threshold,
)
from .selectors import citizens_read_log


class GatedAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only rows of one citizen each, found through ``citizen_path``; non-superusers see
    those inside the gate only, and every row shown is in the access log."""

    citizen_path = "citizen"
    show_full_result_count = False  # no second COUNT over a large table
    search_help_text = _("The citizen's CPR number (whole or the first six digits or more) or part of the name.")

    def get_search_fields(self, request):
        return [f"{self.citizen_path}__cpr"]  # shows the search box; get_search_results does the work

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.citizen_path}__in": gated_citizens(request).values("pk")})

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        hits = search_citizens(Citizen.objects.all(), search_term).values("pk")
        return queryset.filter(self.search_q(hits, search_term)), False

    def search_q(self, hits, search_term: str) -> Q:
        return Q(**{f"{self.citizen_path}__in": hits})

    def citizen_of(self, obj: Model) -> Citizen | None:
        """None for a row about no citizen (a user's daily digest delivery): nothing to log."""
        for name in self.citizen_path.split("__"):
            obj = getattr(obj, name)
            if obj is None:
                return None
        return obj

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.result_list = rows = list(changelist.result_list)
        citizens_read_log(
            actor=actor_from_request(request),
            citizens=[citizen for citizen in map(self.citizen_of, rows) if citizen is not None],
            action=AccessAction.LIST,
            detail=f"admin {self.opts.model_name} list",
        )
        return changelist

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.citizen_of(obj) is not None:
            citizens_read_log(
                actor=actor_from_request(request),
                citizens=[self.citizen_of(obj)],
                action=AccessAction.VIEW,
                detail=f"admin {self.opts.model_name}",
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


def changes_table(changes: dict) -> str:
    """The before/after of a history entry, one field a line."""
    if not changes:
        return "–"
    rows = ((name, _short(values[0]), _short(values[1])) for name, values in changes.items() if len(values) == 2)
    return format_html(
        '<table class="plan-diff"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>',
        _("field"),
        _("before"),
        _("after"),
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


def _short(value) -> str:
    text = "–" if value in (None, "") else str(value)
    return text if len(text) <= 120 else f"{text[:117]}…"


# --- care plans -------------------------------------------------------------------------------------


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    show_change_link = False
    related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)


class CareTeamInline(ReadOnlyInline):
    model = CareTeamParticipant
    fields = ["organisation", "person", "role", "period_start", "period_end"]
    related = ("organisation", "person")


class GoalInline(ReadOnlyInline):
    model = Goal
    fk_name = "care_plan"
    fields = [
        "description",
        "responsible_organisation",
        "handoff_status",
        "lifecycle_status",
        "achievement",
        "due_date",
    ]
    related = ("responsible_organisation",)


class ActivityInline(ReadOnlyInline):
    model = Activity
    fk_name = "care_plan"
    fields = ["description", "responsible_organisation", "handoff_status", "status", "next_due_on", "last_done_on"]
    related = ("responsible_organisation",)


class PlanChangeInline(ReadOnlyInline):
    model = PlanChange
    verbose_name_plural = _("history")
    fields = ["at", "by", "organisation", "target_type", "target_label", "action", "diff", "comment"]
    readonly_fields = ["diff"]
    related = ("by", "organisation")
    classes = ["collapse"]

    @admin.display(description=_("before and after"))
    def diff(self, obj: PlanChange) -> str:
        return changes_table(obj.changes)


@admin.register(CarePlan)
class CarePlanAdmin(GatedAdmin):
    list_display = ["title", "citizen", "status", "coordinating_organisation", "period_start", "period_end"]
    list_filter = ["status", "intent"]
    list_select_related = ["citizen", "coordinating_organisation"]
    search_help_text = _("The citizen's CPR number or name, or part of the plan's title.")
    inlines = [CareTeamInline, GoalInline, ActivityInline, PlanChangeInline]
    fieldsets = [
        (None, {"fields": ["citizen", "title", "status", "intent", "conditions", "description"]}),
        (_("Coordination"), {"fields": ["coordinating_organisation", "coordinator", "period_start", "period_end"]}),
        (_("Record"), {"fields": ["created_by", "created_by_organisation", "created_at", "updated_at"]}),
    ]

    def search_q(self, hits, search_term: str) -> Q:
        return super().search_q(hits, search_term) | Q(title__icontains=search_term.strip())


@admin.register(PlanChange)
class PlanChangeAdmin(GatedAdmin):
    """The plans' history on its own, with the before and after of every change."""

    citizen_path = "care_plan__citizen"
    list_display = ["at", "care_plan", "target_type", "target_label", "action", "by", "organisation"]
    list_filter = ["target_type", "action"]
    list_select_related = ["care_plan__citizen", "by", "organisation"]
    fields = ["care_plan", "at", "by", "organisation", "target_type", "target_id", "target_label", "action", "diff"]
    readonly_fields = ["diff"]

    @admin.display(description=_("before and after"))
    def diff(self, obj: PlanChange) -> str:
        return changes_table(obj.changes)


@admin.register(Handoff)
class HandoffAdmin(GatedAdmin):
    citizen_path = "care_plan__citizen"
    list_display = [
        "requested_at",
        "item",
        "care_plan",
        "from_organisation",
        "to_organisation",
        "status",
        "answered_at",
    ]
    list_filter = ["status"]
    list_select_related = ["care_plan__citizen", "goal", "activity", "from_organisation", "to_organisation"]

    @admin.display(description=_("goal or activity"))
    def item(self, obj: Handoff) -> str:
        return str(obj.item)


@admin.register(CareEvent)
class CareEventAdmin(GatedAdmin):
    list_display = ["created_at", "kind", "organisation", "citizen", "processed_at"]
    list_filter = ["kind"]
    list_select_related = ["organisation", "citizen"]


# --- home monitoring ---------------------------------------------------------------------------------


@admin.register(Observation)
class ObservationAdmin(GatedAdmin):
    """Never edited: a correction is a new observation that replaces the old one (the portal, the API)."""

    list_display = ["effective_at", "citizen", "code", "display_value", "status", "source", "entered_by_organisation"]
    list_filter = ["code", "status", "source"]
    list_select_related = ["citizen", "entered_by_organisation"]

    @admin.display(description=_("value"))
    def display_value(self, obj: Observation) -> str:
        return obj.display_value


@admin.register(Threshold)
class ThresholdAdmin(GatedAdmin):
    """Every version is kept; a change is a new version set in the portal or the API."""

    list_display = [
        "citizen",
        "code",
        "version",
        "red_low",
        "yellow_low",
        "yellow_high",
        "red_high",
        "valid_from",
        "valid_to",
        "set_by_organisation",
    ]
    list_filter = ["code"]
    list_select_related = ["citizen", "set_by_organisation"]


@admin.register(MonitoringSchedule)
class MonitoringScheduleAdmin(GatedAdmin):
    list_display = ["citizen", "code", "every_hours", "grace_hours", "monitoring_organisation", "starts_at", "ends_at"]
    list_filter = ["code"]
    list_select_related = ["citizen", "monitoring_organisation"]


class OpenAlertFilter(admin.SimpleListFilter):
    title = _("open")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(acknowledged_at__isnull=self.value() == "1")
        return queryset


@admin.register(Alert)
class AlertAdmin(GatedAdmin):
    list_display = ["created_at", "citizen", "organisation", "severity", "kind", "message", "acknowledged_at"]
    list_filter = [OpenAlertFilter, "severity", "kind"]
    list_select_related = ["citizen", "organisation"]
