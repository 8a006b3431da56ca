"""Reading what a sender posts to ``$process-message``, and which format the answer is in.

The checked bundle is then read through ``MessageBundle``: the MessageHeader, and the resources
it refers to, found the ways FHIR lets a bundle refer to them.

The body is read by ``fhir.resources.R4B``, but FHIR XML is first checked and rebuilt by
``citizens.fhir.xml``: whatever the library still cannot read is a 400, never a crash.
"""

from __future__ import annotations

import codecs
import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import dateparse, timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from lxml import etree
from pydantic import ValidationError as PydanticValidationError

from citizens.fhir import xml as fhir_xml

from ..ids import is_fhir_id
from . import codes, resources
from .errors import BadRequest, Reject

JSON, XML = "json", "xml"
FHIR_NS = fhir_xml.FHIR_NS
# FHIR's mime types and the short forms of ``_format`` (http.html#mime).
FORMATS = {
    "json": JSON,
    "application/fhir+json": JSON,
    "application/json": JSON,
    "xml": XML,
    "application/fhir+xml": XML,
    "application/xml": XML,
    "text/xml": XML,
}
# C0 control characters other than tab, line feed and carriage return: FHIR strings should not
# have them, XML cannot carry them, and PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LEAP_SECOND = re.compile(r"(T\d\d:\d\d):60(?:\.\d+)?")


def format_of(content_type: str) -> str:
    return XML if "xml" in (content_type or "").lower() else JSON


def _media_ranges(accept: str) -> list[str]:
    """The media types of an Accept header, most wanted first (q=0 means: not this one)."""
    ranges = []
    for position, part in enumerate((accept or "").split(",")):
        media, *params = (p.strip().lower() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranges.append((-quality, position, media))
    return [media for _q, _position, media in sorted(ranges)]


def answer_format(*, format_param: str | None, accept: str | None, body_format: str) -> str:
    """FHIR's content negotiation: ``_format`` overrides ``Accept``; what neither names (no
    header, ``*/*``, a type the portal does not write) is answered in the body's own format."""
    # A "+" in a query string arrives as a space unless the client escaped it.
    wanted = (format_param or "").strip().lower().replace(" ", "+")
    if wanted in FORMATS:
        return FORMATS[wanted]
    for media in _media_ranges(accept or ""):
        if media in FORMATS:
            return FORMATS[media]
    return body_format


# --- the body -----------------------------------------------------------------------------------


def parse(body: bytes, fmt: str) -> dict[str, Any]:
    """The bundle as FHIR JSON (the same shape whether it came as JSON or XML).

    A Bundle or MessageHeader id that breaks FHIR's id rule is no reason for a 400: the message
    is still one, and its sender is owed an acknowledgement saying what is wrong (MSG_ID_INVALID,
    ``checks.check_header``). The library refuses such an id, so it reads the bundle with a
    stand-in, and the id as sent is put back afterwards."""
    kind = "XML" if fmt == XML else "JSON"
    set_aside = _SetAside()
    try:
        if fmt == XML:
            bundle = Bundle.model_validate_xml(_fhir_xml(body, set_aside), xmlparser=fhir_xml.xml_parser())
        else:
            bundle = _json_bundle(body.removeprefix(codecs.BOM_UTF8), set_aside)
    except PydanticValidationError as exc:
        # The locations only: the input values may be health data.
        where = "; ".join(
            f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg', '')}" for error in exc.errors()[:5]
        )
        raise BadRequest(
            "MSG_BAD_SYNTAX", _("The body is not a valid FHIR Bundle: %(where)s") % {"where": where[:800]}
        ) from None
    except etree.Error as exc:
        raise BadRequest(
            "MSG_BAD_SYNTAX",
            _("The body is not readable FHIR %(kind)s: %(error)s") % {"kind": kind, "error": str(exc)[:300]},
        ) from None
    except (LookupError, AttributeError, TypeError, ValueError, RecursionError):
        # fhir.resources' XML reader on an element or attribute that FHIR does not define there.
        raise BadRequest(
            "MSG_BAD_SYNTAX",
            _("The body is not a valid FHIR Bundle: it has an element or attribute that FHIR does not define there."),
        ) from None
    data = set_aside.restore(json.loads(bundle.model_dump_json()))
    if _has_control_characters(data):
        raise BadRequest(
            "MSG_BAD_SYNTAX", _("The bundle contains control characters, which FHIR strings may not contain."), "value"
        )
    if data.get("type") != "message":
        raise BadRequest("MSG_PARAM_INVALID", _("The Bundle must be of type 'message'."), "invalid")
    if not any((e.get("resource") or {}).get("resourceType") == "MessageHeader" for e in data.get("entry") or []):
        raise BadRequest("MSG_RESOURCE_REQUIRED", _("The message bundle has no MessageHeader."), "required")
    return data


@dataclass
class _SetAside:
    """The Bundle id and MessageHeader ids (by entry position) that the library would refuse, and
    the stand-ins it reads instead."""

    bundle_id: str | None = None
    header_ids: dict[int, str] = field(default_factory=dict)

    def stand_in(self, original: str, position: int | None = None) -> str:
        if position is None:
            self.bundle_id = original
            return "set-aside.bundle"
        self.header_ids[position] = original
        return f"set-aside.header.{position}"

    def restore(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.bundle_id is not None:
            data["id"] = self.bundle_id
        entries = data.get("entry") or []
        for position, original in self.header_ids.items():
            entries[position]["resource"]["id"] = original
        return data


def _json_bundle(body: bytes, set_aside: _SetAside) -> Bundle:
    """The library's JSON reader; when all it refuses is the Bundle id or a MessageHeader id, read
    again with stand-ins (only then is the body parsed twice)."""
    try:
        return Bundle.model_validate_json(body)
    except PydanticValidationError as exc:
        data = _json_with_stand_ins(body, exc, set_aside)
        if data is None:
            raise
    return Bundle.model_validate_json(json.dumps(data))


def _json_with_stand_ins(body: bytes, exc: PydanticValidationError, set_aside: _SetAside) -> dict[str, Any] | None:
    """The body with stand-ins for the ids the errors are about, or None when an error is about
    anything else (or the id is not a string: no id at all, but another mistake)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    entries = data.get("entry") if isinstance(data.get("entry"), list) else []
    bundle_id, headers = False, set()
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        if loc == ("id",) and isinstance(data.get("id"), str):
            bundle_id = True
        elif (
            len(loc) == 4
            and loc[0] == "entry"
            and loc[2:] == ("resource", "id")
            and isinstance(loc[1], int)
            and loc[1] < len(entries)
            and _is_header_with_text_id(entries[loc[1]])
        ):
            headers.add(loc[1])
        else:
            return None
    if bundle_id:
        data["id"] = set_aside.stand_in(data["id"])
    for position in headers:
        resource = entries[position]["resource"]
        resource["id"] = set_aside.stand_in(resource["id"], position)
    return data


def _is_header_with_text_id(entry: Any) -> bool:
    resource = entry.get("resource") if isinstance(entry, dict) else None
    return (
        isinstance(resource, dict)
        and resource.get("resourceType") == "MessageHeader"
        and isinstance(resource.get("id"), str)
    )


def _has_control_characters(data: Any) -> bool:
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _CONTROL.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _fhir_xml(body: bytes, set_aside: _SetAside) -> bytes:
    """The document as the FHIR XML that fhir.resources reads (``citizens.fhir.xml``), with a
    Bundle or MessageHeader id that breaks FHIR's rule set aside."""
    try:
        rebuilt = fhir_xml.checked_root(body)
    except fhir_xml.NotFhirXml as exc:
        raise BadRequest("MSG_BAD_SYNTAX", str(exc)) from None
    if fhir_xml.resource_name(rebuilt) != "Bundle":
        raise BadRequest(
            "MSG_BAD_SYNTAX",
            _("The body is not FHIR XML: %(problem)s")
            % {"problem": _("the root element must be a Bundle in the namespace %(ns)s.") % {"ns": FHIR_NS}},
        )
    _set_aside_xml_ids(rebuilt, set_aside)
    return etree.tostring(rebuilt, encoding="utf-8")


def _set_aside_xml_ids(bundle: etree._Element, set_aside: _SetAside) -> None:
    fhir = f"{{{FHIR_NS}}}"
    bundle_id = bundle.find(f"{fhir}id")
    if bundle_id is not None and bundle_id.get("value") is not None and not is_fhir_id(bundle_id.get("value")):
        bundle_id.set("value", set_aside.stand_in(bundle_id.get("value") or ""))
    for position, entry in enumerate(bundle.findall(f"{fhir}entry")):
        header_id = entry.find(f"{fhir}resource/{fhir}MessageHeader/{fhir}id")
        if header_id is not None and header_id.get("value") is not None and not is_fhir_id(header_id.get("value")):
            header_id.set("value", set_aside.stand_in(header_id.get("value") or "", position))


# --- values -------------------------------------------------------------------------------------


def fhir_datetime(value: str | None, what: str) -> datetime.datetime:
    """A FHIR dateTime with a time zone. A leap second (``23:59:60``, legal in FHIR) is read as
    ``23:59:59.999``; a date that does not exist (30 February) is the sender's error."""
    text = _LEAP_SECOND.sub(r"\1:59.999", value or "", count=1)
    try:
        parsed = dateparse.parse_datetime(text) if "T" in text else None
    except ValueError:
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        raise Reject(
            "MSG_DATE_FORMAT",
            _("%(what)s must be a date and time with a time zone.") % {"what": what},
            "value",
        )
    return parsed


def id_of(reference: str | None) -> str:
    """The id at the end of a reference (``MessageHeader/<id>``, a full URL or ``urn:uuid:<id>``)."""
    reference = (reference or "").rstrip("/")
    if reference.startswith("urn:uuid:"):
        return reference[len("urn:uuid:") :]
    return reference.rsplit("/", 1)[-1]


def code_of(concept: dict | None, system: str | None = None) -> str:
    """The code of a CodeableConcept's first coding (in ``system``, when given)."""
    for coding in (concept or {}).get("coding") or []:
        if system is None or coding.get("system") == system:
            return coding.get("code") or ""
    return ""


def identifiers(resource: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """An Organization's SOR code and GLN."""
    return resources.identifier_of(resource or {}, codes.SOR), resources.identifier_of(resource or {}, codes.GLN)


# --- the message --------------------------------------------------------------------------------


@dataclass
class MessageBundle:
    """The parts of the bundle the rules look at (plain FHIR JSON)."""

    data: dict[str, Any]
    header: dict[str, Any]
    by_ref: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any]) -> MessageBundle:
        entries = data.get("entry") or []
        header = next(
            e["resource"] for e in entries if (e.get("resource") or {}).get("resourceType") == "MessageHeader"
        )
        by_ref: dict[str, dict[str, Any]] = {}
        for e in entries:
            resource = e.get("resource") or {}
            if resource.get("id"):
                by_ref[f"{resource['resourceType']}/{resource['id']}"] = resource
            if e.get("fullUrl"):
                by_ref[e["fullUrl"]] = resource
        return cls(data, header, by_ref)

    @property
    def header_id(self) -> str:
        return self.header.get("id") or ""

    @property
    def event(self) -> str:
        return (self.header.get("eventCoding") or {}).get("code") or ""

    def resolve(self, reference: dict | None, resource_type: str | None = None) -> dict[str, Any] | None:
        ref = (reference or {}).get("reference") or ""
        found = self.by_ref.get(ref)
        parts = ref.rstrip("/").split("/")
        if found is None and len(parts) >= 2:
            found = self.by_ref.get(f"{parts[-2]}/{parts[-1]}")
        if found is not None and resource_type and found.get("resourceType") != resource_type:
            return None
        return found

    def all(self, resource_type: str) -> list[dict[str, Any]]:
        return [
            e["resource"]
            for e in self.data.get("entry") or []
            if (e.get("resource") or {}).get("resourceType") == resource_type
        ]

    def first_is_header(self) -> bool:
        entries = self.data.get("entry") or []
        return bool(entries) and (entries[0].get("resource") or {}).get("resourceType") == "MessageHeader"

    def sender_resource(self) -> dict[str, Any] | None:
        return self.resolve(self.header.get("sender"), "Organization")

    def destinations(self) -> list[tuple[str, dict[str, Any] | None]]:
        result = []
        for destination in self.header.get("destination") or []:
            use = ""
            for extension in destination.get("extension") or []:
                if extension.get("url") == codes.DESTINATION_USE_EXTENSION:
                    use = (extension.get("valueCoding") or {}).get("code") or ""
            result.append((use, self.resolve(destination.get("receiver"), "Organization")))
        return result

    def focus(self, resource_type: str) -> dict[str, Any] | None:
        for reference in self.header.get("focus") or []:
            found = self.resolve(reference, resource_type)
            if found is not None:
                return found
        candidates = self.all(resource_type)
        return candidates[0] if len(candidates) == 1 else None

    def own_provenance(self) -> dict[str, Any] | None:
        """The Provenance of this message: the one whose target is this MessageHeader."""
        for provenance in self.all("Provenance"):
            for target in provenance.get("target") or []:
                if id_of(target.get("reference")) == self.header_id:
                    return provenance
        return None

    def earlier_header_id(self, provenance: dict[str, Any]) -> str | None:
        """The MessageHeader id of the earlier message this one answers, corrects or cancels
        (Provenance.entity.what), as written: found by it, whatever its form."""
        for entity in provenance.get("entity") or []:
            if entity.get("role") in ("revision", "removal"):
                found = id_of((entity.get("what") or {}).get("reference"))
                if is_fhir_id(found):
                    return found
        return None

    def ack_reason(self) -> str:
        """The texts of an acknowledgement's OperationOutcome (why it is not ok)."""
        response = self.header.get("response") or {}
        outcome = self.resolve(response.get("details"), "OperationOutcome") or {}
        return "; ".join(
            (issue.get("details") or {}).get("text") or issue.get("diagnostics") or code_of(issue.get("details"))
            for issue in outcome.get("issue") or []
        )[:2000]
