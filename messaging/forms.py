"""Forms of the messaging pages. They parse input only: who may write to whom, about which
citizen, with which category, priority and files is decided by ``messaging.services``."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sectors.models import Organisation, User
from sectors.selectors import outgoing_gateway

from .choices import Category, MessageType, Priority

CODE_SEPARATORS = re.compile(r"[\s,;]+")


def organisation_by_code(value: str) -> Organisation | None:
    """An organisation named by its SOR code, its GLN or its id (what a user can type without
    JavaScript). Organisations are not health data; whether one may receive a message about the
    citizen is the service's decision."""
    value = (value or "").strip()
    if not value:
        return None
    match = Q(sor_code=value) | Q(gln=value) | Q(location_numbers__gln=value)
    if value.isdigit() and len(value) < 10:
        match |= Q(pk=int(value))
    reachable = Organisation.objects.all() if outgoing_gateway() is not None else Organisation.objects.in_portal()
    found = list(reachable.filter(match).distinct()[:2])
    return found[0] if len(found) == 1 else None


class OrganisationField(forms.CharField):
    """An organisation by id, SOR code or GLN."""

    default_error_messages = {"unknown": _("No organisation has the SOR code, GLN or id %(value)s.")}

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        organisation = organisation_by_code(value)
        if organisation is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown", params={"value": value})
        return organisation


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (the service checks their types and the total size)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ReceiverFields(forms.Form):
    """A receiver picked from suggestions or search results (``receiver``, an id), or typed as
    a SOR code or GLN (``receiver_code``, which works without JavaScript); copies likewise."""

    receiver = OrganisationField(label=_("Receiver"), required=False, widget=forms.RadioSelect)
    receiver_code = OrganisationField(
        label=_("Or the receiver's SOR code or GLN"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    cc = forms.CharField(required=False)  # the suggestions' check boxes, read in clean_cc
    cc_codes = forms.CharField(
        label=_("Copy to (SOR codes or GLNs)"),
        required=False,
        max_length=200,
        help_text=_("Optional. Separate several with commas."),
    )

    def clean_cc(self):
        values = self.data.getlist("cc") if hasattr(self.data, "getlist") else []
        found = []
        for value in values:
            organisation = organisation_by_code(value)
            if organisation is None:
                raise forms.ValidationError(_("Choose the copy receivers from the list."), code="unknown")
            found.append(organisation)
        return found

    def clean_cc_codes(self):
        found = []
        for code in CODE_SEPARATORS.split(self.cleaned_data.get("cc_codes") or ""):
            if not code:
                continue
            organisation = organisation_by_code(code)
            if organisation is None:
                raise forms.ValidationError(
                    OrganisationField.default_error_messages["unknown"], code="unknown", params={"value": code}
                )
            found.append(organisation)
        return found

    def clean(self):
        data = super().clean()
        receiver = data.get("receiver_code") or data.get("receiver")
        if receiver is None and not self.has_error("receiver") and not self.has_error("receiver_code"):
            self.add_error("receiver", _("Choose a receiver."))
        data["receiver_organisation"] = receiver
        cc = {org.pk: org for org in [*(data.get("cc") or []), *(data.get("cc_codes") or [])]}
        if receiver is not None:
            cc.pop(receiver.pk, None)
        data["cc_organisations"] = list(cc.values())
        return data


class ComposeForm(ReceiverFields):
    citizen = forms.UUIDField(widget=forms.HiddenInput)
    category = forms.ChoiceField(label=_("Category"), choices=[("", "---------"), *Category.choices])
    topic = forms.CharField(
        label=_("Topic"), required=False, max_length=200, help_text=_("Required when the category is 'Other'.")
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=Priority.choices,
        initial=Priority.ROUTINE,
        help_text=_("'As soon as possible' only for messages regarding a referral."),
    )
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000)
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("PDF, PNG, JPEG or GIF; at most 50 MB in all."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].widget.attrs["accept"] = ".pdf,.png,.jpg,.jpeg,.gif"
        self.fields["text"].error_messages["required"] = _("Write a message.")


class CitizenSearchForm(forms.Form):
    q = forms.CharField(label=_("Find the citizen"), max_length=100, required=False)


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 5}), max_length=20000)
    attachments = MultipleFileField(
        label=_("Attachments"), required=False, help_text=_("PDF, PNG, JPEG or GIF; at most 50 MB in all.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].widget.attrs["accept"] = ".pdf,.png,.jpg,.jpeg,.gif"
        self.fields["text"].error_messages["required"] = _("Write a message.")


class ForwardForm(ReceiverFields):
    text = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=20000
    )


class HandledForm(forms.Form):
    handled = forms.BooleanField(required=False)


class AssignForm(forms.Form):
    assigned_to = forms.ModelChoiceField(
        label=_("Assign to"), queryset=User.objects.none(), required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        field.queryset = members if members is not None else User.objects.none()
        field.label_from_instance = lambda user: user.get_full_name() or user.email


class InboxFilterForm(forms.Form):
    """The inbox's filters. An invalid value is shown as the form's error and lists nothing,
    rather than being ignored (which would list more than was asked for)."""

    category = forms.ChoiceField(label=_("Category"), required=False, choices=[("", _("All")), *Category.choices])
    type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[
            ("", _("All")),
            (MessageType.CARE_COMMUNICATION, MessageType.CARE_COMMUNICATION.label),
            (MessageType.HOSPITAL_NOTIFICATION, MessageType.HOSPITAL_NOTIFICATION.label),
            (MessageType.NOTIFICATION, MessageType.NOTIFICATION.label),
        ],
    )
    citizen = forms.UUIDField(required=False, widget=forms.HiddenInput)
    unread = forms.BooleanField(label=_("Unread"), required=False)
    unhandled = forms.BooleanField(label=_("Not handled"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)

    def filters(self) -> dict | None:
        """The filters to apply, or None when a value is invalid."""
        if not self.is_valid():
            return None
        return {name: value for name, value in self.cleaned_data.items() if value}
