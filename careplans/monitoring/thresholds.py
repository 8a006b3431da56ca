"""A citizen's limits for each measured quantity (versioned: a change keeps the old one) and
how a value compares with them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen
from citizens.permissions import require_set_thresholds
from smartcare.transactions import retry_on_deadlock

from ..choices import AlertSeverity
from ..measurements import COMPONENT_BY_CODE
from ..models import Threshold
from ..services.history import _require_access
from .readings import _decimal


def current_thresholds(citizen: Citizen) -> dict[str, Threshold]:
    return {t.code: t for t in Threshold.objects.filter(citizen=citizen, valid_to__isnull=True)}


def evaluate(value: Decimal, threshold: Threshold | None) -> str | None:
    """The alert severity for a value, or None when it is within the limits (limits included)."""
    if threshold is None:
        return None
    if (threshold.red_low is not None and value < threshold.red_low) or (
        threshold.red_high is not None and value > threshold.red_high
    ):
        return AlertSeverity.RED
    if (threshold.yellow_low is not None and value < threshold.yellow_low) or (
        threshold.yellow_high is not None and value > threshold.yellow_high
    ):
        return AlertSeverity.YELLOW
    return None


@retry_on_deadlock
@transaction.atomic
def threshold_set(
    *,
    actor: Actor,
    citizen: Citizen,
    code: str,
    reason: str,
    red_low: Any = None,
    yellow_low: Any = None,
    yellow_high: Any = None,
    red_high: Any = None,
) -> Threshold:
    """A new version of the citizen's limits for one measured quantity; the old one is kept."""
    require_set_thresholds(actor)
    access = _require_access(actor, citizen)
    if code not in COMPONENT_BY_CODE:
        raise ValidationError({"code": [_("Unknown measured quantity %(code)s.") % {"code": code}]})
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Give the clinical reason for these limits.")]})
    limits = {
        name: (None if value in (None, "") else _decimal(value, name))
        for name, value in (
            ("red_low", red_low),
            ("yellow_low", yellow_low),
            ("yellow_high", yellow_high),
            ("red_high", red_high),
        )
    }
    if all(v is None for v in limits.values()):
        raise ValidationError(_("Set at least one limit."))
    measurement, _index = COMPONENT_BY_CODE[code]
    current = Threshold.objects.select_for_update().filter(citizen=citizen, code=code, valid_to__isnull=True).first()
    now = timezone.now()
    version = 1
    if current is not None:
        current.valid_to = now
        current.save(update_fields=["valid_to"])
        version = current.version + 1
    threshold = Threshold(
        citizen=citizen,
        code=code,
        unit=measurement.unit,
        reason=reason.strip(),
        version=version,
        set_by=actor.user,
        set_by_organisation=actor.organisation,
        valid_from=now,
        **limits,
    )
    threshold.full_clean()
    threshold.save()
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=f"threshold {code} v{version}",
        reason=access[0],
        reason_text=access[1],
    )
    return threshold
