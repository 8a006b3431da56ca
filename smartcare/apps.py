"""The project's own app: wires the rules every SmartCare app shares once all models are loaded."""

from __future__ import annotations

from django.apps import AppConfig, apps
from django.db import models

PROJECT_APPS = ("sectors", "citizens", "careplans", "messaging")


def text_fields():
    """Every CharField and TextField of the project's models (EmailField, URLField... included)."""
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, models.CharField | models.TextField):
                    yield model, field


def install_text_validators() -> None:
    """Attach the control-character validator to every text field. It goes into the field's
    validator list (run by ``full_clean`` and copied by DRF's ModelSerializer), not into its
    ``validators`` argument, so migrations do not change."""
    from smartcare.validators import free_text, single_line_text

    for _model, field in text_fields():
        validator = free_text if isinstance(field, models.TextField) else single_line_text
        if validator not in field.validators:
            field.__dict__["validators"] = [*field.validators, validator]


def install_input_validators() -> None:
    """Every text a form or a serializer takes in refuses control characters, so a text that
    goes into a history entry or a note without a model's full_clean() is refused as well, with
    the field's name. Tabs and line breaks pass here (free text); a model's single-line field
    refuses them itself. ``default_validators`` is the fields' own hook for validators that
    every instance has (DRF uses it when no ``validators`` are given, as for declared fields;
    ModelSerializer fields get the model field's validators)."""
    from django import forms
    from rest_framework import serializers

    from smartcare.validators import free_text

    for field_class in (forms.CharField, serializers.CharField):
        if free_text not in field_class.default_validators:
            field_class.default_validators = [*field_class.default_validators, free_text]


def install_datetime_field() -> None:
    """Every model datetime in the API renders as RFC 3339 with a real offset."""
    from rest_framework import serializers

    from smartcare.api.fields import DateTimeField

    serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = DateTimeField


def install_serializer_field_cache() -> None:
    """A ModelSerializer builds its fields from the model once per class, not once per instance.

    DRF introspects the model (field kinds, choices, validators, extra kwargs) for every
    serializer it instantiates, nested ones and each request's included: on an API read that cost
    more than rendering the answer. What it builds depends only on the class, so it is built once
    and every instance gets copies of its own (shallow ones: ``smartcare.api.serializers._copy``),
    so an instance may still change its own fields."""
    from rest_framework import serializers

    from smartcare.api.serializers import cached_model_fields

    serializers.ModelSerializer.get_fields = cached_model_fields(serializers.ModelSerializer.get_fields)


class SmartCareConfig(AppConfig):
    name = "smartcare"
    verbose_name = "SmartCare"

    def ready(self) -> None:
        install_text_validators()
        install_input_validators()
        install_datetime_field()
        install_serializer_field_cache()
