"""The API's citizen (``CitizenSerializer``'s shape) read in one hand-written statement.

The citizen detail and the exact-CPR search are the API's hottest reads (every EPJ looks a patient
up by CPR, then reads it). Through the ORM and the serializer one took six statements and about
7 ms of Python: building and compiling the statement and three prefetches cost more than running
them, then model instances and serializer fields. Here one statement, written once, reads the
citizen with its municipality, GP clinic, current stay, conditions, contact persons and
replacement numbers (the last three as JSON arrays), and the answer is shaped from the row directly.

The serializer stays what the schema documents and what writes answer with;
``citizens/tests/test_documents.py`` compares the two for citizens with and without every part,
so a field added to one and not the other fails there. The access gate and the log stay where
they are: ``selectors.citizen_document_get`` asks the gate first and logs what it answers.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connections, router
from django.utils.translation import get_language

from sectors.models import Organisation
from smartcare.api.fields import DateTimeField

from .cpr import format_cpr
from .identifiers import replacement_label
from .models import Citizen, CitizenCondition, CitizenIdentifier, Condition, ContactPerson, HospitalStay

_DATETIME = DateTimeField()

# Each database's JSON aggregate of the rows of a subquery that is already in order (SQLite
# aggregates them in the subquery's order, PostgreSQL is told the order again).
_ARRAY = {
    "postgresql": "(SELECT json_agg(json_build_array({columns}) ORDER BY {order}) FROM ({rows}) t)",
    "sqlite": "(SELECT json_group_array(json_array({columns})) FROM ({rows}) t)",
}


def _statement(vendor: str) -> str:
    """The statement for ``{ids}`` placeholders of citizen ids."""
    citizen, organisation = Citizen._meta.db_table, Organisation._meta.db_table
    stay = HospitalStay._meta.db_table
    conditions = _ARRAY[vendor].format(
        columns="t.icd10_code, t.name_da, t.name_en, t.onset_date",
        order="t.icd10_code",
        rows=f"SELECT k.icd10_code, k.name_da, k.name_en, h.onset_date FROM {CitizenCondition._meta.db_table} h"  # noqa: S608 - table names
        f" JOIN {Condition._meta.db_table} k ON k.id = h.condition_id WHERE h.citizen_id = c.id"
        " ORDER BY k.icd10_code",
    )
    contacts = _ARRAY[vendor].format(
        columns="t.name, t.relation, t.phone, t.is_primary",
        order="t.is_primary DESC, t.name",
        rows=f"SELECT p.name, p.relation, p.phone, p.is_primary FROM {ContactPerson._meta.db_table} p"  # noqa: S608 - table names
        " WHERE p.citizen_id = c.id ORDER BY p.is_primary DESC, p.name",
    )
    identifiers = _ARRAY[vendor].format(
        columns="t.system, t.value",
        order="t.created_at, t.id",
        rows=f"SELECT i.system, i.value, i.created_at, i.id FROM {CitizenIdentifier._meta.db_table} i"  # noqa: S608 - table names
        " WHERE i.citizen_id = c.id ORDER BY i.created_at, i.id",
    )
    # Table names from the models; the values are parameters.
    return (
        "SELECT c.id, c.cpr, c.birth_date, c.sex, c.first_name, c.last_name, c.street, c.postal_code, c.city,"  # noqa: S608
        " c.phone, m.id, m.name, m.municipality_code, g.id, g.name, c.receives_home_care, c.consent_to_share,"
        " c.consent_recorded_at, d.id, d.name, u.name, s.kind, s.admitted_at, s.on_leave,"
        f" {conditions}, {contacts}, c.family_name_unknown, c.registered_from_message, {identifiers}"
        f" FROM {citizen} c JOIN {organisation} m ON m.id = c.municipality_id"
        f" LEFT JOIN {organisation} g ON g.id = c.gp_clinic_id"
        # The current stay as Citizen.current_stay chooses it: open, the latest admitted first.
        f" LEFT JOIN {stay} s ON s.id = (SELECT o.id FROM {stay} o WHERE o.citizen_id = c.id"
        " AND o.discharged_at IS NULL ORDER BY o.admitted_at DESC LIMIT 1)"
        f" LEFT JOIN {organisation} d ON d.id = s.department_id LEFT JOIN {organisation} u ON u.id = d.parent_id"
        " WHERE c.id IN ({ids})"
    )


_STATEMENTS: dict[str, str] = {}


def citizen_documents(citizen_ids: Iterable[Any], reasons: Mapping[Any, str]) -> dict[uuid.UUID, dict[str, Any]]:
    """The citizens with these ids (those that exist), shaped as ``CitizenSerializer`` shapes them,
    ``access_via`` taken from ``reasons``. Reads no access policy and logs nothing: the callers
    (the selectors) ask the gate first and log what they answer."""
    ids = [value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)) for value in citizen_ids]
    if not ids:
        return {}
    alias = router.db_for_read(Citizen)
    connection = connections[alias]
    statement = _STATEMENTS.get(connection.vendor)
    if statement is None:
        statement = _STATEMENTS[connection.vendor] = _statement(connection.vendor)
    prepare = Citizen._meta.pk.get_db_prep_value
    with connection.cursor() as cursor:
        cursor.execute(statement.format(ids=", ".join(["%s"] * len(ids))), [prepare(pk, connection) for pk in ids])
        rows = cursor.fetchall()
    english = (get_language() or "da").startswith("en")
    tz = connection.timezone
    documents = {}
    for row in rows:
        document = _document(row, english, tz)
        pk = uuid.UUID(document["id"])
        document["access_via"] = reasons.get(pk, "")
        documents[pk] = document
    return documents


def _document(row: tuple[Any, ...], english: bool, tz: datetime.tzinfo | None) -> dict[str, Any]:
    (
        pk, cpr, birth_date, sex, first_name, last_name, street, postal_code, city, phone,
        municipality_id, municipality_name, municipality_code, gp_id, gp_name, home_care, consent, consent_at,
        department_id, department_name, unit_name, stay_kind, admitted_at, on_leave, conditions, contacts,
        family_name_unknown, from_message, identifiers,
    ) = row  # fmt: skip
    replacements = [{"system": system, "value": value} for system, value in _array(identifiers)]
    shown = format_cpr(cpr) if cpr else (replacement_label(replacements[0]["value"]) if replacements else "")
    return {
        "id": str(pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))),
        "cpr": cpr,
        "cpr_formatted": shown,
        "identifiers": replacements,
        "birth_date": _date(birth_date),
        "sex": sex,
        "first_name": first_name,
        "last_name": last_name,
        "family_name_unknown": bool(family_name_unknown),
        "registered_from_message": bool(from_message),
        "street": street,
        "postal_code": postal_code,
        "city": city,
        "phone": phone,
        "municipality": {"id": municipality_id, "name": municipality_name, "municipality_code": municipality_code},
        "gp_clinic": None if gp_id is None else {"id": gp_id, "name": gp_name},
        "receives_home_care": bool(home_care),
        "conditions": [
            {"icd10_code": code, "name": name_en if english else name_da, "onset_date": onset}
            for code, name_da, name_en, onset in _array(conditions)
        ],
        "contact_persons": [
            {"name": name, "relation": relation, "phone": phone_number, "is_primary": bool(primary)}
            for name, relation, phone_number, primary in _array(contacts)
        ],
        "consent": {
            "consent_to_share": None if consent is None else bool(consent),
            "recorded_at": _datetime(consent_at, tz),
        },
        "current_stay": None
        if department_id is None
        else {
            "department": {"id": department_id, "name": department_name},
            "unit": unit_name,
            "kind": stay_kind,
            "admitted_at": _datetime(admitted_at, tz),
            "on_leave": bool(on_leave),
        },
    }


def _array(value: Any) -> list[list[Any]]:
    """A JSON aggregate as the driver gives it: parsed (PostgreSQL), text (SQLite), or NULL."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str | bytes) else value


def _date(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def _datetime(value: Any, tz: datetime.tzinfo | None) -> str | None:
    """As the serializer's ``DateTimeField`` writes it; a naive value (SQLite) is in the
    connection's time zone, as Django's own converter reads it."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None and tz is not None:
        value = value.replace(tzinfo=tz)
    return _DATETIME.to_representation(value)
