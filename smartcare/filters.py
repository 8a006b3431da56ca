"""Filters shared by the FilterSets of every app.

django-filter's BooleanFilter reads any unknown value (``?open=maybe``) as "not given" and so
lists more than was asked for; this one refuses it like any other invalid filter value (a 400
in the API, a form error on the pages)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

TRUE = frozenset({"true", "1", "yes", "on", "2"})  # "2"/"3": Django's NullBooleanSelect of old
FALSE = frozenset({"false", "0", "no", "off", "3"})
UNSET = frozenset({"", "unknown", "none", "null"})


class RawNullBooleanSelect(forms.NullBooleanSelect):
    """Passes the value on as given, so that the field can tell an unknown one from none."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictNullBooleanField(forms.NullBooleanField):
    widget = RawNullBooleanSelect

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        if text in UNSET:
            return None
        raise ValidationError(_("Enter true or false."), code="invalid")

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField
