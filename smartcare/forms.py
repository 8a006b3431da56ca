from django.forms.renderers import TemplatesSetting


class BootstrapFormRenderer(TemplatesSetting):
    """Every form (ours, allauth's) renders with Bootstrap 5 markup from ``templates/forms``."""

    form_template_name = "forms/div.html"
    field_template_name = "forms/field.html"
