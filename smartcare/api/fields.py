"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


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
