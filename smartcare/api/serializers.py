"""The model fields of a ModelSerializer, built once per class (``SmartCareConfig.ready``)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

from rest_framework import relations, serializers

GetFields = Callable[[serializers.ModelSerializer], dict[str, serializers.Field]]

# Serializer class → its fields as DRF built them, never bound to an instance: only copied.
_built: dict[type, dict[str, serializers.Field]] = {}
# Fields that hold a field of their own, bound to them when they are made: a copy must have its own.
_HOLDERS = (serializers.ListSerializer, serializers.ListField, serializers.DictField, relations.ManyRelatedField)


def cached_model_fields(get_fields: GetFields) -> GetFields:
    """Wrap DRF's ``ModelSerializer.get_fields``: the first instance of a class builds the fields,
    every instance gets copies of them. A class that overrides ``get_fields`` itself (to decide by
    its instance or context) is built by its own method every time."""

    @functools.wraps(get_fields)
    def wrapper(self: serializers.ModelSerializer) -> dict[str, serializers.Field]:
        cls = type(self)
        if cls.get_fields is not wrapper:  # overridden: may depend on the instance
            return get_fields(self)
        built = _built.get(cls)
        if built is None:
            built = _built[cls] = get_fields(self)
        return {name: _copy(field) for name, field in built.items()}

    return wrapper


def _copy(field: serializers.Field) -> serializers.Field:
    """A field of the instance's own. Binding a field only sets its own attributes (name, parent,
    source), and a nested serializer builds its fields when it is first used, so a shallow copy of
    a field that was never bound serves; DRF's deep copy would call the field's ``__init__`` again.
    A field holding another field bound to itself (``many=True``, list and dict fields) is copied
    DRF's way, so that the inner one belongs to the copy."""
    if isinstance(field, _HOLDERS):
        return copy.deepcopy(field)
    return copy.copy(field)
