"""Who a person is: CPR numbers and replacement numbers (``citizens.identifiers``).

The writes here are the ones a MedCom message's Patient leads to: finding the citizen a
message is about by any of its identifiers, and registering one the portal does not know yet
(DOMAIN.md, "Identifying the person"). Merging two registrations of one person is in
``citizens.merge``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from sectors.models import Organisation

from .access import Actor
from .accesslog import access_log_record
from .choices import AccessAction, AccessReason, Sex
from .cpr import parse_cpr
from .models import Citizen, CitizenIdentifier

ReplacementId = tuple[str, str]  # (system, value)


def _checked_ids(replacement_ids: Iterable[ReplacementId]) -> list[ReplacementId]:
    """The replacement numbers, each once, every bad one reported at once."""
    ids = list(dict.fromkeys((system.strip(), value.strip()) for system, value in replacement_ids))
    problems: list[str] = []
    for system, value in ids:
        try:
            CitizenIdentifier(system=system, value=value).clean_fields(exclude=["citizen"])
        except ValidationError as exc:
            problems += [message for messages in exc.message_dict.values() for message in messages]
    if problems:
        raise ValidationError({"identifier": list(dict.fromkeys(problems))})
    return ids


def _cpr_digits(cpr: str | None) -> str | None:
    if not (cpr or "").strip():
        return None
    try:
        return parse_cpr(cpr or "").digits
    except ValidationError as exc:
        raise ValidationError({"cpr": exc.messages}) from None


def _ids_q(ids: list[ReplacementId]) -> Q:
    query = Q(pk__in=[])
    for system, value in ids:
        query |= Q(system=system, value=value)
    return query


def citizens_identified(*, cpr: str | None, replacement_ids: list[ReplacementId]) -> list[Citizen]:
    """Every citizen that one of these identifiers names (a merged-away registration has none
    left, so it is never found). More than one means two registrations of one person, or a
    sender's mistake: either way not for a message to decide."""
    found: dict = {}
    if cpr:
        found.update((c.pk, c) for c in Citizen.objects.filter(cpr=cpr))
    if replacement_ids:
        owners = CitizenIdentifier.objects.filter(_ids_q(replacement_ids)).values("citizen_id")
        found.update((c.pk, c) for c in Citizen.objects.filter(pk__in=owners))
    return list(found.values())


def _identifiers_add(citizen: Citizen, ids: list[ReplacementId]) -> list[CitizenIdentifier]:
    known = set(CitizenIdentifier.objects.filter(citizen=citizen).values_list("system", "value"))
    new = [CitizenIdentifier(citizen=citizen, system=s, value=v) for s, v in ids if (s, v) not in known]
    CitizenIdentifier.objects.bulk_create(new)
    return new


@transaction.atomic
def citizen_identifier_add(*, by: Actor, citizen: Citizen, system: str, value: str) -> CitizenIdentifier:
    """Record a replacement number of a citizen. One that another citizen already has is refused:
    that is one person registered twice, for an administrator to merge."""
    ((system, value),) = _checked_ids([(system, value)])
    owner = CitizenIdentifier.objects.filter(system=system, value=value).first()
    if owner is not None:
        if owner.citizen_id == citizen.pk:
            return owner
        raise ValidationError({"identifier": [_("This replacement number is already registered for a citizen.")]})
    identifier = CitizenIdentifier.objects.create(citizen=citizen, system=system, value=value)
    access_log_record(actor=by, citizens=citizen, action=AccessAction.UPDATE, detail="replacement number added")
    return identifier


def citizen_register_from_message(
    *,
    by: Actor,
    cpr: str | None,
    replacement_ids: list[ReplacementId],
    first_name: str,
    last_name: str,
    family_name_unknown: bool = False,
    birth_date: datetime.date | None = None,
    sex: str = Sex.UNKNOWN,
    municipality: Organisation,
    gp_clinic: Organisation | None = None,
) -> Citizen:
    """The citizen a message's Patient names, registered if the portal does not know them.

    A known citizen is returned as the registry has them: a sender never changes a citizen's
    name, birth date, sex or organisations. Only a replacement number the citizen is not known
    by yet is added, so the next message that carries only that number finds them. Identifiers
    naming two citizens are refused. A new citizen is marked as registered from a message; with
    a CPR number the birth date and sex follow from it, without one they are the message's.
    The municipality is the caller's to choose (the model needs one; the intake knows the
    receiver)."""
    digits = _cpr_digits(cpr)
    ids = _checked_ids(replacement_ids)
    if digits is None and not ids:
        raise ValidationError({"identifier": [_("A CPR number or a replacement number identifies the citizen.")]})
    for attempt in (1, 2):  # a concurrent registration of the same person: the second finds it
        try:
            with transaction.atomic():
                return _find_or_register(
                    by,
                    digits,
                    ids,
                    Citizen(
                        first_name=(first_name or "").strip()[:100],
                        last_name="" if family_name_unknown else (last_name or "").strip()[:100],
                        family_name_unknown=family_name_unknown,
                        birth_date=birth_date,
                        sex=sex or Sex.UNKNOWN,
                        municipality=municipality,
                        gp_clinic=gp_clinic,
                        registered_from_message=True,
                    ),
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _find_or_register(by: Actor, digits: str | None, ids: list[ReplacementId], new: Citizen) -> Citizen:
    found = citizens_identified(cpr=digits, replacement_ids=ids)
    if len(found) > 1:
        raise ValidationError(
            {
                "identifier": [
                    _(
                        "The identifiers name different citizens. An administrator merges the registrations "
                        "of one person."
                    )
                ]
            }
        )
    if found:
        citizen = found[0]
        if _identifiers_add(citizen, ids):
            access_log_record(
                actor=by,
                citizens=citizen,
                action=AccessAction.UPDATE,
                detail="replacement number added from a message",
                reason=AccessReason.RECEIVED_MESSAGE,
            )
        return citizen
    if digits is not None:
        parsed = parse_cpr(digits)
        new.cpr, new.birth_date, new.sex = digits, parsed.birth_date, parsed.sex
    new.full_clean(validate_unique=False)
    new.save(force_insert=True)
    _identifiers_add(new, ids)
    access_log_record(
        actor=by,
        citizens=new,
        action=AccessAction.CREATE,
        detail="registered from a message",
        reason=AccessReason.RECEIVED_MESSAGE,
    )
    return new
