from django import forms
from django.forms.renderers import TemplatesSetting

# The browser's date and time pickers take and give ISO values only, whatever the page's language:
# a Danish "15.03.2020" in ``<input type="date">`` shows as empty and saves as empty.
ISO_DATE = "%Y-%m-%d"
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
DATETIME_LOCAL_INPUT_FORMATS = [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S"]


class DateInput(forms.DateInput):
    """``<input type="date">`` with an ISO value: the one date widget of every form."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=ISO_DATE)


class DateTimeLocalInput(forms.DateTimeInput):
    """``<input type="datetime-local">`` with an ISO value (local time, to the minute)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


class BootstrapFormRenderer(TemplatesSetting):
    """Every form (ours, allauth's) renders with Bootstrap 5 markup from ``templates/forms``."""

    form_template_name = "forms/div.html"
    field_template_name = "forms/field.html"


def apply_service_errors(exc, form, *, aliases=None, formsets=None) -> None:
    """Show a service's ValidationError on the form field it names, else at the top of the form.

    Services name fields by the model's names; ``aliases`` maps them to the form's (None: show at
    the top), and ``formsets`` takes the errors named after a formset (e.g. ``conditions``)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    aliases, formsets = aliases or {}, formsets or {}
    for field, errors in exc.error_dict.items():
        if field in formsets:
            formsets[field].non_form_errors().extend(message for error in errors for message in error.messages)
            continue
        field = aliases.get(field, field)
        form.add_error(field if field in form.fields else None, errors)
