"""Datetimes as RFC 3339 text for the API and the FHIR export: Danish local time with its real
offset (+01:00 or +02:00), to the second.

Before 1894 the time zone database gives Copenhagen its local mean time, +00:50:20, an offset
RFC 3339 and FHIR cannot express; such a moment is written in UTC instead (the bounds keep them
out of the database, but nothing should render them wrongly)."""

from __future__ import annotations

import datetime

from django.utils import timezone


def rfc3339(value: datetime.datetime, *, timespec: str = "seconds") -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    local = timezone.localtime(value)
    offset = local.utcoffset() or datetime.timedelta(0)
    if offset.total_seconds() % 60:
        local = value.astimezone(datetime.UTC)
    text = local.isoformat(timespec=timespec)
    return text[:-6] + "Z" if text.endswith("+00:00") else text
