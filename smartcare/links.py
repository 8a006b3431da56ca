"""Links that leave the portal (e-mails, FHIR references): a path made absolute with the
portal's public address (``SMARTCARE_BASE_URL``)."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    return getattr(settings, "SMARTCARE_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path
