"""Value sets follow FHIR R4 (DOMAIN.md), so plans can be exchanged as FHIR without mapping loss."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CarePlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    ON_HOLD = "on-hold", _("On hold")
    REVOKED = "revoked", _("Revoked")
    COMPLETED = "completed", _("Completed")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


class CarePlanIntent(models.TextChoices):
    PROPOSAL = "proposal", _("Proposal")
    PLAN = "plan", _("Plan")
    ORDER = "order", _("Order")
    OPTION = "option", _("Option")


class GoalLifecycleStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    PLANNED = "planned", _("Planned")
    ACCEPTED = "accepted", _("Accepted")
    ACTIVE = "active", _("Active")
    ON_HOLD = "on-hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")
    REJECTED = "rejected", _("Rejected")


class GoalAchievement(models.TextChoices):
    IN_PROGRESS = "in-progress", _("In progress")
    IMPROVING = "improving", _("Improving")
    WORSENING = "worsening", _("Worsening")
    NO_CHANGE = "no-change", _("No change")
    ACHIEVED = "achieved", _("Achieved")
    NOT_ACHIEVED = "not-achieved", _("Not achieved")


class ActivityStatus(models.TextChoices):
    NOT_STARTED = "not-started", _("Not started")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in-progress", _("In progress")
    ON_HOLD = "on-hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    STOPPED = "stopped", _("Stopped")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


class CareTeamRole(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator (tovholder)")
    GENERAL_PRACTICE = "general-practice", _("General practice")
    HOSPITAL = "hospital", _("Hospital")
    HOME_CARE = "home-care", _("Home care")
    REHABILITATION = "rehabilitation", _("Rehabilitation")
    OTHER = "other", _("Other")


class HandoffStatus(models.TextChoices):
    """The FHIR Task statuses a hand-off between organisations goes through."""

    REQUESTED = "requested", _("Awaiting answer")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Withdrawn")


class Weekday(models.TextChoices):
    MO = "MO", _("Monday")
    TU = "TU", _("Tuesday")
    WE = "WE", _("Wednesday")
    TH = "TH", _("Thursday")
    FR = "FR", _("Friday")
    SA = "SA", _("Saturday")
    SU = "SU", _("Sunday")


class CareEventKind(models.TextChoices):
    """Domain events the messaging capability turns into notifications."""

    HANDOFF_REQUESTED = "handoff-requested", _("Hand-off requested")
    HANDOFF_ACCEPTED = "handoff-accepted", _("Hand-off accepted")
    HANDOFF_REJECTED = "handoff-rejected", _("Hand-off rejected")
    HANDOFF_REASSIGNED = "handoff-reassigned", _("Hand-off reassigned")
    HANDOFF_OVERDUE = "handoff-overdue", _("Request overdue")
    ALERT_RAISED = "alert-raised", _("Alert raised")


class ObservationCode(models.TextChoices):
    """Home-monitoring LOINC codes (DOMAIN.md)."""

    BLOOD_PRESSURE = "85354-9", _("Blood pressure")
    HEART_RATE = "8867-4", _("Heart rate")
    SPO2 = "59408-5", _("Oxygen saturation (SpO2)")
    BODY_WEIGHT = "29463-7", _("Body weight")
    BLOOD_GLUCOSE = "15074-8", _("Blood glucose")
    FEV1 = "20150-9", _("FEV1")


class ThresholdCode(models.TextChoices):
    """What a threshold applies to: blood pressure has one per component."""

    SYSTOLIC = "8480-6", _("Systolic blood pressure")
    DIASTOLIC = "8462-4", _("Diastolic blood pressure")
    HEART_RATE = "8867-4", _("Heart rate")
    SPO2 = "59408-5", _("Oxygen saturation (SpO2)")
    BODY_WEIGHT = "29463-7", _("Body weight")
    BLOOD_GLUCOSE = "15074-8", _("Blood glucose")
    FEV1 = "20150-9", _("FEV1")


class ObservationStatus(models.TextChoices):
    FINAL = "final", _("Final")
    AMENDED = "amended", _("Amended")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


class ObservationSource(models.TextChoices):
    CITIZEN = "citizen", _("The citizen at home")
    DEVICE = "device", _("Device")
    HOME_CARE = "home-care", _("Home-care staff")
    GP = "gp", _("GP")
    HOSPITAL = "hospital", _("Hospital")


class AlertSeverity(models.TextChoices):
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class AlertKind(models.TextChoices):
    THRESHOLD = "threshold", _("Outside threshold")
    MISSING = "missing", _("Missing measurement")
