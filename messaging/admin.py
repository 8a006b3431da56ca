"""The admin for messages, their deliveries and the organisations' webhooks.

As everywhere in the admin (``smartcare.admin``): superusers see every row; everybody else sees only rows about citizens
inside the access gate of the organisation they act for, and of those only what that organisation
sent or received (a message between two other organisations about a shared citizen stays theirs).
Messages, receivers, hospital events and attempts are written by the services and the delivery
engine only, so these pages show them and never change them; looking at them is written to the
access log like anywhere else. What an administrator does change here: an organisation's webhook
(URL and on/off; the secret is generated and only shown), and a failed delivery can be sent again
(the action calls ``services.delivery_retry``, which decides who may).
"""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from citizens.access import actor_from_request
from citizens.admin import DepartmentFilter
from sectors.acting import acting_for
from sectors.models import Organisation, User
from smartcare.admin import GatedAdmin, ReadOnlyInline, ReadOnlyMixin

from .choices import DeliveryStatus
from .ids import is_fhir_id
from .models import (
    Attachment,
    Delivery,
    DeliveryAttempt,
    EmailPreference,
    HospitalEvent,
    Message,
    Recipient,
    Thread,
    WebhookEndpoint,
)
from .services import delivery_retry


def _received_by(org_id: int):
    return Recipient.objects.filter(organisation_id=org_id).values("message_id")


def _acting_org_id(request) -> int | None:
    acting = acting_for(request)
    return acting.organisation.pk if acting else None


class MessagingAdmin(GatedAdmin):
    """Gated by citizen (``GatedAdmin``), then narrowed to what the acting organisation took part
    in (``involved``). A message, thread or delivery id pasted into the search box finds it."""

    def involved(self, org_id: int) -> Q:
        raise NotImplementedError

    def id_q(self, value: uuid.UUID) -> Q:
        return Q(pk=value)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        org_id = _acting_org_id(request)
        return qs.filter(self.involved(org_id)) if org_id else qs.none()

    def get_search_results(self, request, queryset, search_term):
        try:
            value = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(self.id_q(value)), False


def _involved_in_message(org_id: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}sender_id": org_id}) | Q(**{f"{prefix}pk__in": _received_by(org_id)})


# --- messages and threads ---------------------------------------------------------------------------


class RecipientInline(ReadOnlyInline):
    model = Recipient
    fields = [
        "organisation",
        "role",
        "received_at",
        "duplicates",
        "ack_code",
        "acknowledged_at",
        "resends",
        "assigned_to",
        "handled_at",
        "handled_by",
    ]
    related = ("organisation", "assigned_to", "handled_by")


class AttachmentInline(ReadOnlyInline):
    """Name, type and size only: the file itself is opened in the portal, behind the gate."""

    model = Attachment
    fields = ["filename", "content_type", "size"]


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ["channel", "recipient", "user", "status", "attempts", "next_attempt_at", "delivered_at", "last_error"]
    related = ("recipient__organisation", "user")
    show_change_link = True


@admin.register(Message)
class MessageAdmin(MessagingAdmin):
    list_display = ["sent_at", "summary", "type", "citizen", "sender", "receivers", "priority"]
    list_filter = ["type", "category", "priority", "hospital_code"]
    list_select_related = ["citizen", "sender"]
    search_help_text = _("The citizen's CPR number or name, or a message, MessageHeader, Bundle or thread id.")
    date_hierarchy = "sent_at"
    inlines = [RecipientInline, AttachmentInline, DeliveryInline]
    readonly_fields = ["id", "header_id", "bundle_id"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "header_id",
                    "bundle_id",
                    "type",
                    "activity",
                    "thread",
                    "parent",
                    "citizen",
                    "sender",
                    "author",
                    "author_name",
                    "author_phone",
                    "sent_at",
                ]
            },
        ),
        (_("Care communication"), {"fields": ["category", "topic", "priority", "text"]}),
        (
            _("Hospital notification"),
            {"fields": ["hospital_code", "revision", "revises", "department", "stay", "occurred_at"]},
        ),
        (_("Acknowledgement"), {"fields": ["acknowledges", "ack_code", "ack_reason"]}),
        (_("Portal notification"), {"fields": ["notice_kind", "link", "source_key"]}),
    ]

    def involved(self, org_id: int) -> Q:
        return _involved_in_message(org_id)

    def id_q(self, value: uuid.UUID) -> Q:
        return Q(pk=value) | Q(bundle_id=str(value)) | Q(thread_id=value)

    def get_search_results(self, request, queryset, search_term):
        """A MessageHeader or Bundle id as its sender wrote it (any FHIR id, e.g.
        ``medcom-msg.0001``; not only a UUID) finds its message too."""
        term = search_term.strip()
        if is_fhir_id(term):
            by_id = queryset.filter(Q(header_id=term) | Q(bundle_id=term))
            if by_id.exists():
                return by_id, False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("recipients__organisation")

    @admin.display(description=_("message"))
    def summary(self, obj: Message) -> str:
        return str(obj)

    @admin.display(description=_("receivers"))
    def receivers(self, obj: Message) -> str:
        return ", ".join(str(r.organisation) for r in obj.recipients.all())


class ThreadMessageInline(ReadOnlyInline):
    model = Message
    fk_name = "thread"
    verbose_name_plural = _("messages")
    fields = ["sent_at", "type", "activity", "sender", "author_name", "category", "hospital_code", "revision"]
    related = ("sender",)
    show_change_link = True

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        org_id = _acting_org_id(request)
        return qs.filter(_involved_in_message(org_id)) if org_id else qs.none()


@admin.register(Thread)
class ThreadAdmin(MessagingAdmin):
    list_display = ["last_message_at", "__str__", "citizen", "category", "created_at"]
    list_filter = ["category"]
    list_select_related = ["citizen"]
    search_help_text = _("The citizen's CPR number or name, or a thread id.")
    fields = ["id", "citizen", "category", "topic", "created_at", "last_message_at"]
    readonly_fields = ["id"]
    inlines = [ThreadMessageInline]

    def involved(self, org_id: int) -> Q:
        return Q(pk__in=Message.objects.filter(_involved_in_message(org_id)).values("thread_id"))


# --- deliveries -------------------------------------------------------------------------------------


class DeliveryStatusFilter(admin.SimpleListFilter):
    """The built-in status filter, with the number of failed deliveries on its "Failed" choice
    (one COUNT, answered from the status index): what needs a person is visible at once."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        failed = model_admin.get_queryset(request).filter(status=DeliveryStatus.FAILED).count()
        return [
            (value, f"{label} ({failed})" if value == DeliveryStatus.FAILED else label)
            for value, label in DeliveryStatus.choices
        ]

    def queryset(self, request, queryset):
        if self.value() in DeliveryStatus.values:
            return queryset.filter(status=self.value())
        return queryset


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["started_at", "finished_at", "outcome", "error"]


def _involved_in_delivery(org_id: int, prefix: str = "") -> Q:
    return Q(**{f"{prefix}recipient__organisation_id": org_id}) | Q(**{f"{prefix}message__sender_id": org_id})


@admin.register(Delivery)
class DeliveryAdmin(MessagingAdmin):
    """The outbox. A failed delivery (a refused address, an organisation's own system answering
    4xx, or retries used up) waits here for a person: filter by status "Failed", fix the cause,
    then use the action "Retry selected failed deliveries"."""

    citizen_path = "message__citizen"
    list_display = ["message", "channel", "receiver", "status", "attempts", "short_error", "next_attempt_at"]
    list_filter = [DeliveryStatusFilter, "channel"]
    list_select_related = ["message__citizen", "recipient__organisation", "user", "email_notice__organisation"]
    search_help_text = _("The citizen's CPR number or name, or a message id.")
    fields = [
        "message",
        "recipient",
        "digest",
        "email_notice",
        "channel",
        "user",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "delivered_at",
        "last_error",
        "created_at",
    ]
    inlines = [AttemptInline]
    actions = ["retry_failed"]

    def involved(self, org_id: int) -> Q:
        return _involved_in_delivery(org_id)

    def id_q(self, value: uuid.UUID) -> Q:
        return Q(message_id=value)

    @admin.display(description=_("receiver"), ordering="recipient__organisation__name")
    def receiver(self, obj: Delivery) -> Organisation | User:
        if obj.email_notice_id:
            return obj.email_notice.organisation
        return obj.recipient.organisation if obj.recipient_id else obj.user  # a digest: its user

    @admin.display(description=_("last error"))
    def short_error(self, obj: Delivery) -> str:
        return obj.last_error if len(obj.last_error) <= 100 else f"{obj.last_error[:97]}…"

    def has_retry_permission(self, request) -> bool:
        """The service's rule, to hide the action from those it would refuse."""
        if request.user.is_superuser:
            return True
        acting = acting_for(request)
        return bool(acting) and acting.is_organisation_admin

    @admin.action(description=_("Retry selected failed deliveries"), permissions=["retry"])
    def retry_failed(self, request, queryset):
        actor = actor_from_request(request)
        retried = skipped = 0
        for delivery in queryset.order_by("pk"):
            try:
                delivery_retry(actor=actor, delivery=delivery)
            except (ValidationError, PermissionDenied):
                skipped += 1
            else:
                retried += 1
        if retried:
            self.message_user(
                request,
                ngettext("%(count)d delivery will be sent again.", "%(count)d deliveries will be sent again.", retried)
                % {"count": retried},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery was not retried: only failed deliveries can be.",
                    "%(count)d deliveries were not retried: only failed deliveries can be.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(MessagingAdmin):
    citizen_path = "delivery__message__citizen"
    list_display = ["started_at", "delivery", "outcome", "error", "finished_at"]
    list_filter = ["outcome"]
    list_select_related = ["delivery__message__citizen", "delivery__recipient__organisation"]
    search_help_text = _("The citizen's CPR number or name, or a message id.")
    fields = ["delivery", "started_at", "finished_at", "outcome", "error"]

    def involved(self, org_id: int) -> Q:
        return _involved_in_delivery(org_id, "delivery__")

    def id_q(self, value: uuid.UUID) -> Q:
        return Q(delivery__message_id=value)


# --- hospital events --------------------------------------------------------------------------------


@admin.register(HospitalEvent)
class HospitalEventAdmin(MessagingAdmin):
    """Recorded, corrected and cancelled by the hospital department in the portal (the services
    keep the stay and the notifications in step), so only shown here."""

    list_display = ["occurred_at", "label", "citizen", "department", "revision", "superseded", "recorded_at"]
    list_filter = ["code", "revision", "superseded", DepartmentFilter]
    list_select_related = ["citizen", "department", "message"]
    fields = [
        "citizen",
        "department",
        "code",
        "revision",
        "revises",
        "occurred_at",
        "stay",
        "message",
        "recorded_by",
        "recorded_at",
        "superseded",
    ]

    def involved(self, org_id: int) -> Q:
        return Q(department_id=org_id) | Q(message_id__in=_received_by(org_id))

    def id_q(self, value: uuid.UUID) -> Q:
        return Q(message_id=value)

    @admin.display(description=_("event"), ordering="code")
    def label(self, obj: HospitalEvent) -> str:
        return obj.message.hospital_code_label


# --- configuration: webhooks and e-mail preferences -------------------------------------------------


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """An organisation's own system. Superusers manage every organisation's; an organisation's
    administrator only its own. The secret is generated when the webhook is made and only shown
    (the receiving system needs it to check the signature)."""

    list_display = ["organisation", "url", "active"]
    list_filter = ["active"]
    list_select_related = ["organisation"]
    search_fields = ["organisation__name", "url"]
    fields = ["organisation", "url", "active", "secret"]
    readonly_fields = ["secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        org_id = _acting_org_id(request)
        return qs.filter(organisation_id=org_id) if org_id else qs.none()

    def get_autocomplete_fields(self, request):
        return ["organisation"] if request.user.is_superuser else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation" and not request.user.is_superuser:
            kwargs["queryset"] = Organisation.objects.filter(pk=_acting_org_id(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _administers(self, request) -> bool:
        if request.user.is_superuser:
            return True
        acting = acting_for(request)
        return bool(acting) and acting.is_organisation_admin

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._administers(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._administers(request)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._administers(request)


@admin.register(EmailPreference)
class EmailPreferenceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Each person sets their own in the portal; shown here to answer "why did I (not) get an
    e-mail?". Non-superusers see those of their own organisation's members."""

    list_display = ["user", "message_type", "mode"]
    list_filter = ["message_type", "mode"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        org_id = _acting_org_id(request)
        if not org_id:
            return qs.none()
        return qs.filter(user__memberships__organisation_id=org_id).distinct()
