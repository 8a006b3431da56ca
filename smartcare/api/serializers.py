"""The model fields of a ModelSerializer, built once per class (``SmartCareConfig.ready``)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

from rest_framework import serializers

GetFields = Callable[[serializers.ModelSerializer], dict[str, serializers.Field]]

# Serializer class → its fields as DRF built them, never bound to an instance: only copied.
_built: dict[type, dict[str, serializers.Field]] = {}


def cached_model_fields(get_fields: GetFields) -> GetFields:
    """Wrap DRF's ``ModelSerializer.get_fields``: the first instance of a class builds the fields,
    every instance gets a deep copy of them. A class that overrides ``get_fields`` itself (to
    decide by its instance or context) is built by its own method every time."""

    @functools.wraps(get_fields)
    def wrapper(self: serializers.ModelSerializer) -> dict[str, serializers.Field]:
        cls = type(self)
        if cls.get_fields is not wrapper:  # overridden: may depend on the instance
            return get_fields(self)
        built = _built.get(cls)
        if built is None:
            built = _built[cls] = get_fields(self)
        return copy.deepcopy(built)

    return wrapper
