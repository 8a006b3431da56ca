"""Measurements from devices, many at a time: all or nothing, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from citizens.access import Actor
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from sectors.models import Organisation
from smartcare.transactions import retry_on_deadlock

from ..models import Observation, Threshold
from .alerts import _alerts_for
from .observations import _new_observation
from .readings import Reading, validate_reading

BULK_LIMIT = 1000


@dataclass(frozen=True)
class BulkItem:
    citizen_id: Any
    reading: Reading


class BulkValidationError(ValidationError):
    """The items of a bulk request that are wrong: ``item_errors`` maps each one's index (in the
    list as sent) to its field errors. Django's ValidationError cannot nest a dict of dicts, so
    the per-item shape travels here; ``message_dict`` carries a flat, readable version."""

    def __init__(self, item_errors: dict[int, dict[str, list[str]]]):
        self.item_errors = dict(sorted(item_errors.items()))
        super().__init__(
            {
                "items": [
                    f"{index}: {field}: {message}"
                    for index, fields in self.item_errors.items()
                    for field, messages in fields.items()
                    for message in messages
                ]
            }
        )


def check_bulk_size(count: int) -> None:
    if count < 1:
        raise ValidationError({"items": [_("Send at least one measurement.")]})
    if count > BULK_LIMIT:
        raise ValidationError({"items": [_("At most %(n)d measurements per request.") % {"n": BULK_LIMIT}]})


def _bulk_prepare(actor: Actor, items: list[BulkItem]):
    """Validate every item without writing: one query for the citizens, none per item."""
    from citizens.access import visible_citizens

    check_bulk_size(len(items))
    ids = {str(item.citizen_id) for item in items}
    visible = visible_citizens(actor.acting, actor.user, with_reason=True).filter(pk__in=_valid_uuids(ids))
    citizens = {str(c.pk): c for c in visible}
    errors: dict[int, dict[str, list[str]]] = {}
    prepared: list[Observation] = []
    for index, item in enumerate(items):
        citizen = citizens.get(str(item.citizen_id))
        if citizen is None:
            errors[index] = {"citizen": [_("No such citizen.")]}
            continue
        try:
            values = validate_reading(item.reading)
            observation = _new_observation(actor, citizen, item.reading, values)
            # The foreign keys are known to exist and duplicates are looked up together below.
            observation.full_clean(
                exclude=["citizen", "entered_by", "entered_by_organisation", "replaces"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            errors[index] = exc.message_dict
            continue
        prepared.append(observation)
    return citizens, prepared, errors


def observation_bulk_validate(*, actor: Actor, items: list[BulkItem]) -> dict[int, dict[str, list[str]]]:
    """The errors ``observation_bulk_record`` would report, by item index; stores nothing."""
    return _bulk_prepare(actor, items)[2]


@retry_on_deadlock
@transaction.atomic
def observation_bulk_record(*, actor: Actor, items: list[BulkItem]) -> list[Observation]:
    """All or nothing, for devices: every item is validated first; if any is wrong nothing is
    stored and a ``BulkValidationError`` names the wrong items by index. A reading whose external
    id was received before (or earlier in the same list) is not stored again: the earlier
    observation is returned in its place. A fixed number of queries for any number of readings,
    plus the inserts and the alerts raised."""
    citizens, prepared, errors = _bulk_prepare(actor, items)
    if errors:
        raise BulkValidationError(errors)
    external_ids = {o.external_id for o in prepared if o.external_id}
    known: dict[str, Observation] = {}
    if external_ids:
        known = {
            o.external_id: o
            for o in Observation.objects.filter(
                entered_by_organisation=actor.organisation, external_id__in=external_ids
            )
        }
    stored: list[Observation] = []
    new: list[Observation] = []
    for observation in prepared:
        if observation.external_id:
            if observation.external_id in known:
                stored.append(known[observation.external_id])
                continue
            known[observation.external_id] = observation
        new.append(observation)
        stored.append(observation)
    try:
        with transaction.atomic():
            Observation.objects.bulk_create(new)
    except IntegrityError:  # the same external id arrived in a concurrent request
        raise ValidationError(
            {"items": [_("Some of these measurements are being received in another request; send them again.")]}
        ) from None
    thresholds: dict[Any, dict[str, Threshold]] = {}
    for threshold in Threshold.objects.filter(citizen_id__in=[c.pk for c in citizens.values()], valid_to__isnull=True):
        thresholds.setdefault(threshold.citizen_id, {})[threshold.code] = threshold
    recipients: dict[tuple[Any, str], list[Organisation]] = {}
    for observation in new:
        _alerts_for(observation, thresholds.get(observation.citizen_id, {}), recipients)
    access_log_record(
        actor=actor,
        citizens=citizens.values(),
        action=AccessAction.UPDATE,
        detail="observations (bulk)",
        reasons={citizen.pk: citizen.access_via for citizen in citizens.values()},
    )
    return stored


def _valid_uuids(values: Iterable[str]) -> list[str]:
    import uuid

    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except (ValueError, AttributeError, TypeError):
            continue
    return valid
