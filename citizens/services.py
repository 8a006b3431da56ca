"""Writes for citizens, consent, objections, hospital stays and break-the-glass.

Every write is logged in the access log in the same transaction as the change.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sectors.choices import OrganisationKind
from sectors.models import Organisation
from smartcare.arguments import UNSET, Unset, given
from smartcare.validators import gather, raise_errors

from .access import Actor, access_reason, visible_citizens
from .accesslog import access_log_record
from .choices import AccessAction, AccessReason, ObjectionTarget, StayKind
from .cpr import CPR, parse_cpr
from .models import (
    BreakGlassAccess,
    Citizen,
    CitizenCondition,
    Condition,
    ConsentEvent,
    ContactPerson,
    HospitalStay,
    Objection,
)
from .permissions import require_break_the_glass, require_register_citizens

# The review functions live in ``reviews``; their old home still names them.
from .reviews import access_review_done, access_review_flag, break_glass_review, may_review  # noqa: F401


@dataclass(frozen=True)
class ConditionItem:
    condition: Condition
    onset_date: datetime.date | None = None


@dataclass(frozen=True)
class ContactItem:
    name: str
    phone: str
    relation: str = ""
    is_primary: bool = False


def _parsed_cpr(value: str) -> CPR:
    try:
        return parse_cpr(value)
    except ValidationError as exc:
        raise ValidationError({"cpr": exc.messages}) from None


def _cpr_or_error(value: str) -> str:
    return _parsed_cpr(value).digits


class AlreadyRegistered(ValidationError):
    """The CPR number is registered. ``citizen_pk`` is set only when the actor may see that
    citizen (the page links to it); otherwise the answer says nothing about the citizen."""

    def __init__(self, message: str, citizen_pk: Any = None):
        super().__init__({"cpr": [message]})
        self.citizen_pk = citizen_pk


def _refuse_registered(actor: Actor, citizen: Citizen) -> None:
    """A registration of a CPR number that is already registered. Outside the actor's scope the
    attempt is written to the access log (committed, although the registration fails), so the
    citizen's own organisations and the administrators see who tried."""
    if visible_citizens(actor.acting, actor.user).filter(pk=citizen.pk).exists():
        raise AlreadyRegistered(
            _("A citizen with this CPR number is already registered in your organisation's care."), citizen.pk
        )
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.REGISTER_ATTEMPT,
        detail="registration refused: registered by another organisation",
    )
    raise AlreadyRegistered(
        _(
            "This CPR number cannot be registered by your organisation. Ask the organisation that has the "
            "citizen in its care (the citizen's GP clinic or municipality). The attempt is logged."
        )
    )


def citizen_create(
    *,
    actor: Actor,
    cpr: str,
    first_name: str,
    last_name: str,
    municipality: Organisation,
    street: str = "",
    postal_code: str = "",
    city: str = "",
    phone: str = "",
    gp_clinic: Organisation | None = None,
    receives_home_care: bool = False,
    conditions: Iterable[ConditionItem] = (),
    contact_persons: Iterable[ContactItem] = (),
) -> Citizen:
    """Register a citizen. The registering organisation must end up with a care relationship
    (its own clinic as GP clinic, or its own municipality), otherwise it could not see the
    citizen it just registered. A CPR number that is already registered is refused outside the
    transaction of the registration, so the logged attempt stays."""
    require_register_citizens(actor)
    conditions, contact_persons = list(conditions), list(contact_persons)
    errors: dict[str, list] = {}
    parsed = gather(errors, _parsed_cpr, cpr)
    if parsed is not None and (existing := Citizen.objects.filter(cpr=parsed.digits).first()) is not None:
        _refuse_registered(actor, existing)
    citizen = Citizen(
        first_name=first_name,
        last_name=last_name,
        street=street,
        postal_code=postal_code,
        city=city,
        phone=phone,
        municipality=municipality,
        gp_clinic=gp_clinic,
        receives_home_care=receives_home_care,
    )
    if parsed is not None:
        citizen.cpr, citizen.birth_date, citizen.sex = parsed.digits, parsed.birth_date, parsed.sex
    # A CPR registered meanwhile is an IntegrityError on insert (below), hence no unique check here.
    _check_citizen(citizen, conditions, contact_persons, errors, exclude=() if parsed else ("cpr", "birth_date", "sex"))
    raise_errors(errors)
    try:
        return _citizen_insert(actor=actor, citizen=citizen, conditions=conditions, contact_persons=contact_persons)
    except IntegrityError:  # registered concurrently by someone else
        existing = Citizen.objects.filter(cpr=citizen.cpr).first()
        if existing is None:
            raise
        _refuse_registered(actor, existing)
        raise  # pragma: no cover - _refuse_registered always raises


@transaction.atomic
def _citizen_insert(
    *,
    actor: Actor,
    citizen: Citizen,
    conditions: list[ConditionItem],
    contact_persons: list[ContactItem],
) -> Citizen:
    citizen.save(force_insert=True)
    _set_conditions(citizen, conditions)
    _set_contacts(citizen, contact_persons)
    if access_reason(actor, citizen) is None:
        raise ValidationError(
            _("Register the citizen with your own clinic as GP clinic or your own municipality of residence.")
        )
    access_log_record(actor=actor, citizens=citizen, action=AccessAction.CREATE, reason=AccessReason.CREATED)
    return citizen


@transaction.atomic
def citizen_update(
    *,
    actor: Actor,
    citizen: Citizen,
    first_name: str | Unset = UNSET,
    last_name: str | Unset = UNSET,
    street: str | Unset = UNSET,
    postal_code: str | Unset = UNSET,
    city: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    municipality: Organisation | Unset = UNSET,
    gp_clinic: Organisation | None | Unset = UNSET,
    receives_home_care: bool | Unset = UNSET,
    conditions: Iterable[ConditionItem] | None = None,
    contact_persons: Iterable[ContactItem] | None = None,
) -> Citizen:
    """Change a citizen the actor can see (the caller got it through the access policy). Fields
    left ``UNSET`` keep their value; a ``conditions`` or ``contact_persons`` list replaces the
    current one, None leaves it."""
    require_register_citizens(actor)
    reason = access_reason(actor, citizen)
    if reason is None:
        raise PermissionDenied
    fields = given(
        first_name=first_name,
        last_name=last_name,
        street=street,
        postal_code=postal_code,
        city=city,
        phone=phone,
        municipality=municipality,
        gp_clinic=gp_clinic,
        receives_home_care=receives_home_care,
    )
    changed = [name for name, value in fields.items() if getattr(citizen, name) != value]
    for name, value in fields.items():
        setattr(citizen, name, value)
    if str(fields.get("last_name") or "").strip():  # the family name is known now
        citizen.family_name_unknown = False
    conditions = None if conditions is None else list(conditions)
    contact_persons = None if contact_persons is None else list(contact_persons)
    errors: dict[str, list] = {}
    _check_citizen(citizen, conditions or [], contact_persons or [], errors)
    raise_errors(errors)
    citizen.save()
    if conditions is not None:
        _set_conditions(citizen, conditions)
        changed.append("conditions")
    if contact_persons is not None:
        _set_contacts(citizen, contact_persons)
        changed.append("contact_persons")
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=", ".join(changed) or "no change",
        reason=reason[0],
        reason_text=reason[1],
    )
    return citizen


def _check_citizen(
    citizen: Citizen, conditions: list[ConditionItem], contacts: list[ContactItem], errors: dict, exclude=()
) -> None:
    """Every problem of a registration or an edit, added to ``errors`` (shown all at once)."""
    gather(errors, citizen.full_clean, exclude=list(exclude), validate_unique=False)
    gather(errors, citizen_items_check, birth_date=citizen.birth_date, conditions=conditions, contact_persons=contacts)


def citizen_items_check(
    *, birth_date: datetime.date | None, conditions: list[ConditionItem], contact_persons: list[ContactItem]
) -> None:
    """The problems of a citizen's condition and contact lists, all at once. Also asked by the
    pages while another field is wrong, so the user sees these in the same answer."""
    errors: dict[str, list] = {}
    if len({item.condition.pk for item in conditions}) != len(conditions):
        errors.setdefault("conditions", []).append(_("A condition is listed twice."))
    onsets = [item.onset_date for item in conditions if item.onset_date]
    if any(onset > timezone.localdate() for onset in onsets):
        errors.setdefault("conditions", []).append(_("The onset date cannot be in the future."))
    if birth_date and any(onset < birth_date for onset in onsets):
        errors.setdefault("conditions", []).append(_("The onset date cannot be before the birth date."))
    if sum(1 for item in contact_persons if item.is_primary) > 1:
        errors["contact_persons"] = [_("Only one contact person can be the primary contact.")]
    for item in contact_persons:
        contact = ContactPerson(name=item.name, phone=item.phone, relation=item.relation, is_primary=item.is_primary)
        gather(errors, contact.full_clean, exclude=["citizen"])
    raise_errors(errors)


def _set_conditions(citizen: Citizen, items: list[ConditionItem]) -> None:
    """Checked by ``_check_citizen`` first."""
    codes = [item.condition.pk for item in items]
    citizen.conditions.exclude(condition_id__in=codes).delete()
    existing = {cc.condition_id: cc for cc in citizen.conditions.all()}
    for item in items:
        current = existing.get(item.condition.pk)
        if current is None:
            CitizenCondition.objects.create(citizen=citizen, condition=item.condition, onset_date=item.onset_date)
        elif current.onset_date != item.onset_date:
            current.onset_date = item.onset_date
            current.save(update_fields=["onset_date"])


def _set_contacts(citizen: Citizen, items: list[ContactItem]) -> None:
    """Checked by ``_check_citizen`` first."""
    citizen.contact_persons.all().delete()
    for item in items:
        ContactPerson.objects.create(
            citizen=citizen, name=item.name, phone=item.phone, relation=item.relation, is_primary=item.is_primary
        )


@transaction.atomic
def consent_record(*, actor: Actor, citizen: Citizen, consent: bool, note: str = "") -> Citizen:
    reason = access_reason(actor, citizen)
    if reason is None:
        raise PermissionDenied
    before = citizen.consent_to_share
    citizen.consent_to_share = consent
    citizen.consent_recorded_at = timezone.now()
    citizen.consent_recorded_by = actor.user
    citizen.save(update_fields=["consent_to_share", "consent_recorded_at", "consent_recorded_by", "updated_at"])
    description = (
        _("Consent to sharing across sectors given") if consent else _("Consent to sharing across sectors refused")
    )
    ConsentEvent.objects.create(
        citizen=citizen, by=actor.user, organisation=actor.organisation, description=description, note=note
    )
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.CONSENT,
        detail=f"consent {before} -> {consent}",
        reason=reason[0],
        reason_text=reason[1],
    )
    return citizen


@transaction.atomic
def objection_record(
    *,
    actor: Actor,
    citizen: Citizen,
    target: str,
    sector: str = "",
    organisation: Organisation | None = None,
    note: str = "",
) -> Objection:
    reason = access_reason(actor, citizen)
    if reason is None:
        raise PermissionDenied
    objection = Objection(
        citizen=citizen,
        target=target,
        sector=sector if target == ObjectionTarget.SECTOR else "",
        organisation=organisation if target == ObjectionTarget.ORGANISATION else None,
        note=note,
        recorded_by=actor.user,
    )
    objection.full_clean()
    objection.save()
    ConsentEvent.objects.create(
        citizen=citizen,
        by=actor.user,
        organisation=actor.organisation,
        description=_("Objection recorded against %(target)s") % {"target": objection},
        note=note,
    )
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.CONSENT,
        detail=f"objection against {objection.target}:{objection.sector or objection.organisation_id}",
        reason=reason[0],
        reason_text=reason[1],
    )
    return objection


@transaction.atomic
def objection_withdraw(*, actor: Actor, objection: Objection, note: str = "") -> Objection:
    citizen = objection.citizen
    reason = access_reason(actor, citizen)
    if reason is None:
        raise PermissionDenied
    if objection.withdrawn_at is not None:
        raise ValidationError(_("The objection has already been withdrawn."))
    objection.withdrawn_at = timezone.now()
    objection.withdrawn_by = actor.user
    objection.save(update_fields=["withdrawn_at", "withdrawn_by"])
    ConsentEvent.objects.create(
        citizen=citizen,
        by=actor.user,
        organisation=actor.organisation,
        description=_("Objection against %(target)s withdrawn") % {"target": objection},
        note=note,
    )
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.CONSENT,
        detail=f"objection {objection.pk} withdrawn",
        reason=reason[0],
        reason_text=reason[1],
    )
    return objection


def break_the_glass_hours() -> int:
    return getattr(settings, "BREAK_THE_GLASS_HOURS", 4)


MIN_REASON_LENGTH = 15


@transaction.atomic
def break_glass_open(*, actor: Actor, cpr: str, reason: str) -> Citizen:
    """Open a citizen without a care relationship, for a limited time, with a stated reason.

    The only way a CPR outside the user's scope can be found; it is logged, flagged for review
    and listed for the organisation's administrators.
    """
    require_break_the_glass(actor)
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": [_("Describe the reason in at least %(n)d characters.") % {"n": MIN_REASON_LENGTH}]}
        )
    digits = _cpr_or_error(cpr)
    citizen = Citizen.objects.filter(cpr=digits).first()
    if citizen is None:
        raise ValidationError({"cpr": [_("No citizen with this CPR number is registered.")]})
    now = timezone.now()
    grant = BreakGlassAccess(
        user=actor.user,
        organisation=actor.organisation,
        citizen=citizen,
        reason=reason,
        started_at=now,
        expires_at=now + datetime.timedelta(hours=break_the_glass_hours()),
    )
    grant.full_clean()
    grant.save()
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.BREAK_THE_GLASS,
        detail=f"until {grant.expires_at:%Y-%m-%d %H:%M}",
        reason=AccessReason.BREAK_THE_GLASS,
        reason_text=reason,
    )
    return citizen


@dataclass(frozen=True)
class NotifiedCitizen:
    """The citizen a hospital notification names, and the name and address the sender gave where
    they differ from the portal's (kept on the message, shown as given by the sender)."""

    citizen: Citizen
    given_name: str = ""
    given_address: str = ""

    @property
    def event_fields(self) -> dict[str, Any]:
        """The arguments of the hospital event about this citizen."""
        return {"citizen": self.citizen, "given_name": self.given_name, "given_address": self.given_address}


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


@transaction.atomic
def citizen_register_from_notification(
    *,
    actor: Actor,
    municipality: Organisation,
    cpr: str,
    first_name: str = "",
    last_name: str = "",
    street: str = "",
    postal_code: str = "",
    city: str = "",
) -> NotifiedCitizen:
    """A hospital notification received from a hospital's own system names a citizen and the
    municipality it is sent to. The hospital acts under the Health Act (no consent needed), so
    this is the one message that registers a citizen the portal does not know yet.

    A known citizen's name, address and municipality of residence are never changed by a sender:
    they come from the citizen registry. A name or address that differs is returned to be kept
    on the message, and a notification sent to another municipality than the citizen's is
    refused (it would hand the citizen to that municipality)."""
    if actor.organisation is None or actor.organisation.kind != OrganisationKind.HOSPITAL_DEPARTMENT:
        raise PermissionDenied(_("Only hospital departments record hospital events."))
    if municipality.kind != OrganisationKind.MUNICIPALITY:
        raise ValidationError({"municipality": [_("Hospital notifications are sent to a municipality.")]})
    digits = _cpr_or_error(cpr)
    given = {
        "first_name": (first_name or "").strip()[:100],
        "last_name": (last_name or "").strip()[:100],
        "street": (street or "").strip()[:200],
        "postal_code": (postal_code or "").strip()[:4],
        "city": (city or "").strip()[:100],
    }
    citizen = Citizen.objects.filter(cpr=digits).first()
    if citizen is None:
        if not given["first_name"] or not given["last_name"]:
            raise ValidationError({"name": [_("The citizen's first and last name are needed to register them.")]})
        parsed = parse_cpr(digits)
        citizen = Citizen(cpr=digits, birth_date=parsed.birth_date, sex=parsed.sex, municipality=municipality, **given)
        citizen.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                citizen.save(force_insert=True)
        except IntegrityError:  # registered concurrently: that one is the citizen
            citizen = Citizen.objects.get(cpr=digits)
        else:
            access_log_record(
                actor=actor,
                citizens=citizen,
                action=AccessAction.CREATE,
                detail="registered from a hospital notification",
                reason=AccessReason.HOSPITAL_STAY,
            )
            return NotifiedCitizen(citizen)
    if citizen.municipality_id != municipality.pk:
        raise ValidationError(
            {
                "receiver": [
                    _(
                        "According to the citizen registry the citizen does not live in %(org)s. A hospital "
                        "notification is sent to the citizen's municipality of residence."
                    )
                    % {"org": municipality.name}
                ]
            }
        )
    name = " ".join(part for part in (given["first_name"], given["last_name"]) if part)
    differs = {key for key, value in given.items() if value and not _same(value, getattr(citizen, key))}
    address = ", ".join(
        part for part in (given["street"], " ".join(filter(None, (given["postal_code"], given["city"])))) if part
    )
    return NotifiedCitizen(
        citizen,
        given_name=name[:200] if differs & {"first_name", "last_name"} else "",
        given_address=address[:300] if differs & {"street", "postal_code", "city"} else "",
    )


# --- hospital stays: the citizen's current stay ---------------------------------------------


@transaction.atomic
def hospital_stay_start(
    *, citizen: Citizen, department: Organisation, admitted_at: datetime.datetime, kind: str = StayKind.INPATIENT
) -> HospitalStay:
    """A new stay; an open stay elsewhere is closed first (a transfer is a new start).

    The open stay is locked without its key (``no_key``): the messages and events written about
    it in the same breath only reference it. The new stay's own rules are checked without asking
    the database what it enforces anyway (the citizen and department are the rows given, the one
    open stay is the one just closed under the lock): those checks cost a dozen round trips."""
    if department.kind != OrganisationKind.HOSPITAL_DEPARTMENT:
        raise ValidationError({"department": [_("Choose a hospital department.")]})
    current = (
        HospitalStay.objects.select_for_update(no_key=True).filter(citizen=citizen, discharged_at__isnull=True).first()
    )
    if current is not None:
        if admitted_at < current.admitted_at:
            raise ValidationError({"admitted_at": [_("The admission is before the current stay began.")]})
        current.discharged_at = admitted_at
        current.save(update_fields=["discharged_at"])
    stay = HospitalStay(citizen=citizen, department=department, admitted_at=admitted_at, kind=kind)
    stay.full_clean(exclude=["citizen", "department"], validate_unique=False, validate_constraints=False)
    stay.save(force_insert=True)
    return stay


@transaction.atomic
def hospital_stay_end(*, citizen: Citizen, discharged_at: datetime.datetime) -> HospitalStay:
    stay = (
        HospitalStay.objects.select_for_update(no_key=True).filter(citizen=citizen, discharged_at__isnull=True).first()
    )
    if stay is None:
        raise ValidationError(_("The citizen has no current hospital stay."))
    if discharged_at < stay.admitted_at:
        raise ValidationError({"discharged_at": [_("Discharge cannot be before admission.")]})
    stay.discharged_at = discharged_at
    stay.on_leave = False
    stay.save(update_fields=["discharged_at", "on_leave"])
    return stay
