"""Forms for the work lists (Today, hand-offs, alerts, measurements, thresholds). They parse
input only: the services in ``careplans.services`` and ``careplans.monitoring`` validate and write,
and their ValidationErrors are shown on the field they name."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartcare.forms import DATETIME_LOCAL_INPUT_FORMATS, DateTimeLocalInput

from .choices import ObservationCode, ObservationSource, ThresholdCode
from .measurements import MeasurementType
from .monitoring import Reading
from .monitoring_entry import WITH_PULSE


def _note(label=None, *, max_length: int = 2000, rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=label or _("Note (optional)"),
        required=False,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _number(label, *, required: bool = True, large: bool = False) -> forms.CharField:
    """A decimal typed on a tablet: text with ``inputmode=decimal`` so both "7,5" and "7.5" work
    (the number itself is checked by the service, which knows the plausible range)."""
    attrs = {"inputmode": "decimal", "autocomplete": "off", "data-keypad-input": True}
    if large:
        attrs["class"] = "form-control-lg measure-input"
    return forms.CharField(label=label, required=required, max_length=12, widget=forms.TextInput(attrs=attrs))


class ActivityDoneForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class MeasurementForm(forms.Form):
    """One home measurement; blood pressure has a second value (the diastolic pressure) and,
    optionally, the pulse the monitor shows with it (saved as a heart rate)."""

    value = _number(_("Value"), large=True)
    value_2 = _number(_("Second value"), large=True)
    pulse = _number(_("Pulse"), required=False, large=True)
    effective_at = forms.DateTimeField(
        label=_("Measured at"),
        input_formats=DATETIME_LOCAL_INPUT_FORMATS,
        widget=DateTimeLocalInput(),
    )
    source = forms.ChoiceField(label=_("Measured by"), choices=ObservationSource.choices)
    note = _note(max_length=300, rows=2)

    def __init__(self, *args, measurement: MeasurementType, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "effective_at": timezone.localtime().replace(second=0, microsecond=0),
                "source": ObservationSource.HOME_CARE,
            },
        )
        super().__init__(*args, **kwargs)
        self.measurement = measurement
        components = measurement.components
        self.fields["value"].label = f"{components[0].label} ({measurement.unit_display})"
        if measurement.is_pair:
            self.fields["value_2"].label = f"{components[1].label} ({measurement.unit_display})"
        else:
            del self.fields["value_2"]
        if measurement.code == WITH_PULSE:
            self.fields["pulse"].label = _("Pulse (/min)")
        else:
            del self.fields["pulse"]

    @property
    def value_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("value", "value_2", "pulse") if name in self.fields]

    @property
    def detail_fields(self) -> list[forms.BoundField]:
        return [self["effective_at"], self["source"], self["note"]]

    def reading(self) -> Reading:
        data = self.cleaned_data
        return Reading(
            code=self.measurement.code,
            value=data["value"],
            value_2=data.get("value_2"),
            unit=self.measurement.unit,
            effective_at=data["effective_at"],
            source=data["source"],
            note=data["note"],
        )


class AlertAckForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class HandoffAcceptForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class HandoffRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you reject the request?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why you reject the request.")},
    )


class ThresholdForm(forms.Form):
    """New limits for one measured quantity; a value exactly at a limit is inside it."""

    code = forms.ChoiceField(label=_("Measured quantity"), choices=ThresholdCode.choices)
    red_low = _number(_("Red below"), required=False)
    yellow_low = _number(_("Yellow below"), required=False)
    yellow_high = _number(_("Yellow above"), required=False)
    red_high = _number(_("Red above"), required=False)
    reason = forms.CharField(
        label=_("Clinical reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the clinical reason for these limits.")},
    )

    LIMITS = ("red_low", "yellow_low", "yellow_high", "red_high")

    @classmethod
    def initial_for(cls, code: str, current) -> dict:
        initial = {"code": code}
        if current is not None:
            for name in cls.LIMITS:
                value = getattr(current, name)
                initial[name] = "" if value is None else f"{value.normalize():f}"
        return initial

    @property
    def limit_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.LIMITS]


class ScheduleForm(forms.Form):
    code = forms.ChoiceField(label=_("Measurement"), choices=ObservationCode.choices)
    every_hours = forms.IntegerField(label=_("Expected every … hours"), min_value=1, max_value=24 * 90, initial=24)
    grace_hours = forms.IntegerField(label=_("Grace period (hours)"), min_value=0, max_value=24 * 30, initial=6)
    monitoring_organisation = forms.ModelChoiceField(label=_("Monitored by"), queryset=None)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["monitoring_organisation"].queryset = organisations
