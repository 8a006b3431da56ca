"""MessageHeader ids and the message keys derived from them.

MedCom requires a globally unique MessageHeader id, not a UUID: any FHIR id
(``[A-Za-z0-9\\-\\.]{1,64}``) is legal, and a duplicate is the same id again, compared as a
string (``"ABC"`` and ``"abc"`` are two messages). The id as the sender wrote it is kept in
``Message.header_id`` and is what the portal finds messages by and gives back (exports,
acknowledgements, Provenance references).

``Message.id`` stays a UUID, the key every other table refers to. It is derived from the header
id by ``message_key`` alone: the UUID itself when the header id is one in canonical form (so a
portal message's id, its MessageHeader id and its URL are one value), otherwise a name-based UUID
of the string. Two arrivals of one header id thus collide on the primary key as well as on
``header_id``, which is how a concurrent twin is recognised.
"""

from __future__ import annotations

import re
import uuid

# FHIR's id datatype (datatypes.html#id); ASCII only, so no \w.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# Fixed for good: changing it would give existing header ids other keys.
MESSAGE_KEY_NAMESPACE = uuid.UUID("0b7e3f4a-5d2c-4e8b-9a61-3c4d2e7f9b15")


def is_fhir_id(value: object) -> bool:
    """Whether ``value`` is a legal FHIR id (a MessageHeader or Bundle id must be one)."""
    return isinstance(value, str) and FHIR_ID.fullmatch(value) is not None


def canonical_uuid(value: str) -> uuid.UUID | None:
    """The UUID that ``value`` spells in canonical form (lower case, hyphens), or None: another
    spelling of a UUID (upper case, no hyphens) is another id, not the same one."""
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return None
    return parsed if str(parsed) == value else None


def message_key(header_id: str) -> uuid.UUID:
    """The ``Message.id`` of the message with this MessageHeader id."""
    return canonical_uuid(header_id) or uuid.uuid5(MESSAGE_KEY_NAMESPACE, header_id)


def new_bundle_id() -> str:
    """A Bundle id for a transmission the portal makes (every resend gets a new one)."""
    return str(uuid.uuid4())
