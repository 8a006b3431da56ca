"""Messages between organisations, their receivers, deliveries and acknowledgements.

A message keeps its MedCom MessageHeader id as the sender wrote it (any FHIR id; ``ids``), and its
UUID primary key is derived from it: a resend keeps the id, and a second arrival of the same id is
a duplicate (answered with the same acknowledgement, never shown twice). Delivery rows are
the outbox: written in the same transaction as the message, claimed by the worker, every attempt
recorded.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.models import Citizen, HospitalStay
from sectors.models import Organisation
from smartcare.validators import from_1900, validate_dates

from . import labels
from .choices import (
    AckCode,
    Activity,
    AttemptOutcome,
    Category,
    Channel,
    DeliveryStatus,
    EmailMode,
    HospitalCode,
    MessageType,
    NoticeKind,
    Priority,
    RecipientRole,
    Revision,
)
from .ids import new_bundle_id

USER = settings.AUTH_USER_MODEL


class Thread(models.Model):
    """A conversation about one citizen: replies and forwards join their message's thread and
    keep its category and topic."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(Citizen, verbose_name=_("citizen"), on_delete=models.PROTECT, related_name="threads")
    category = models.CharField(_("category"), max_length=40, choices=Category.choices, blank=True)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_message_at = models.DateTimeField(_("last message"), default=timezone.now)

    class Meta:
        verbose_name = _("thread")
        verbose_name_plural = _("threads")
        ordering = ["-last_message_at"]

    def __str__(self) -> str:
        return self.topic or self.get_category_display() or str(self.pk)


class Message(models.Model):
    # ``ids.message_key(header_id)``: whoever creates a message sets both.
    id = models.UUIDField(_("message id"), primary_key=True, default=uuid.uuid4, editable=False)
    # The MessageHeader id exactly as the sender wrote it (a portal message's is ``str(id)``): what
    # duplicates, replies and acknowledgements are matched by, and what exports give back.
    header_id = models.CharField(_("MessageHeader id"), max_length=64, editable=False)
    type = models.CharField(_("type"), max_length=30, choices=MessageType.choices)
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    parent = models.ForeignKey(
        "self", verbose_name=_("in reply to"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The MessageHeader id of the earlier message a received reply or forward names, while that
    # message has not arrived: when it does, the reply joins its thread (MedCom: receivers must
    # not assume an order).
    answers_header_id = models.CharField(
        _("answers MessageHeader id"), max_length=64, blank=True, default="", db_default=""
    )
    activity = models.CharField(_("activity"), max_length=20, choices=Activity.choices, default=Activity.NEW)
    citizen = models.ForeignKey(Citizen, verbose_name=_("citizen"), on_delete=models.PROTECT, related_name="messages")
    sender = models.ForeignKey(
        Organisation, verbose_name=_("sender"), on_delete=models.PROTECT, related_name="sent_messages"
    )
    author = models.ForeignKey(
        USER, verbose_name=_("author"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(_("author"), max_length=200, blank=True)
    author_phone = models.CharField(_("author's phone"), max_length=40, blank=True)
    # care communication
    category = models.CharField(_("category"), max_length=40, choices=Category.choices, blank=True)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    text = models.TextField(_("text"), blank=True)
    # hospital notification
    hospital_code = models.CharField(_("hospital event"), max_length=4, choices=HospitalCode.choices, blank=True)
    # A hospital notification's name and address of the citizen where they differ from the
    # portal's: kept and shown as given by the sender, never written to the citizen.
    given_name = models.CharField(_("name as given by the sender"), max_length=200, blank=True)
    given_address = models.CharField(_("address as given by the sender"), max_length=300, blank=True)
    revision = models.CharField(_("revision"), max_length=20, choices=Revision.choices, default=Revision.NEW)
    revises = models.ForeignKey(
        "self",
        verbose_name=_("corrects or cancels"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revisions",
    )
    department = models.ForeignKey(
        Organisation,
        verbose_name=_("hospital department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    stay = models.ForeignKey(
        HospitalStay,
        verbose_name=_("hospital stay"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("time of event"), null=True, blank=True)
    # acknowledgement
    acknowledges = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="acknowledgements"
    )
    ack_code = models.CharField(_("response"), max_length=20, choices=AckCode.choices, blank=True)
    ack_reason = models.TextField(_("reason"), blank=True)
    # portal notification
    notice_kind = models.CharField(_("notification"), max_length=30, choices=NoticeKind.choices, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    source_key = models.CharField(
        max_length=160,
        unique=True,
        null=True,
        blank=True,
        help_text=_("What caused a portal notification; the same cause never notifies twice."),
    )
    # Bundle id of the last transmission (a resend gets a new one, the message id stays): any FHIR
    # id for a received message, a UUID for one the portal sends.
    bundle_id = models.CharField(_("Bundle id"), max_length=64, default=new_bundle_id, editable=False)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["sent_at", "pk"]
        indexes = [
            models.Index(fields=["citizen", "-sent_at"], name="message_citizen"),
            # The sent box, newest first: a GP clinic's page read its 3,000 messages to sort them.
            models.Index(fields=["sender", "-sent_at"], name="message_sent_box"),
            # $process-message refuses a Bundle id another message was sent with: without it, every
            # incoming bundle read all 2 M messages (450 ms) and the write path took 3 sends/s.
            models.Index(fields=["bundle_id"], name="message_bundle"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["header_id"],
                name="message_header_id_unique",
                violation_error_message=_("A message with this MessageHeader id already exists."),
            ),
            models.CheckConstraint(
                name="message_header_id_set",
                condition=~Q(header_id=""),
                violation_error_message=_("A message must have a MessageHeader id."),
            ),
            models.CheckConstraint(
                name="message_asap_only_regarding_referral",
                condition=Q(priority=Priority.ROUTINE) | Q(category=Category.REGARDING_REFERRAL),
                violation_error_message=_("Priority 'as soon as possible' is only for messages regarding a referral."),
            ),
            models.CheckConstraint(
                name="message_topic_for_other",
                condition=~Q(category=Category.OTHER) | ~Q(topic=""),
                violation_error_message=_("A topic is required when the category is 'other'."),
            ),
            models.UniqueConstraint(
                fields=["acknowledges", "sender"],
                name="message_one_ack_per_receiver",
                violation_error_message=_("The message is already acknowledged by this organisation."),
            ),
            from_1900("message_occurred_from_1900", "occurred_at", moment=True),
        ]

    def __str__(self) -> str:
        if self.type == MessageType.HOSPITAL_NOTIFICATION:
            return f"{self.hospital_code_label} {self.hospital_event_label}"
        if self.type == MessageType.NOTIFICATION:
            return self.get_notice_kind_display()
        return self.topic or self.get_category_display() or self.get_type_display()

    def clean(self) -> None:
        """A hospital event in a notification has happened, during the citizen's life."""
        validate_dates(self, happened=("occurred_at",))

    @property
    def hospital_code_label(self) -> str:
        """The Danish code as MedCom writes it: STIN, RE_STIN, AN_STIN."""
        return labels.hospital_code_label(self.hospital_code, self.revision)

    @property
    def hospital_event_label(self) -> str:
        """What the event is called: "Admitted", "Cancelled: admission" (``labels``)."""
        return labels.hospital_event_label(self.hospital_code, self.revision)

    @property
    def is_cross_organisation(self) -> bool:
        return self.type in (MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION)


class Recipient(models.Model):
    """One receiving organisation of a message: where it is in that organisation's inbox, who it
    is assigned to, whether it is handled, and the acknowledgement the organisation gave."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="recipients")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("receiver"), on_delete=models.PROTECT, related_name="received_messages"
    )
    role = models.CharField(_("role"), max_length=10, choices=RecipientRole.choices, default=RecipientRole.PRIMARY)
    received_at = models.DateTimeField(_("in the inbox since"), null=True, blank=True)
    duplicates = models.PositiveIntegerField(_("duplicates received"), default=0)
    assigned_to = models.ForeignKey(
        USER, verbose_name=_("assigned to"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # reliable messaging: the acknowledgement from this receiver, resends, the sender alerted
    ack_code = models.CharField(_("acknowledgement"), max_length=20, choices=AckCode.choices, blank=True)
    ack_reason = models.TextField(_("reason"), blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last sent"), default=timezone.now)
    resends = models.PositiveSmallIntegerField(_("resends"), default=0)
    unacknowledged_alerted_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(_("reminded"), null=True, blank=True)

    class Meta:
        verbose_name = _("receiver")
        verbose_name_plural = _("receivers")
        ordering = ["-role", "pk"]  # the primary receiver before the copies
        constraints = [
            models.UniqueConstraint(
                fields=["message", "organisation"],
                name="recipient_once_per_message",
                violation_error_message=_("The organisation is already a receiver of this message."),
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "-received_at"], name="recipient_inbox"),
            models.Index(fields=["acknowledged_at", "last_sent_at"], name="recipient_unacknowledged"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_role_display()})"


class ReadMark(models.Model):
    """Read state is per user (handled state is per organisation, on the receiver)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="read_marks")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="readmark_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.message_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.message_id}/{uuid.uuid4().hex}"


def kept_upload_path(instance: KeptUpload, filename: str) -> str:
    return f"kept/{instance.token.hex}"


class KeptUpload(models.Model):
    """A file chosen on a message form that had an error, kept for a short while so the user
    does not need to choose it again. Only its owner can use it; a task removes it when it
    expires (``KEPT_UPLOAD_HOURS``) and sending the message removes it at once."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=kept_upload_path)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("file type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("kept upload")
        verbose_name_plural = _("kept uploads")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.filename


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("file type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class WebhookEndpoint(models.Model):
    """An organisation's own system, which receives its messages signed with the organisation's
    secret (HMAC-SHA256)."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="webhook"
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=100, default=secrets.token_urlsafe, editable=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        """Signed but not encrypted over plain HTTP: refused where the deliveries would refuse it."""
        if getattr(settings, "MESSAGING_WEBHOOK_REQUIRE_HTTPS", False) and not self.url.lower().startswith("https://"):
            raise ValidationError({"url": _("The URL must begin with https://.")})


class Delivery(models.Model):
    """The outbox: one row per receiver and channel (and per member, for e-mail); a daily digest
    is one row per user and day, for its ``DigestRun`` instead of a message; an e-mail notice of
    something kept outside the inbox (a raised alert) is one row per member, for its ``EmailNotice``."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    digest = models.OneToOneField("DigestRun", on_delete=models.CASCADE, null=True, blank=True, related_name="delivery")
    email_notice = models.ForeignKey(
        "EmailNotice", on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    user = models.ForeignKey(USER, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # When its task last went to the broker (written, retried, swept, sent again by a person):
    # how the sweeper tells a task still queued from a lost one (``delivery.deliveries_sweep``).
    enqueued_at = models.DateTimeField(_("enqueued"), default=timezone.now, db_default=Now())
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["status", "enqueued_at"], name="delivery_enqueued"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(channel=Channel.EMAIL_DIGEST, digest__isnull=False, user__isnull=False)
                    & Q(message__isnull=True, recipient__isnull=True, email_notice__isnull=True)
                )
                | (
                    Q(channel=Channel.EMAIL_NOTICE, email_notice__isnull=False, user__isnull=False)
                    & Q(message__isnull=True, recipient__isnull=True, digest__isnull=True)
                )
                | (
                    ~Q(channel__in=[Channel.EMAIL_DIGEST, Channel.EMAIL_NOTICE])
                    & Q(digest__isnull=True, email_notice__isnull=True, message__isnull=False, recipient__isnull=False)
                ),
                name="delivery_of_a_message_digest_or_notice",
                violation_error_message=_(
                    "A delivery is of a message to a receiver, of a user's daily digest or of an e-mail notice."
                ),
            ),
        ]

    def __str__(self) -> str:
        if self.digest_id or self.email_notice_id:
            return f"{self.get_channel_display()} → {self.user}"
        return f"{self.get_channel_display()} → {self.recipient.organisation}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=AttemptOutcome.choices)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.get_outcome_display()}"


class EmailPreference(models.Model):
    """A user's choice of e-mail notices for one message type (no row: immediately)."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="email_preferences")
    message_type = models.CharField(_("message type"), max_length=30, choices=MessageType.choices)
    mode = models.CharField(_("e-mail"), max_length=15, choices=EmailMode.choices, default=EmailMode.IMMEDIATELY)

    class Meta:
        verbose_name = _("e-mail preference")
        verbose_name_plural = _("e-mail preferences")
        constraints = [models.UniqueConstraint(fields=["user", "message_type"], name="emailpreference_once")]

    def __str__(self) -> str:
        return f"{self.get_message_type_display()}: {self.get_mode_display()}"


class DigestRun(models.Model):
    """One daily digest per user and day: the beat task may run twice."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    messages = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digestrun_once_a_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"


class EmailNotice(models.Model):
    """Something that lives outside the inbox (a raised alert: the alert list and the dashboard)
    told by e-mail only, without health data. One row per cause (``source_key``), for the
    organisation whose members are told; its deliveries (channel ``email-notice``, one per member
    who wants e-mail) are claimed, retried and listed like any other e-mail."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("notification"), max_length=30, choices=NoticeKind.choices)
    link = models.CharField(_("link"), max_length=300, blank=True)
    source_key = models.CharField(max_length=160, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name, verbose_name_plural = _("e-mail notice"), _("e-mail notices")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.organisation}"


class HospitalEvent(models.Model):
    """A stay event recorded by a hospital: what changed the citizen's stay and which hospital
    notification told the municipality. A correction or cancellation points at the event it
    revises."""

    citizen = models.ForeignKey(Citizen, verbose_name=_("citizen"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Organisation, verbose_name=_("hospital department"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("event"), max_length=4, choices=HospitalCode.choices)
    revision = models.CharField(_("revision"), max_length=20, choices=Revision.choices, default=Revision.NEW)
    revises = models.ForeignKey(
        "self", verbose_name=_("revises"), on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    occurred_at = models.DateTimeField(_("time of event"))
    stay = models.ForeignKey(HospitalStay, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="hospital_event")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    superseded = models.BooleanField(_("corrected or cancelled"), default=False)

    class Meta:
        verbose_name = _("hospital event")
        verbose_name_plural = _("hospital events")
        ordering = ["-occurred_at", "-pk"]
        constraints = [from_1900("hospitalevent_occurred_from_1900", "occurred_at", moment=True)]

    def __str__(self) -> str:
        return f"{self.message.hospital_code_label} {self.occurred_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        validate_dates(self, happened=("occurred_at",))

    @property
    def label(self) -> str:
        """What the event is called: "Admitted", "Cancelled: admission" (``labels``)."""
        return labels.hospital_event_label(self.code, self.revision)


class FhirReceipt(models.Model):
    """A message bundle received at ``$process-message`` and the acknowledgement given for it.

    One row per Bundle id: a resend of the same MessageHeader id (a new Bundle id) is answered
    with the acknowledgement stored here, word for word, and creates nothing; a Bundle id that
    arrives again naming another MessageHeader is refused. Only bundles whose sender was proven
    (the token's organisation) are recorded, so nobody can block another sender's message ids."""

    bundle_id = models.CharField(_("Bundle id"), max_length=64, unique=True)
    header_id = models.CharField(_("MessageHeader id"), max_length=64, db_index=True)
    sender = models.ForeignKey(Organisation, verbose_name=_("sender"), on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ack_code = models.CharField(_("acknowledgement"), max_length=20, choices=AckCode.choices)
    ack_bundle = models.JSONField(_("acknowledgement sent"))
    duplicate = models.BooleanField(_("duplicate"), default=False)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("FHIR receipt")
        verbose_name_plural = _("FHIR receipts")
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.header_id} ({self.bundle_id})"


class FhirCall(models.Model):
    """One call of ``$process-message``: the account that posted it (a gateway's or an
    organisation's integration) and how it was answered. The administrators' page of gateways
    and integrations reads their traffic and last errors from it; appending never waits."""

    user = models.ForeignKey(USER, verbose_name=_("account"), on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    header_id = models.CharField(_("MessageHeader id"), max_length=64, blank=True)
    event = models.CharField(_("event"), max_length=60, blank=True)
    status = models.PositiveSmallIntegerField(_("HTTP status"))
    ack_code = models.CharField(_("acknowledgement"), max_length=20, blank=True)
    issue = models.CharField(_("error code"), max_length=60, blank=True)
    text = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("FHIR call")
        verbose_name_plural = _("FHIR calls")
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "-at"], name="fhircall_user_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.header_id or '-'} {self.ack_code or self.status}"

    @property
    def failed(self) -> bool:
        return self.status >= 400 or self.ack_code not in ("", "ok")
