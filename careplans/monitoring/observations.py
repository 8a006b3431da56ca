"""Recording one measurement, and correcting one without overwriting it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen
from smartcare.transactions import retry_on_deadlock

from ..choices import ObservationStatus
from ..models import Observation
from ..services.history import _require_access
from .alerts import _alerts_for
from .readings import Reading, validate_reading
from .thresholds import current_thresholds


def _new_observation(
    actor: Actor, citizen: Citizen, reading: Reading, values, replaces: Observation | None = None
) -> Observation:
    return Observation(
        citizen=citizen,
        code=reading.code,
        value=values[0],
        value_2=values[1],
        unit=reading.unit,
        effective_at=reading.effective_at,
        source=reading.source,
        entered_by=actor.user,
        entered_by_organisation=actor.organisation,
        device_id=reading.device_id,
        external_id=reading.external_id,
        note=reading.note,
        replaces=replaces,
    )


def _store(actor: Actor, citizen: Citizen, reading: Reading, values, replaces: Observation | None = None):
    observation = _new_observation(actor, citizen, reading, values, replaces)
    observation.full_clean(exclude=["replaces"] if replaces is None else None, validate_unique=False)
    observation.save()
    return observation


def _duplicate(actor: Actor, reading: Reading) -> Observation | None:
    if not reading.external_id:
        return None
    return Observation.objects.filter(
        entered_by_organisation=actor.organisation, external_id=reading.external_id
    ).first()


@retry_on_deadlock
@transaction.atomic
def observation_record(*, actor: Actor, citizen: Citizen, reading: Reading) -> Observation:
    """Store one measurement and raise the alerts it calls for. A reading whose external id was
    received before is not stored again (the earlier observation is returned)."""
    access = _require_access(actor, citizen)
    values = validate_reading(reading)
    existing = _duplicate(actor, reading)
    if existing is not None:
        return existing
    observation = _store(actor, citizen, reading, values)
    _alerts_for(observation, current_thresholds(citizen))
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=f"observation {reading.code}",
        reason=access[0],
        reason_text=access[1],
    )
    return observation


@retry_on_deadlock
@transaction.atomic
def observation_correct(
    *, actor: Actor, observation: Observation, reading: Reading | None = None, note: str = ""
) -> Observation:
    """Correct a measurement without overwriting it: with a new reading the old one becomes
    amended and the new one replaces it; without one the old one is marked entered-in-error."""
    access = _require_access(actor, observation.citizen)
    observation = Observation.objects.select_for_update().get(pk=observation.pk)
    if observation.status != ObservationStatus.FINAL:
        raise ValidationError(_("Only the current version of a measurement can be corrected."))
    if reading is None:
        observation.status = ObservationStatus.ENTERED_IN_ERROR
        observation.note = (note or observation.note)[:300]
        observation.save(update_fields=["status", "note"])
        result = observation
    else:
        if reading.code != observation.code:
            raise ValidationError({"code": [_("A correction is of the same measurement type.")]})
        values = validate_reading(reading)
        observation.status = ObservationStatus.AMENDED
        observation.save(update_fields=["status"])
        result = _store(actor, observation.citizen, reading, values, replaces=observation)
        _alerts_for(result, current_thresholds(observation.citizen))
    access_log_record(
        actor=actor,
        citizens=observation.citizen,
        action=AccessAction.UPDATE,
        detail=f"observation corrected {observation.pk}",
        reason=access[0],
        reason_text=access[1],
    )
    return result
