"""Merging two registrations of one person (typically: first registered by a replacement number,
then the CPR number became known).

Everything that points at the absorbed citizen moves to the kept one. The relations are found
from the model's meta data, not listed here, so a model added in any app later is moved too.
Two kinds of row do not move:

- the access log: append-only, and each entry's hash covers its citizen, so re-pointing an entry
  would break the chain that proves the log untouched. The entries stay with the absorbed
  registration, which therefore stays as a row (``merged_into`` the kept citizen, with no
  identifiers and no relationships left, so no organisation sees it and no search finds it); the
  kept citizen's access report includes them.
- the care relationships: they are derived from the facts, so they are recomputed from the moved
  facts (``relationships_sync``) instead of being moved by hand.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from .access import Actor
from .accesslog import access_log_record
from .choices import AccessAction
from .cpr import parse_cpr
from .models import AccessLogEntry, CareRelationship, Citizen, CitizenCondition
from .permissions import require_merge_citizens
from .relationships import relationships_sync

# Not moved: see the module's docstring.
_STAYING = {AccessLogEntry, CareRelationship}


def citizen_relations() -> list[tuple[type[models.Model], str]]:
    """Every (model, foreign-key field) that points at a citizen, hidden ones (``related_name="+"``)
    included; a many-to-many's through model shows up here by its own foreign key."""
    return [
        (field.related_model, field.field.name)
        for field in Citizen._meta.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one)
    ]


def _refuse(message: str) -> ValidationError:
    return ValidationError({"absorb": [message]})


@transaction.atomic
def citizen_merge(*, by: Actor, keep: Citizen, absorb: Citizen) -> Citizen:
    """Move all of ``absorb``'s data to ``keep`` and retire ``absorb``; returns ``keep``.

    Refused when they are one citizen, already merged, or both have a CPR number (two CPR numbers
    are two people), and when moving a row breaks a rule that holds one row per citizen (both have
    a current hospital stay, say): that needs a person to decide first. A condition both have is
    kept once. The CPR number of the absorbed registration goes to a kept one without."""
    require_merge_citizens(by, keep, absorb)
    if keep.pk == absorb.pk:
        raise _refuse(_("Choose two different citizens."))
    locked = {c.pk: c for c in Citizen.objects.select_for_update().filter(pk__in=[keep.pk, absorb.pk]).order_by("pk")}
    keep, absorb = locked[keep.pk], locked[absorb.pk]
    if keep.merged_into_id or absorb.merged_into_id:
        raise _refuse(_("One of the citizens has already been merged into another."))
    if keep.cpr and absorb.cpr:
        raise _refuse(_("Both citizens have a CPR number, so they are two people."))
    sources = _relationship_sources(keep, absorb)
    # A condition both have stays once, with its known onset.
    for duplicate in CitizenCondition.objects.filter(
        citizen=absorb, condition_id__in=keep.conditions.values("condition_id")
    ):
        keep.conditions.filter(condition_id=duplicate.condition_id, onset_date__isnull=True).update(
            onset_date=duplicate.onset_date
        )
        duplicate.delete()
    moved = {label: count for label, count in _move_rows(keep, absorb).items() if count}
    cpr = absorb.cpr
    absorb.cpr, absorb.merged_into = None, keep
    absorb.save(update_fields=["cpr", "merged_into", "updated_at"])
    if cpr:
        parsed = parse_cpr(cpr)
        keep.cpr, keep.birth_date, keep.sex = cpr, parsed.birth_date, parsed.sex
        keep.save(update_fields=["cpr", "birth_date", "sex", "updated_at"])
    for source_type, ids in sources.items():
        relationships_sync(source_type, ids, via="merge")
    detail = f"merged {absorb.pk} into {keep.pk}: " + ", ".join(f"{k} {v}" for k, v in sorted(moved.items()))
    access_log_record(actor=by, citizens=[keep, absorb], action=AccessAction.MERGE, detail=detail)
    return keep


def _relationship_sources(keep: Citizen, absorb: Citizen) -> dict[str, set[str]]:
    """The facts behind both citizens' relationships, to recompute once the facts have moved."""
    sources: dict[str, set[str]] = defaultdict(set)
    for source_type, source_id in CareRelationship.objects.filter(citizen__in=[keep, absorb]).values_list(
        "source_type", "source_id"
    ):
        sources[source_type].add(source_id)
    return sources


def _move_rows(keep: Citizen, absorb: Citizen) -> dict[str, int]:
    """Re-point every row; a row that cannot move without breaking a constraint refuses the merge."""
    moved: dict[str, int] = {}
    for model, field in citizen_relations():
        if model in _STAYING:
            continue
        rows: Any = model._base_manager.filter(**{field: absorb})
        try:
            with transaction.atomic():
                moved[model._meta.label] = moved.get(model._meta.label, 0) + rows.update(**{field: keep})
        except IntegrityError:
            raise _refuse(
                _("The citizens cannot be merged: both have %(rows)s that only one citizen can have. Resolve it first.")
                % {"rows": model._meta.verbose_name_plural}
            ) from None
    return moved
