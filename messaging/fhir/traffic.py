"""What each ``$process-message`` call was answered (``FhirCall``), for the administrators' page
of gateways and integrations: traffic per account and its last errors."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..models import FhirCall

logger = logging.getLogger(__name__)


def call_record(*, user: Any, status: int, resource: dict[str, Any], header_id: str = "", event: str = "") -> None:
    """Append the call; a failure to record is logged and never changes the answer."""
    code, issue, text = _outcome(resource)
    try:
        FhirCall.objects.create(
            user=user,
            status=status,
            header_id=(header_id or "")[:64],
            event=(event or "")[:60],
            ack_code=code[:20],
            issue=issue[:60],
            text=text[:500],
        )
    except Exception:  # noqa: BLE001 - the message's answer stands whatever happens here
        logger.exception("$process-message: the call could not be recorded")


def calls_prune(*, now: datetime.datetime | None = None) -> int:
    """Forget calls older than ``FHIR_CALL_DAYS`` (the page shows 30 days; the messages and their
    acknowledgements are kept with the messages themselves)."""
    days = getattr(settings, "FHIR_CALL_DAYS", 90)
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    deleted, _by_model = FhirCall.objects.filter(at__lt=cutoff).delete()
    return deleted


def _outcome(resource: dict[str, Any]) -> tuple[str, str, str]:
    """The acknowledgement code and the first issue's MSG_ code and text, from the answer."""
    resources = [resource] + [(e or {}).get("resource") or {} for e in resource.get("entry") or []]
    code = ""
    for item in resources:
        if item.get("resourceType") == "MessageHeader":
            code = (item.get("response") or {}).get("code") or ""
    for item in resources:
        if item.get("resourceType") == "OperationOutcome":
            for found in item.get("issue") or []:
                if found.get("severity") in ("fatal", "error") or code not in ("", "ok"):
                    details = found.get("details") or {}
                    coding = next(iter(details.get("coding") or []), {})
                    return code, coding.get("code") or "", details.get("text") or found.get("diagnostics") or ""
    return code, "", ""
