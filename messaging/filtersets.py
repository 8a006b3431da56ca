"""The filters of the message lists and the deliveries. They narrow what a selector already took
through the access policy; they never widen it. An invalid value is refused (a 400 in the API, a
form error on the page), not ignored, so a list never shows more than was asked for.

The inbox lists a ``Recipient`` row per received message (with the organisation's handled state
and assignee), the sent box a ``Message`` row per sent message: each box has its FilterSet. The
box itself is no filter but the choice of list, which the selector builds; ``MessageBoxForm``
reads it."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from sectors.models import User
from smartcare.filters import BooleanFilter

from .choices import Category, Channel, DeliveryStatus, MessageType
from .models import Delivery, ReadMark

INBOX, SENT = "inbox", "sent"
BOXES = [(INBOX, _("Inbox")), (SENT, _("Sent"))]
BOX_LABEL = _("Received (inbox, the default) or sent messages")
LISTED_TYPES = [(value, label) for value, label in MessageType.choices if value != MessageType.ACKNOWLEDGEMENT]


def read_by(user_pk: Any) -> Exists:
    """Whether the user has read the message of a ``Recipient`` row. The inbox shows it and the
    ``unread`` filter narrows on it: one expression, so the two never disagree."""
    return Exists(ReadMark.objects.filter(message_id=OuterRef("message_id"), user_id=user_pk))


class MessageBoxForm(forms.Form):
    """Which list the API answers with. Read together with the filters, so that one answer names
    every invalid parameter."""

    box = forms.ChoiceField(choices=BOXES, required=False, label=BOX_LABEL)


class MessageFilterSet(django_filters.FilterSet):
    """The inbox's filters, for the inbox page and ``/api/v1/messages/`` (whose schema they
    document). ``mine`` and ``unread`` are the user's own: the selector names the user; built by
    the API's filter backend, the FilterSet takes the request's. The organisation needs no filter:
    the selector's rows are already its own."""

    category = django_filters.ChoiceFilter(
        choices=Category.choices, field_name="message__category", label=_("Category")
    )
    citizen = django_filters.UUIDFilter(field_name="message__citizen_id", label=_("Citizen"))
    type = django_filters.ChoiceFilter(
        choices=LISTED_TYPES, field_name="message__type", label=_("Message type (inbox)")
    )
    # "Only ...": false lists everything, like leaving the filter out.
    unhandled = BooleanFilter(method="filter_unhandled", label=_("Only messages not handled yet (inbox)"))
    mine = BooleanFilter(method="filter_mine", label=_("Only messages assigned to me (inbox)"))
    unread = BooleanFilter(method="filter_unread", label=_("Only messages I have not read (inbox)"))

    def __init__(self, data=None, queryset=None, *, user: User | None = None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.user = user if user is not None else getattr(self.request, "user", None)

    # ``value`` has no type hint: drf-spectacular would document the hint instead of the filter.
    def filter_unhandled(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(handled_at__isnull=True) if value else queryset

    def filter_mine(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(assigned_to_id=self.user.pk) if value else queryset

    def filter_unread(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(~read_by(self.user.pk)) if value else queryset


class SentMessageFilterSet(django_filters.FilterSet):
    """The sent box's filters (the inbox's own, such as ``unread``, do not apply to it)."""

    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("Category"))
    citizen = django_filters.UUIDFilter(field_name="citizen_id", label=_("Citizen"))


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    message = django_filters.UUIDFilter(field_name="message_id", label=_("Message"))

    class Meta:
        model = Delivery
        fields = ["status", "channel", "message"]
