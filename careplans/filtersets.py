"""One FilterSet per model, for the API lists (and the pages that want the same filters). They
narrow a queryset that already went through the access policy; they never widen it."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from sectors.models import Organisation
from smartcare.filters import BooleanFilter

from .choices import (
    ActivityStatus,
    AlertKind,
    AlertSeverity,
    CarePlanStatus,
    GoalLifecycleStatus,
    HandoffStatus,
    ObservationCode,
    ObservationStatus,
    ThresholdCode,
)
from .models import Activity, Alert, CarePlan, Goal, Observation, Threshold


def _organisations():
    return Organisation.objects.all()


class CarePlanFilterSet(django_filters.FilterSet):
    citizen = django_filters.UUIDFilter(field_name="citizen_id", label=_("Citizen"))
    status = django_filters.ChoiceFilter(choices=CarePlanStatus.choices, label=_("Status"))
    coordinating_organisation = django_filters.ModelChoiceFilter(
        queryset=_organisations(), label=_("Coordinating organisation")
    )

    class Meta:
        model = CarePlan
        fields = ["citizen", "status", "coordinating_organisation"]


class AssignableItemFilterSet(django_filters.FilterSet):
    care_plan = django_filters.UUIDFilter(field_name="care_plan_id", label=_("Care plan"))
    citizen = django_filters.UUIDFilter(field_name="care_plan__citizen_id", label=_("Citizen"))
    responsible_organisation = django_filters.ModelChoiceFilter(
        queryset=_organisations(), label=_("Responsible organisation")
    )
    handoff_status = django_filters.ChoiceFilter(choices=HandoffStatus.choices, label=_("Hand-off"))


class GoalFilterSet(AssignableItemFilterSet):
    lifecycle_status = django_filters.ChoiceFilter(choices=GoalLifecycleStatus.choices, label=_("Status"))

    class Meta:
        model = Goal
        fields = ["care_plan", "citizen", "responsible_organisation", "handoff_status", "lifecycle_status"]


class ActivityFilterSet(AssignableItemFilterSet):
    status = django_filters.ChoiceFilter(choices=ActivityStatus.choices, label=_("Status"))
    due_before = django_filters.DateFilter(
        field_name="next_due_on", lookup_expr="lte", label=_("Next due on or before")
    )

    class Meta:
        model = Activity
        fields = ["care_plan", "citizen", "responsible_organisation", "handoff_status", "status", "due_before"]


class ObservationFilterSet(django_filters.FilterSet):
    citizen = django_filters.UUIDFilter(field_name="citizen_id", label=_("Citizen"))
    code = django_filters.ChoiceFilter(choices=ObservationCode.choices, label=_("Measurement"))
    since = django_filters.IsoDateTimeFilter(field_name="effective_at", lookup_expr="gte", label=_("Measured since"))
    status = django_filters.ChoiceFilter(choices=ObservationStatus.choices, label=_("Status"))

    class Meta:
        model = Observation
        fields = ["citizen", "code", "since", "status"]


class ThresholdFilterSet(django_filters.FilterSet):
    """Current versions only, unless ``history`` asks for every version."""

    citizen = django_filters.UUIDFilter(field_name="citizen_id", label=_("Citizen"))
    code = django_filters.ChoiceFilter(choices=ThresholdCode.choices, label=_("Measured quantity"))
    history = BooleanFilter(method="filter_history", label=_("Include earlier versions"))

    class Meta:
        model = Threshold
        fields = ["citizen", "code", "history"]

    def filter_history(self, queryset, name, value):
        return queryset  # applied in filter_queryset, because "not given" means current only

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("history"):
            queryset = queryset.filter(valid_to__isnull=True)
        return queryset


class AlertFilterSet(django_filters.FilterSet):
    citizen = django_filters.UUIDFilter(field_name="citizen_id", label=_("Citizen"))
    severity = django_filters.ChoiceFilter(choices=AlertSeverity.choices, label=_("Severity"))
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices, label=_("Kind"))
    open = BooleanFilter(field_name="acknowledged_at", lookup_expr="isnull", label=_("Open (not acknowledged)"))

    class Meta:
        model = Alert
        fields = ["citizen", "severity", "kind", "open"]
