"""Shapes of the messaging endpoints under ``/api/v1/``.

Responses and requests use different serializers: a response names organisations with their id,
name, SOR code and GLN (what MedCom routes on), a request names a receiver by any one of them. The
request serializers only parse input; the services decide (care relationships, categories,
priorities, attachments, hospital stay rules).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from careplans.api.serializers import PersonSerializer
from citizens.models import Citizen
from sectors.models import Organisation, User
from sectors.selectors import organisation_by_identifier
from smartcare.api.fields import BlankAsNullChoiceField, BlankChoicesAsNull, DateTimeField

from ..choices import Category, HospitalCode, MessageType, NoticeKind, Priority
from ..models import Attachment, Delivery, DeliveryAttempt, HospitalEvent, Message, Recipient

# --- responses ---------------------------------------------------------------------------------


class OrganisationAddressSerializer(serializers.ModelSerializer):
    """An organisation as a message address."""

    class Meta:
        model = Organisation
        fields = ["id", "name", "sor_code", "gln"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": _("Organisation id.")},
            "sor_code": {"help_text": _("SOR code.")},
            "gln": {"help_text": _("GLN/EAN location number (13 digits); MedCom routes on it.")},
        }


class CitizenRefSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(read_only=True, help_text=_("The citizen's id."))
    name = serializers.CharField(source="full_name", read_only=True, help_text=_("Full name."))
    cpr = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_("CPR number, 10 digits (DDMMYYSSSS); null when the person has none."),
    )

    class Meta:
        model = Citizen
        fields = ["id", "name", "cpr"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "example": HospitalCode.STIN.value})
class HospitalCodeField(serializers.ChoiceField):
    """A hospital event code. A plain string in the schema: the value set is documented once, as
    the messages' ``hospital_code``, and a second name for it would rename that one."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text", _("The Danish hospital notification code: STAA, STIN, STOR, SLOR, SLHJ or MORS.")
        )
        super().__init__(HospitalCode.choices, **kwargs)


class ReceiverSerializer(BlankChoicesAsNull, serializers.ModelSerializer):
    """A receiving organisation of a message and the acknowledgement it gave."""

    organisation = OrganisationAddressSerializer(read_only=True)

    class Meta:
        model = Recipient
        fields = ["organisation", "role", "received_at", "ack_code", "ack_reason", "acknowledged_at"]
        read_only_fields = fields
        extra_kwargs = {
            "role": {"help_text": _("The primary receiver, or a copy (cc).")},
            "received_at": {"help_text": _("When it arrived in the receiver's inbox; null until then.")},
            "ack_code": {"help_text": _("The receiver's acknowledgement; null until it is received.")},
            "acknowledged_at": {"help_text": _("When the acknowledgement arrived; null while it is awaited.")},
        }


class ReceiptSerializer(serializers.ModelSerializer):
    """The acting organisation's own copy of a message it received."""

    assigned_to = PersonSerializer(read_only=True, allow_null=True, help_text=_("The colleague it is assigned to."))
    handled_by = PersonSerializer(read_only=True, allow_null=True)
    is_copy = serializers.SerializerMethodField(help_text=_("Received as a copy (cc)."))

    class Meta:
        model = Recipient
        fields = ["received_at", "is_copy", "handled_at", "handled_by", "assigned_to"]
        read_only_fields = fields
        extra_kwargs = {"handled_at": {"help_text": _("When a colleague marked it handled; null while open.")}}

    def get_is_copy(self, recipient: Recipient) -> bool:
        return recipient.role == "cc"


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size"]
        read_only_fields = fields
        extra_kwargs = {
            "content_type": {"help_text": _("Read from the content: PDF, PNG, JPEG or GIF.")},
            "size": {"help_text": _("Bytes.")},
        }


class InboxItemSerializer(serializers.ModelSerializer):
    """One received message in the inbox (expects the inbox selector's joins and ``is_read``)."""

    id = serializers.UUIDField(source="message_id", read_only=True, help_text=_("The message id."))
    type = serializers.ChoiceField(source="message.type", choices=MessageType.choices, read_only=True)
    category = BlankAsNullChoiceField(source="message.category", choices=Category.choices, read_only=True)
    topic = serializers.CharField(source="message.topic", read_only=True)
    priority = serializers.ChoiceField(source="message.priority", choices=Priority.choices, read_only=True)
    hospital_code_label = serializers.CharField(
        source="message.hospital_code_label",
        read_only=True,
        help_text=_("A hospital notification's code as MedCom writes it (STIN, RE_STIN, AN_STIN); else empty."),
    )
    notice_kind = BlankAsNullChoiceField(
        source="message.notice_kind",
        choices=NoticeKind.choices,
        read_only=True,
        help_text=_("A portal notification's kind; else null."),
    )
    sender = OrganisationAddressSerializer(source="message.sender", read_only=True)
    citizen = CitizenRefSerializer(source="message.citizen", read_only=True)
    sent_at = DateTimeField(source="message.sent_at", read_only=True)
    is_copy = serializers.SerializerMethodField(help_text=_("Received as a copy (cc)."))
    is_read = serializers.BooleanField(read_only=True, help_text=_("Read by you (read state is each user's own)."))
    assigned_to = PersonSerializer(read_only=True, allow_null=True)
    thread = serializers.UUIDField(source="message.thread_id", read_only=True, help_text=_("The thread's id."))

    class Meta:
        model = Recipient
        fields = [
            "id",
            "type",
            "category",
            "topic",
            "priority",
            "hospital_code_label",
            "notice_kind",
            "sender",
            "citizen",
            "sent_at",
            "received_at",
            "is_copy",
            "is_read",
            "handled_at",
            "assigned_to",
            "thread",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "received_at": {"help_text": _("When it arrived in your organisation's inbox.")},
            "handled_at": {"help_text": _("When a colleague marked it handled; null while open.")},
        }

    def get_is_copy(self, recipient: Recipient) -> bool:
        return recipient.role == "cc"


class SentItemSerializer(BlankChoicesAsNull, serializers.ModelSerializer):
    """One sent message with its receivers and their acknowledgements."""

    citizen = CitizenRefSerializer(read_only=True)
    thread = serializers.UUIDField(source="thread_id", read_only=True, help_text=_("The thread's id."))
    receivers = ReceiverSerializer(source="recipients", many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "type",
            "category",
            "topic",
            "priority",
            "hospital_code_label",
            "citizen",
            "author_name",
            "sent_at",
            "thread",
            "receivers",
        ]
        read_only_fields = fields
        extra_kwargs = {"author_name": {"help_text": _("Who wrote it.")}}


GIVEN_NAME_HELP = _(
    "A hospital notification's name of the citizen as given by the sender, when it differs from the portal's "
    "(the portal's is in citizen); else empty. Never written to the citizen."
)
GIVEN_ADDRESS_HELP = _(
    "A hospital notification's address of the citizen as given by the sender, when it differs from the "
    "portal's; else empty. Never written to the citizen."
)


class MessageSerializer(BlankChoicesAsNull, serializers.ModelSerializer):
    """One message with its receivers and attachments; ``receipt`` and ``is_read`` are the acting
    organisation's and the user's own state. Expects the view's prefetches."""

    thread = serializers.UUIDField(source="thread_id", read_only=True, help_text=_("The thread's id."))
    parent = serializers.UUIDField(
        source="parent_id", read_only=True, allow_null=True, help_text=_("The message this one answers or forwards.")
    )
    revises = serializers.UUIDField(
        source="revises_id",
        read_only=True,
        allow_null=True,
        help_text=_("The hospital notification this one corrects or cancels."),
    )
    citizen = CitizenRefSerializer(read_only=True)
    sender = OrganisationAddressSerializer(read_only=True)
    department = OrganisationAddressSerializer(
        read_only=True, allow_null=True, help_text=_("The hospital department of a hospital notification.")
    )
    hospital_code_label = serializers.CharField(read_only=True, help_text=_("e.g. STIN, RE_STIN, AN_STIN."))
    attachments = AttachmentSerializer(many=True, read_only=True)
    receivers = ReceiverSerializer(source="recipients", many=True, read_only=True)
    receipt = serializers.SerializerMethodField(
        help_text=_("Your organisation's copy, if it received the message; null for a message it sent.")
    )
    is_read = serializers.SerializerMethodField(help_text=_("Read by you."))

    class Meta:
        model = Message
        fields = [
            "id",
            "header_id",
            "type",
            "activity",
            "thread",
            "parent",
            "citizen",
            "sender",
            "author_name",
            "author_phone",
            "sent_at",
            "category",
            "topic",
            "priority",
            "text",
            "hospital_code",
            "hospital_code_label",
            "revision",
            "revises",
            "department",
            "occurred_at",
            "given_name",
            "given_address",
            "notice_kind",
            "link",
            "attachments",
            "receivers",
            "receipt",
            "is_read",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": _("The message id: the MedCom MessageHeader id when that is a UUID.")},
            "header_id": {
                "help_text": _(
                    "The MedCom MessageHeader id as its sender wrote it (any FHIR id); the message id for a "
                    "message made in the portal."
                )
            },
            "activity": {"help_text": _("A new message, a reply or a forward.")},
            "occurred_at": {"help_text": _("When the hospital event happened.")},
            "given_name": {"help_text": GIVEN_NAME_HELP},
            "given_address": {"help_text": GIVEN_ADDRESS_HELP},
            "link": {"help_text": _("A portal notification's link into the portal.")},
        }

    @extend_schema_field(ReceiptSerializer(allow_null=True))
    def get_receipt(self, message: Message) -> dict[str, Any] | None:
        organisation_id = self.context.get("organisation_id")
        for recipient in message.recipients.all():
            if recipient.organisation_id == organisation_id and recipient.received_at is not None:
                return ReceiptSerializer(recipient).data
        return None

    def get_is_read(self, message: Message) -> bool:
        return bool(getattr(message, "own_read_marks", ()))


class ThreadSerializer(serializers.Serializer):
    """A conversation: the thread and the messages of it the acting organisation sent or received."""

    id = serializers.UUIDField(source="thread.pk", read_only=True, help_text=_("The thread's id."))
    citizen = CitizenRefSerializer(source="thread.citizen", read_only=True)
    category = BlankAsNullChoiceField(source="thread.category", choices=Category.choices, read_only=True)
    topic = serializers.CharField(source="thread.topic", read_only=True)
    messages = MessageSerializer(many=True, read_only=True, help_text=_("Oldest first."))


class HospitalEventSerializer(serializers.ModelSerializer):
    citizen = CitizenRefSerializer(read_only=True)
    department = OrganisationAddressSerializer(read_only=True)
    code = HospitalCodeField(read_only=True)
    code_label = serializers.CharField(
        source="message.hospital_code_label", read_only=True, help_text=_("e.g. STIN, RE_STIN, AN_STIN.")
    )
    revises = serializers.IntegerField(
        source="revises_id", read_only=True, allow_null=True, help_text=_("The event this one corrects or cancels.")
    )
    message = serializers.UUIDField(
        source="message_id", read_only=True, help_text=_("The hospital notification sent to the municipality.")
    )
    given_name = serializers.CharField(source="message.given_name", read_only=True, help_text=GIVEN_NAME_HELP)
    given_address = serializers.CharField(source="message.given_address", read_only=True, help_text=GIVEN_ADDRESS_HELP)

    class Meta:
        model = HospitalEvent
        fields = [
            "id",
            "citizen",
            "department",
            "code",
            "code_label",
            "revision",
            "revises",
            "occurred_at",
            "recorded_at",
            "superseded",
            "message",
            "given_name",
            "given_address",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "superseded": {"help_text": _("Corrected or cancelled by a later event; only the latest is revisable.")}
        }


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["started_at", "finished_at", "outcome", "error"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    """One delivery of a message to a receiver over one channel, with every attempt; a daily
    digest (channel ``email-digest``) has no message and no receiver, only its user."""

    message = serializers.UUIDField(
        source="message_id", read_only=True, allow_null=True, help_text=_("The message id.")
    )
    receiver = OrganisationAddressSerializer(source="recipient.organisation", read_only=True, allow_null=True)
    user = PersonSerializer(read_only=True, allow_null=True, help_text=_("The member an e-mail goes to."))
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True, help_text=_("Every attempt, oldest first."))

    class Meta:
        model = Delivery
        fields = [
            "id",
            "message",
            "receiver",
            "channel",
            "user",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_error",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "attempts": {"help_text": _("How many attempts were made.")},
            "next_attempt_at": {"help_text": _("When a pending delivery is tried (again).")},
        }


# --- requests ----------------------------------------------------------------------------------


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "example": "5790000123450"})
class OrganisationAddressField(serializers.Field):
    """A receiver named by its organisation id (a number), its SOR code or its GLN (strings)."""

    default_error_messages = {
        "unknown": _("No organisation with this id, SOR code or GLN."),
        "invalid": _("Give an organisation id, a SOR code or a GLN."),
    }

    def to_internal_value(self, data: Any) -> Organisation:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        organisation = organisation_by_identifier(identifier=data)
        if organisation is None:
            self.fail("unknown")
        return organisation

    def to_representation(self, value: Organisation) -> int:
        return value.pk


class InputSerializer(serializers.Serializer):
    def service_arguments(self) -> dict[str, Any]:
        """The validated input as keyword arguments for the service."""
        return dict(self.validated_data)


def _attachments():
    return serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=_("Files (multipart/form-data only): PDF, PNG, JPEG or GIF, at most 50 MB with the text."),
    )


def _cc():
    return serializers.ListField(
        child=OrganisationAddressField(),
        required=False,
        help_text=_("Organisations that get a copy, each by id, SOR code or GLN."),
    )


class MessageSendSerializer(InputSerializer):
    citizen = serializers.UUIDField(help_text=_("The citizen's id."))
    receiver = OrganisationAddressField(
        help_text=_("The receiving organisation by id, SOR code or GLN; it must have a care relationship.")
    )
    cc = _cc()
    category = serializers.ChoiceField(choices=Category.choices)
    topic = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=_("Required when the category is “other”.")
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices,
        required=False,
        help_text=_("Default routine; “asap” only for messages regarding a referral."),
    )
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=_("The message."))
    attachments = _attachments()


class MessageReplySerializer(InputSerializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text=_("The answer."))
    attachments = _attachments()


class MessageForwardSerializer(InputSerializer):
    receiver = OrganisationAddressField(
        help_text=_("The new receiver by id, SOR code or GLN; it must have a care relationship.")
    )
    cc = _cc()
    text = serializers.CharField(
        required=False, allow_blank=True, help_text=_("A note above the forwarded text, if any.")
    )


class MessageHandledSerializer(InputSerializer):
    handled = serializers.BooleanField(help_text=_("true: handled; false: open again."))


class MessageAssignSerializer(InputSerializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        allow_null=True,
        help_text=_("User id of a colleague in your organisation, or null to unassign."),
    )


class HospitalEventCreateSerializer(InputSerializer):
    cpr = serializers.CharField(max_length=11, help_text=_("The citizen's CPR number (DDMMYY-SSSS or DDMMYYSSSS)."))
    code = HospitalCodeField()
    occurred_at = DateTimeField(help_text=_("When it happened (ISO 8601 with time zone)."))


class HospitalEventCorrectSerializer(InputSerializer):
    occurred_at = DateTimeField(help_text=_("The correct time of the event."))
