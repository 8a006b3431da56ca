from django.forms.renderers import TemplatesSetting


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
