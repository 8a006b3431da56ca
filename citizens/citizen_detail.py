"""One citizen with everything the overview and the citizen's other pages show: municipality, GP
clinic, conditions, current stays, contact persons, replacement numbers and objections (with their
organisations).

Read with statements prepared once per process (``smartcare.prepared``), as a care plan is
(``careplans/plan_detail.py``): five indexed lookups (six with the replacement numbers) that the
ORM built and compiled on every page, which cost more than PostgreSQL took to answer them. The rows are attached as
``citizens.selectors`` would prefetch them (``current_stays`` as a list, the rest as the
relations' prefetch caches), so the pages cannot tell the difference.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connections, router
from django.db.models import Model, OuterRef, QuerySet, Subquery

from smartcare.jsonrows import from_json, json_rows
from smartcare.prepared import PreparedQuery, attach_prefetched

from .models import Citizen, CitizenCondition, CitizenIdentifier, ContactPerson, HospitalStay, Objection

_STAND_INS = [(uuid.UUID(int=1), uuid.UUID(int=2))]
_CITIZEN = PreparedQuery(
    lambda pk: Citizen.objects.select_related("municipality", "gp_clinic").filter(pk=pk),
    _STAND_INS,
)
_CONDITIONS = PreparedQuery(
    lambda pk: CitizenCondition.objects.filter(citizen_id=pk).select_related("condition"),
    _STAND_INS,
)
_CURRENT_STAYS = PreparedQuery(
    lambda pk: HospitalStay.objects.filter(citizen_id=pk, discharged_at__isnull=True).select_related(
        "department__parent"
    ),
    _STAND_INS,
)
_CONTACTS = PreparedQuery(lambda pk: ContactPerson.objects.filter(citizen_id=pk), _STAND_INS)
_IDENTIFIERS = PreparedQuery(lambda pk: CitizenIdentifier.objects.filter(citizen_id=pk), _STAND_INS)
_OBJECTIONS = PreparedQuery(
    lambda pk: Objection.objects.filter(citizen_id=pk).select_related("organisation"),
    _STAND_INS,
)


def citizen_read(pk: Any, *, with_objections: bool = True, with_identifiers: bool = False) -> Citizen | None:
    """The citizen with this id and all its pages show, or None (no such citizen, or not an
    id). Reads no access policy and logs nothing: the selectors do both. The replacement numbers
    only for the overview, which lists them: elsewhere only a person without a CPR number shows
    one (in place of it), read when shown, so the pages of the many with one cost nothing more."""
    try:
        pk = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except ValueError:
        return None
    found = _CITIZEN.rows(pk)
    if not found:
        return None
    citizen = found[0]
    attach_prefetched(citizen, "conditions", _CONDITIONS.rows(pk), reverse="citizen")
    citizen.current_stays = _CURRENT_STAYS.rows(pk)  # type: ignore[attr-defined]  # as the Prefetch's to_attr
    for stay in citizen.current_stays:  # type: ignore[attr-defined]
        stay.citizen = citizen
    attach_prefetched(citizen, "contact_persons", _CONTACTS.rows(pk), reverse="citizen")
    if with_identifiers:
        attach_prefetched(citizen, "identifiers", _IDENTIFIERS.rows(pk), reverse="citizen")
    if with_objections:
        attach_prefetched(citizen, "objections", _OBJECTIONS.rows(pk), reverse="citizen")
    return citizen


def _rows_as_json(model: type[Model]) -> Subquery:
    """The citizen's rows of ``model`` (contact persons, replacement numbers) as one JSON array in
    the model's own order: a column of the citizen's statement instead of a statement of its own."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname != "citizen_id"]
    ordering = [str(o) for o in model._meta.ordering or ()] + ["pk"]
    rows = model._default_manager.filter(citizen_id=OuterRef("pk"))
    return json_rows(model, rows, "citizen_id", fields, ordering)


def _from_json(model: type[Model], citizen: Citizen, rows: list[dict[str, Any]] | None) -> list[Any]:
    made = from_json(model, rows, citizen._state.db)
    for instance in made:
        instance.citizen = citizen  # type: ignore[attr-defined]  # both models' foreign key
    return made


def _record(**lookup: Any) -> QuerySet[Citizen]:
    return (
        Citizen.objects.select_related("municipality", "gp_clinic")
        .filter(**lookup)
        .annotate(contacts_json=_rows_as_json(ContactPerson), identifiers_json=_rows_as_json(CitizenIdentifier))
    )


# On PostgreSQL the citizen, its contact persons and its replacement numbers in one statement, by
# its id or (a FHIR search by identifier) its CPR number.
_CITIZEN_RECORD = PreparedQuery(lambda pk: _record(pk=pk), _STAND_INS)
_CITIZEN_RECORD_BY_CPR = PreparedQuery(lambda cpr: _record(cpr=cpr), [("0101010001", "0101010002")])
_PK_BY_CPR = PreparedQuery(lambda cpr: Citizen.objects.filter(cpr=cpr).only("pk"), [("0101010001", "0101010002")])


def _with_rows(citizen: Any) -> Citizen:
    attach_prefetched(citizen, "contact_persons", _from_json(ContactPerson, citizen, citizen.contacts_json))
    attach_prefetched(citizen, "identifiers", _from_json(CitizenIdentifier, citizen, citizen.identifiers_json))
    return citizen


def _on_postgresql() -> bool:
    return connections[router.db_for_read(Citizen)].vendor == "postgresql"


def citizen_record_by_cpr(cpr: str) -> Citizen | None:
    """``citizen_record_read`` of the citizen with this CPR number (one statement on PostgreSQL)."""
    if _on_postgresql():
        record: list[Any] = _CITIZEN_RECORD_BY_CPR.rows(cpr)
        return _with_rows(record[0]) if record else None
    found = _PK_BY_CPR.rows(cpr)
    return citizen_record_read(found[0].pk) if found else None


def citizen_record_read(pk: Any) -> Citizen | None:
    """The citizen's registry data alone, as the FHIR Patient has it: municipality, GP clinic,
    contact persons and replacement numbers. On PostgreSQL one prepared statement (the rows as JSON
    columns): the FHIR Patient read is the API's most frequent, and each statement more cost a
    round trip and its rows' instances. Elsewhere three prepared lookups. No access policy, no log."""
    try:
        pk = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except ValueError:
        return None
    if _on_postgresql():
        record: list[Any] = _CITIZEN_RECORD.rows(pk)
        return _with_rows(record[0]) if record else None
    found = _CITIZEN.rows(pk)
    if not found:
        return None
    citizen = found[0]
    attach_prefetched(citizen, "contact_persons", _CONTACTS.rows(pk), reverse="citizen")
    attach_prefetched(citizen, "identifiers", _IDENTIFIERS.rows(pk), reverse="citizen")
    return citizen
