"""Serializer fields the whole API shares."""

from __future__ import annotations

from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from smartcare.datetimes import rfc3339


class DateTimeField(serializers.DateTimeField):
    """RFC 3339 in Danish local time with its real offset (``2026-03-01T09:30:00+01:00``)."""

    def to_representation(self, value):
        output_format = getattr(self, "format", api_settings.DATETIME_FORMAT)
        if not value or isinstance(value, str) or output_format is None or output_format.lower() != ISO_8601:
            return super().to_representation(value)
        return rfc3339(self.enforce_timezone(value), timespec="auto")
