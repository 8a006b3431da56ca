"""Value sets of the messaging capability: MedCom's where MedCom has one (DOMAIN.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MessageType(models.TextChoices):
    CARE_COMMUNICATION = "care-communication", _("Care communication")
    HOSPITAL_NOTIFICATION = "hospital-notification", _("Hospital notification")
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    NOTIFICATION = "notification", _("Portal notification")


class Category(models.TextChoices):
    """CareCommunication categories (dk-medcom-carecommunication)."""

    ALCOHOL_AND_DRUG_TREATMENT = "alcohol-and-drug-treatment", _("Alcohol and drug treatment")
    ASSISTIVE_DEVICES = "assistive-devices", _("Assistive devices")
    CARECOORDINATION = "carecoordination", _("Care coordination")
    DECEASE = "decease", _("Decease")
    DISCHARGE = "discharge", _("Discharge")
    EXAMINATION_RESULTS = "examination-results", _("Examination results")
    HEALTHCARE = "healthcare", _("Health care")
    HOME_CARE_ASSESSMENT = "home-care-assessment", _("Home-care assessment")
    MEDICINE = "medicine", _("Medicine")
    NURSING = "nursing", _("Nursing")
    OUTPATIENT = "outpatient", _("Outpatient")
    PSYCHIATRY_SOCIAL_DISABILITY = "psychiatry-social-disability", _("Psychiatry, social and disability")
    REGARDING_REFERRAL = "regarding-referral", _("Regarding referral")
    TELEMEDICINE = "telemedicine", _("Telemedicine")
    TRAINING = "training", _("Training")
    ACUTE_AMBULANT = "acute-ambulant", _("Acute ambulant")
    EXTENDED_CARE_RESPONSIBILITY = "extended-care-responsibility", _("Extended care responsibility")
    OTHER = "other", pgettext_lazy("message category", "Other")


class Priority(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    ASAP = "asap", _("As soon as possible")


class Activity(models.TextChoices):
    """How a message came about (the Provenance activity of a CareCommunication)."""

    NEW = "new-message", _("New message")
    REPLY = "reply-message", _("Reply")
    FORWARD = "forward-message", _("Forward")


class HospitalCode(models.TextChoices):
    """The Danish HospitalNotification codes (dk-medcom-hospitalnotification)."""

    STAA = "STAA", _("Started, acute ambulant")
    STIN = "STIN", _("Admitted")
    STOR = "STOR", _("Leave started")
    SLOR = "SLOR", _("Leave ended")
    SLHJ = "SLHJ", _("Discharged home")
    MORS = "MORS", _("Died")


class Revision(models.TextChoices):
    """A hospital notification is new, corrects an earlier one (RE_) or cancels it (AN_)."""

    NEW = "new", _("New")
    CORRECTION = "correction", _("Correction")
    CANCELLATION = "cancellation", _("Cancellation")


class RecipientRole(models.TextChoices):
    PRIMARY = "primary", _("Receiver")
    CC = "cc", _("Copy")


class AckCode(models.TextChoices):
    """Acknowledgement response codes (dk-medcom-acknowledgement)."""

    OK = "ok", _("Received")
    TRANSIENT_ERROR = "transient-error", _("Temporary error")
    FATAL_ERROR = "fatal-error", _("Rejected")


class Channel(models.TextChoices):
    IN_APP = "in-app", _("Inbox")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    EMAIL_DIGEST = "email-digest", _("Daily digest")
    EMAIL_NOTICE = "email-notice", _("E-mail notice")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class AttemptOutcome(models.TextChoices):
    OK = "ok", _("Delivered")
    DUPLICATE = "duplicate", _("Already delivered")
    TRANSIENT = "transient", _("Temporary failure")
    PERMANENT = "permanent", _("Permanent failure")


class EmailMode(models.TextChoices):
    IMMEDIATELY = "immediately", _("Immediately")
    DIGEST = "digest", _("Daily digest")
    OFF = "off", _("Off")


class NoticeKind(models.TextChoices):
    """The portal's own notifications: the care-plan events plus the messaging's own."""

    HANDOFF_REQUESTED = "handoff-requested", _("Hand-off requested")
    HANDOFF_ACCEPTED = "handoff-accepted", _("Hand-off accepted")
    HANDOFF_REJECTED = "handoff-rejected", _("Hand-off rejected")
    HANDOFF_REASSIGNED = "handoff-reassigned", _("Hand-off reassigned")
    HANDOFF_OVERDUE = "handoff-overdue", _("Request overdue")
    ALERT_RAISED = "alert-raised", _("Alert raised")
    NOT_ACKNOWLEDGED = "not-acknowledged", _("Message not acknowledged")
    DELIVERY_FAILED = "delivery-failed", _("Delivery failed")
    UNHANDLED_REMINDER = "unhandled-reminder", _("Unhandled message")
    HOSPITAL_EVENT = "hospital-event", _("Hospital event in a care plan you coordinate")
