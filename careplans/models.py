from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.models import Citizen, Condition
from sectors.models import Organisation
from smartcare.validators import date_errors, from_1900, period_order, raise_errors, validate_dates

from .choices import (
    ActivityStatus,
    AlertKind,
    AlertSeverity,
    CareEventKind,
    CarePlanIntent,
    CarePlanStatus,
    CareTeamRole,
    GoalAchievement,
    GoalLifecycleStatus,
    HandoffStatus,
    ObservationCode,
    ObservationSource,
    ObservationStatus,
    ThresholdCode,
)
from .measurements import COMPONENT_BY_CODE, implausible, number_text
from .recurrence import recurrence_text

USER = settings.AUTH_USER_MODEL


class CarePlan(models.Model):
    """The shared care plan the three sectors coordinate around."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(Citizen, verbose_name=_("citizen"), on_delete=models.PROTECT, related_name="care_plans")
    title = models.CharField(_("title"), max_length=200)
    conditions = models.ManyToManyField(Condition, verbose_name=_("conditions addressed"), blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=CarePlanStatus.choices, default=CarePlanStatus.DRAFT)
    intent = models.CharField(_("intent"), max_length=20, choices=CarePlanIntent.choices, default=CarePlanIntent.PLAN)
    period_start = models.DateField(_("start"), default=timezone.localdate)
    period_end = models.DateField(_("end"), null=True, blank=True)
    coordinating_organisation = models.ForeignKey(
        Organisation, verbose_name=_("coordinating organisation"), on_delete=models.PROTECT, related_name="+"
    )
    coordinator = models.ForeignKey(
        USER,
        verbose_name=_("coordinator (tovholder)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_by_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        ordering = ["-period_start", "title"]
        constraints = [
            models.CheckConstraint(
                name="careplan_period_order",
                condition=Q(period_end__isnull=True) | Q(period_end__gte=models.F("period_start")),
                violation_error_message=_("The plan cannot end before it starts."),
            ),
            from_1900("careplan_period_from_1900", "period_start"),
        ]
        indexes = [models.Index(fields=["citizen", "status"], name="careplan_citizen_status")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        validate_dates(self, planned=("period_start", "period_end"), periods=(("period_start", "period_end"),))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PLAN_STATUSES


OPEN_PLAN_STATUSES = (CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD)


class CareTeamParticipant(models.Model):
    """An organisation (and optionally a named person) on the plan's care team for a period.
    Being on an active team of an open plan gives access to the citizen (the access policy)."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="participants")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="care_team_memberships"
    )
    person = models.ForeignKey(
        USER, verbose_name=_("person"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("role"), max_length=20, choices=CareTeamRole.choices, default=CareTeamRole.OTHER)
    period_start = models.DateField(_("from"), default=timezone.localdate)
    period_end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("care team participant")
        verbose_name_plural = _("care team")
        ordering = ["period_start", "pk"]
        constraints = [
            models.CheckConstraint(
                name="careteam_period_order",
                condition=Q(period_end__isnull=True) | Q(period_end__gte=models.F("period_start")),
                violation_error_message=_("Participation cannot end before it starts."),
            ),
            from_1900("careteam_period_from_1900", "period_start"),
        ]
        indexes = [
            models.Index(fields=["organisation", "period_end"], name="careteam_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_role_display()})"

    def is_active_on(self, day=None) -> bool:
        day = day or timezone.localdate()
        return self.period_start <= day and (self.period_end is None or self.period_end >= day)

    def clean(self) -> None:
        validate_dates(
            self, planned=("period_start", "period_end"), periods=(("period_start", "period_end"),), birth_date=None
        )


class AssignableItem(models.Model):
    """Common to goals and activities: owned by a named organisation, which may first have to
    accept it (a hand-off) when someone else assigned it."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="%(class)ss")
    description = models.TextField(_("description"))
    responsible_organisation = models.ForeignKey(
        Organisation, verbose_name=_("responsible organisation"), on_delete=models.PROTECT, related_name="+"
    )
    handoff_status = models.CharField(
        _("hand-off"),
        max_length=20,
        choices=HandoffStatus.choices,
        blank=True,
        help_text=_("Empty when the responsible organisation created the item itself."),
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True

    @property
    def awaiting_acceptance(self) -> bool:
        return self.handoff_status == HandoffStatus.REQUESTED

    DATE_RULES: dict = {"planned": ("due_date",)}

    def clean(self) -> None:
        birth_date = self.care_plan.citizen.birth_date if self.care_plan_id else None
        validate_dates(self, birth_date=birth_date, **self.DATE_RULES)


class Goal(AssignableItem):
    target_code = models.CharField(_("measured by"), max_length=10, choices=ThresholdCode.choices, blank=True)
    target_comparator = models.CharField(
        _("comparator"), max_length=2, blank=True, choices=[("<", "<"), ("<=", "≤"), (">", ">"), (">=", "≥")]
    )
    target_value = models.DecimalField(_("target value"), max_digits=8, decimal_places=2, null=True, blank=True)
    target_unit = models.CharField(_("unit"), max_length=20, blank=True)
    target_text = models.CharField(
        _("target"), max_length=200, blank=True, help_text=_("e.g. HbA1c < 53 mmol/mol, walks 30 minutes a day")
    )
    lifecycle_status = models.CharField(
        _("status"), max_length=20, choices=GoalLifecycleStatus.choices, default=GoalLifecycleStatus.PROPOSED
    )
    achievement = models.CharField(
        _("achievement"), max_length=20, choices=GoalAchievement.choices, default=GoalAchievement.IN_PROGRESS
    )

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                name="goal_measurable_target_complete",
                condition=Q(target_value__isnull=True) | (~Q(target_comparator="") & ~Q(target_unit="")),
                violation_error_message=_("A measurable target needs a comparator, a value and a unit."),
            )
        ]

    def __str__(self) -> str:
        return self.description[:80]

    @property
    def target_display(self) -> str:
        if self.target_value is None:
            return self.target_text
        parts = [self.get_target_code_display() if self.target_code else "", self.target_comparator]
        parts += [number_text(self.target_value), self.target_unit]
        return " ".join(p for p in parts if p)


class Activity(AssignableItem):
    responsible_person = models.ForeignKey(
        USER, verbose_name=_("responsible person"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ActivityStatus.choices, default=ActivityStatus.NOT_STARTED
    )
    # Recurrence: on these weekdays (comma-separated MO,TU,...) every `interval_weeks` weeks
    # from `starts_on`; empty weekdays means a one-off due on `due_date`.
    weekdays = models.CharField(_("weekdays"), max_length=30, blank=True)
    interval_weeks = models.PositiveSmallIntegerField(_("every … weeks"), default=1)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    last_done_on = models.DateField(_("last done"), null=True, blank=True)
    # Derived from the due date or the recurrence by the services; the "Today" list filters on it.
    next_due_on = models.DateField(_("next due"), null=True, blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                name="activity_interval_positive",
                condition=Q(interval_weeks__gte=1),
                violation_error_message=_("The interval is at least one week."),
            ),
            models.CheckConstraint(
                name="activity_recurrence_or_due",
                condition=Q(weekdays="") | Q(starts_on__isnull=False),
                violation_error_message=_("A recurring activity needs a start date."),
            ),
            period_order("activity_ends_not_before_start", "starts_on", "ends_on"),
        ]
        indexes = [
            models.Index(fields=["responsible_organisation", "status"], name="activity_owner_status"),
            models.Index(fields=["responsible_organisation", "next_due_on"], name="activity_owner_due"),
        ]

    def __str__(self) -> str:
        return self.description[:80]

    DATE_RULES: dict = {
        "planned": ("due_date", "starts_on", "ends_on"),
        "happened": ("last_done_on",),
        "periods": (("starts_on", "ends_on"),),
    }

    @property
    def weekday_list(self) -> list[str]:
        return [d for d in self.weekdays.split(",") if d]

    @property
    def recurrence_display(self) -> str:
        return recurrence_text(weekdays=self.weekday_list, interval_weeks=self.interval_weeks)


class Handoff(models.Model):
    """A request that another organisation takes responsibility for a goal or an activity."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, null=True, blank=True, related_name="handoffs")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, null=True, blank=True, related_name="handoffs")
    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="handoffs")
    from_organisation = models.ForeignKey(
        Organisation, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="handoffs_sent"
    )
    to_organisation = models.ForeignKey(
        Organisation, verbose_name=_("requested of"), on_delete=models.PROTECT, related_name="handoffs_received"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=HandoffStatus.choices, default=HandoffStatus.REQUESTED
    )
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    answered_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                name="handoff_exactly_one_item",
                condition=Q(goal__isnull=False, activity__isnull=True) | Q(goal__isnull=True, activity__isnull=False),
                violation_error_message=_("A hand-off is about one goal or one activity."),
            ),
            models.CheckConstraint(
                name="handoff_rejection_has_reason",
                condition=~Q(status=HandoffStatus.REJECTED) | ~Q(reason=""),
                violation_error_message=_("A rejection needs a reason."),
            ),
        ]
        indexes = [models.Index(fields=["to_organisation", "status"], name="handoff_inbox")]

    def __str__(self) -> str:
        return f"{self.item} → {self.to_organisation}"

    @property
    def item(self) -> Goal | Activity:
        return self.goal if self.goal_id else self.activity


class PlanChange(models.Model):
    """History: every change to a plan, its team, goals, activities and hand-offs."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    target_type = models.CharField(_("what"), max_length=20)
    target_id = models.CharField(max_length=40)
    target_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(_("change"), max_length=30)
    changes = models.JSONField(_("before and after"), default=dict, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("plan change")
        verbose_name_plural = _("plan history")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["care_plan", "at"], name="planchange_plan_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}"


class CareEvent(models.Model):
    """Outbox of domain events (hand-offs, alerts, overdue requests) for one organisation,
    written in the same transaction as the change; the messaging capability delivers them."""

    kind = models.CharField(_("kind"), max_length=30, choices=CareEventKind.choices)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="care_events")
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="+")
    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Idempotency: the same event is never recorded twice (e.g. "overdue" by a task run twice).
    dedupe_key = models.CharField(max_length=120, unique=True)

    class Meta:
        verbose_name = _("care event")
        verbose_name_plural = _("care events")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["processed_at", "created_at"], name="careevent_pending")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.organisation}"


# --- home monitoring -------------------------------------------------------------------------


class Observation(models.Model):
    """A home measurement. Never overwritten: a correction is a new observation that replaces
    the old one, which becomes amended or entered-in-error."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="observations")
    code = models.CharField(_("measurement"), max_length=10, choices=ObservationCode.choices)
    value = models.DecimalField(_("value"), max_digits=7, decimal_places=2)
    value_2 = models.DecimalField(
        _("second value"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The diastolic pressure of a blood pressure pair."),
    )
    unit = models.CharField(_("unit (UCUM)"), max_length=20)
    effective_at = models.DateTimeField(_("measured"))
    source = models.CharField(_("source"), max_length=20, choices=ObservationSource.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=ObservationStatus.choices, default=ObservationStatus.FINAL
    )
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by")
    entered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    entered_by_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)
    device_id = models.CharField(_("device"), max_length=100, blank=True)
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, help_text=_("The sender's id; a repeated id is not stored twice.")
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        ordering = ["-effective_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entered_by_organisation", "external_id"],
                condition=~Q(external_id=""),
                name="observation_unique_external_id",
                violation_error_message=_("This measurement was already received."),
            ),
            from_1900("observation_effective_from_1900", "effective_at", moment=True),
        ]
        indexes = [models.Index(fields=["citizen", "code", "effective_at"], name="observation_series")]

    def __str__(self) -> str:
        return f"{self.get_code_display()} {self.display_value}"

    def clean(self) -> None:
        validate_dates(self, happened=("effective_at",))

    @property
    def display_value(self) -> str:
        """The value as the reader's language writes it: 77,8 kg in Danish, 77.8 kg in English."""
        if self.value_2 is not None:
            return f"{number_text(self.value)}/{number_text(self.value_2)} {self.unit_display}"
        return f"{number_text(self.value)} {self.unit_display}"

    @property
    def unit_display(self) -> str:
        return "mmHg" if self.unit == "mm[Hg]" else self.unit


class Threshold(models.Model):
    """Yellow and red limits for one citizen and one measured quantity, set by a clinician with a
    reason. Versioned: a change closes the current version (valid_to) and adds a new one."""

    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="thresholds")
    code = models.CharField(_("measured quantity"), max_length=10, choices=ThresholdCode.choices)
    unit = models.CharField(_("unit (UCUM)"), max_length=20)
    red_low = models.DecimalField(_("red below"), max_digits=7, decimal_places=2, null=True, blank=True)
    yellow_low = models.DecimalField(_("yellow below"), max_digits=7, decimal_places=2, null=True, blank=True)
    yellow_high = models.DecimalField(_("yellow above"), max_digits=7, decimal_places=2, null=True, blank=True)
    red_high = models.DecimalField(_("red above"), max_digits=7, decimal_places=2, null=True, blank=True)
    reason = models.TextField(_("reason"))
    version = models.PositiveIntegerField(default=1)
    set_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    set_by_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_to = models.DateTimeField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("threshold")
        verbose_name_plural = _("thresholds")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["citizen", "code"],
                condition=Q(valid_to__isnull=True),
                name="threshold_one_current",
                violation_error_message=_("There is already a current threshold for this measurement."),
            ),
            models.UniqueConstraint(fields=["citizen", "code", "version"], name="threshold_unique_version"),
            models.CheckConstraint(
                name="threshold_ordered",
                condition=(
                    Q(red_low__isnull=True) | Q(yellow_low__isnull=True) | Q(red_low__lte=models.F("yellow_low"))
                )
                & (Q(yellow_high__isnull=True) | Q(red_high__isnull=True) | Q(yellow_high__lte=models.F("red_high")))
                & (
                    Q(yellow_low__isnull=True) | Q(yellow_high__isnull=True) | Q(yellow_low__lt=models.F("yellow_high"))
                ),
                violation_error_message=_("Limits must be ordered: red low ≤ yellow low < yellow high ≤ red high."),
            ),
            period_order("threshold_validity_order", "valid_from", "valid_to"),
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} v{self.version}"

    def clean(self) -> None:
        """Limits lie within the plausibility range the observations obey: no reading reaches
        a limit outside it, so such a limit would silently alert on nothing."""
        errors = date_errors(self, since=("valid_from",), periods=(("valid_from", "valid_to"),))
        for name in ("red_low", "yellow_low", "yellow_high", "red_high"):
            value = getattr(self, name)
            problem = implausible(self.code, value) if self.code in COMPONENT_BY_CODE and value is not None else None
            if problem:
                errors.setdefault(name, []).append(problem)
        raise_errors(errors)


class MonitoringSchedule(models.Model):
    """A measurement the citizen is expected to take regularly; if none arrives on time a
    "missing measurement" alert is raised for the monitoring organisation."""

    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="monitoring_schedules")
    care_plan = models.ForeignKey(
        CarePlan, on_delete=models.CASCADE, null=True, blank=True, related_name="monitoring_schedules"
    )
    code = models.CharField(_("measurement"), max_length=10, choices=ObservationCode.choices)
    every_hours = models.PositiveIntegerField(_("expected every … hours"), default=24)
    grace_hours = models.PositiveIntegerField(_("grace period (hours)"), default=6)
    monitoring_organisation = models.ForeignKey(
        Organisation, verbose_name=_("monitored by"), on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("from"), default=timezone.now)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("monitoring schedule")
        verbose_name_plural = _("monitoring schedules")
        constraints = [
            models.CheckConstraint(
                name="schedule_every_positive",
                condition=Q(every_hours__gte=1),
                violation_error_message=_("At least one hour between measurements."),
            ),
            period_order("schedule_ends_after_start", "starts_at", "ends_at", strict=True),
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} / {self.every_hours} h"

    def clean(self) -> None:
        validate_dates(self, planned=("starts_at", "ends_at"), strict_periods=(("starts_at", "ends_at"),))


class Alert(models.Model):
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="alerts")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("for"), on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=AlertSeverity.choices)
    code = models.CharField(_("measurement"), max_length=10)
    observation = models.ForeignKey(Observation, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    threshold = models.ForeignKey(Threshold, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    schedule = models.ForeignKey(MonitoringSchedule, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    acknowledgement_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "observation", "code"],
                condition=Q(observation__isnull=False),
                name="alert_once_per_observation",
            ),
            models.UniqueConstraint(
                fields=["organisation", "schedule"],
                condition=Q(kind=AlertKind.MISSING, acknowledged_at__isnull=True),
                name="alert_one_open_missing_per_schedule",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "acknowledged_at", "severity"], name="alert_worklist")]

    def __str__(self) -> str:
        return self.message

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
