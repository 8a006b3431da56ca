"""Forms of the hospital-events page, the operations page and the notification settings. They
parse input only: ``messaging.services`` validates and writes, and its ValidationErrors are shown
on the field they name."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.cpr import parse_cpr
from smartcare.forms import DATETIME_LOCAL_INPUT_FORMATS, DateTimeLocalInput

from .choices import EmailMode, HospitalCode, MessageType

# The types a user gets e-mail about (acknowledgements are machine traffic, never e-mailed).
PREFERENCE_TYPES = (MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION, MessageType.NOTIFICATION)


def _now_local():
    return timezone.localtime().replace(second=0, microsecond=0)


def _time_field(label) -> forms.DateTimeField:
    """A ``datetime-local`` input, read in the current time zone (Europe/Copenhagen)."""
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_LOCAL_INPUT_FORMATS,
        widget=DateTimeLocalInput(),
    )


class HospitalEventForm(forms.Form):
    cpr = forms.CharField(
        label=_("CPR number"),
        max_length=11,
        help_text=_("The citizen in front of you: DDMMYY-SSSS."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "placeholder": _("DDMMYY-SSSS")}),
    )
    code = forms.ChoiceField(label=_("Event"), choices=[("", "---------"), *HospitalCode.choices])
    occurred_at = _time_field(_("Time of event"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"occurred_at": _now_local()})
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "---------")] + [
            (value, f"{value} · {label}") for value, label in HospitalCode.choices
        ]

    def clean_cpr(self) -> str:
        return parse_cpr(self.cleaned_data["cpr"]).digits


class HospitalEventCorrectForm(forms.Form):
    occurred_at = _time_field(_("New time of event"))


class DeliveryFilterForm(forms.Form):
    """The operations page shows failed deliveries unless asked for all of them."""

    FAILED, ALL = "failed", "all"
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[(FAILED, _("Failed only")), (ALL, _("All deliveries"))],
    )

    @property
    def failed_only(self) -> bool:
        if not self.is_valid():
            return True
        return self.cleaned_data.get("show") != self.ALL


class EmailPreferencesForm(forms.Form):
    """One choice per message type: an e-mail at once, a daily digest, or none."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for message_type in PREFERENCE_TYPES:
            self.fields[message_type] = forms.ChoiceField(
                label=MessageType(message_type).label,
                choices=EmailMode.choices,
                widget=forms.RadioSelect,
            )
