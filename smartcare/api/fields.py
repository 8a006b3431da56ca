"""Serializer fields the whole API shares."""

from __future__ import annotations

from typing import Any

from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from smartcare.datetimes import rfc3339


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice that may be unset (a blank ``CharField`` with choices): answered as ``null``,
    never as ``""``, which is no member of the documented enum. As input, ``null`` unsets it
    like ``""``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        is_empty, value = super().validate_empty_values(data)
        return is_empty, ("" if is_empty and value is None else value)

    def to_representation(self, value: Any) -> Any:
        if value in ("", None):
            return None
        return super().to_representation(value)


class BlankChoicesAsNull:
    """For a ModelSerializer: the model's blank choice fields become ``BlankAsNullChoiceField``."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if (
            getattr(model_field, "choices", None)
            and model_field.blank
            and issubclass(field_class, serializers.ChoiceField)
        ):
            field_class = BlankAsNullChoiceField
            kwargs.pop("allow_null", None)
        return field_class, kwargs


class DateTimeField(serializers.DateTimeField):
    """RFC 3339 in Danish local time with its real offset (``2026-03-01T09:30:00+01:00``)."""

    def to_representation(self, value):
        output_format = getattr(self, "format", api_settings.DATETIME_FORMAT)
        if not value or isinstance(value, str) or output_format is None or output_format.lower() != ISO_8601:
            return super().to_representation(value)
        return rfc3339(self.enforce_timezone(value), timespec="auto")
