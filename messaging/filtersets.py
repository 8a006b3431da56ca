"""The filters of the message lists and the deliveries. They validate the query string (an unknown
category is a 400, not an empty page) and document it; the inbox and sent box selectors apply
the message filters themselves, because ``mine`` and ``unread`` depend on the user. Deliveries
are narrowed here, after the selector has applied the access policy."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from smartcare.filters import BooleanFilter

from .choices import Category, Channel, DeliveryStatus, MessageType
from .models import Delivery

INBOX, SENT = "inbox", "sent"
BOXES = [(INBOX, _("Inbox")), (SENT, _("Sent"))]
LISTED_TYPES = [(value, label) for value, label in MessageType.choices if value != MessageType.ACKNOWLEDGEMENT]


def _as_given(queryset, name, value):
    return queryset  # applied by the selector


class MessageFilterSet(django_filters.FilterSet):
    box = django_filters.ChoiceFilter(
        choices=BOXES, method=_as_given, label=_("Received (inbox, the default) or sent messages")
    )
    category = django_filters.ChoiceFilter(choices=Category.choices, method=_as_given, label=_("Category"))
    citizen = django_filters.UUIDFilter(method=_as_given, label=_("Citizen"))
    type = django_filters.ChoiceFilter(choices=LISTED_TYPES, method=_as_given, label=_("Message type (inbox)"))
    unhandled = BooleanFilter(method=_as_given, label=_("Only messages not handled yet (inbox)"))
    mine = BooleanFilter(method=_as_given, label=_("Only messages assigned to me (inbox)"))
    unread = BooleanFilter(method=_as_given, label=_("Only messages I have not read (inbox)"))


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    message = django_filters.UUIDFilter(field_name="message_id", label=_("Message"))

    class Meta:
        model = Delivery
        fields = ["status", "channel", "message"]
