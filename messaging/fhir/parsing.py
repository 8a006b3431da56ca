"""Reading what a sender posts to ``$process-message``, and which format the answer is in.

The body is read by ``fhir.resources.R4B``, but FHIR XML is first checked and rebuilt here: the
library's XML reader crashes on what is legal XML but not FHIR (an element in another namespace
or none, an unknown element, a processing instruction) and refuses comments, which FHIR allows
anywhere. Rebuilt, the document has only FHIR elements in the default namespace (and the XHTML of
a narrative), no comments, and whatever the library still cannot read is a 400, never a crash.
"""

from __future__ import annotations

import codecs
import datetime
import json
import re
from typing import Any

from django.utils import dateparse, timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from lxml import etree
from pydantic import ValidationError as PydanticValidationError

from .errors import BadRequest, Reject

JSON, XML = "json", "xml"
FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"
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
    """The bundle as FHIR JSON (the same shape whether it came as JSON or XML)."""
    kind = "XML" if fmt == XML else "JSON"
    try:
        if fmt == XML:
            bundle = Bundle.model_validate_xml(_fhir_xml(body), xmlparser=_xml_parser())
        else:
            bundle = Bundle.model_validate_json(body.removeprefix(codecs.BOM_UTF8))
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
    data = json.loads(bundle.model_dump_json())
    if _has_control_characters(data):
        raise BadRequest(
            "MSG_BAD_SYNTAX", _("The bundle contains control characters, which FHIR strings may not contain."), "value"
        )
    if data.get("type") != "message":
        raise BadRequest("MSG_PARAM_INVALID", _("The Bundle must be of type 'message'."), "invalid")
    if not any((e.get("resource") or {}).get("resourceType") == "MessageHeader" for e in data.get("entry") or []):
        raise BadRequest("MSG_RESOURCE_REQUIRED", _("The message bundle has no MessageHeader."), "required")
    return data


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


def _xml_parser(**options: bool) -> etree.XMLParser:
    """No entities, no DTD, no network, no huge trees: XML from outside reads nothing else."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, **options)


def _not_fhir(text: str) -> BadRequest:
    return BadRequest("MSG_BAD_SYNTAX", _("The body is not FHIR XML: %(problem)s") % {"problem": text})


def _fhir_xml(body: bytes) -> bytes:
    """The document as the FHIR XML that fhir.resources reads: checked, comments dropped, every
    FHIR element in the default namespace (a prefix for the FHIR namespace is legal XML)."""
    root = etree.fromstring(body, parser=_xml_parser(remove_comments=True))
    if root.getroottree().docinfo.doctype:
        raise _not_fhir(_("a FHIR document has no DOCTYPE."))
    if any(not isinstance(node, etree._Comment) for node in root.itersiblings(preceding=True)) or any(
        not isinstance(node, etree._Comment) for node in root.itersiblings()
    ):
        raise _not_fhir(_("there is something other than the Bundle element at the top level."))
    if root.tag != f"{{{FHIR_NS}}}Bundle":
        raise _not_fhir(_("the root element must be a Bundle in the namespace %(ns)s.") % {"ns": FHIR_NS})
    rebuilt = etree.Element(root.tag, nsmap={None: FHIR_NS})
    _copy(root, rebuilt, FHIR_NS)
    return etree.tostring(rebuilt, encoding="utf-8")


def _copy(source: etree._Element, target: etree._Element, namespace: str) -> None:
    """Copy ``source``'s attributes and children into ``target``: FHIR elements, and below an XHTML
    ``div`` only XHTML. Refuses what a FHIR reader must not guess at."""
    for name, value in source.attrib.items():
        if not name.startswith("{"):  # namespaced attributes (xsi:schemaLocation) are no FHIR content
            target.set(name, value)
    if namespace == XHTML_NS:
        target.text = source.text
    elif (source.text or "").strip():
        raise _not_fhir(_("a FHIR element has text content; values are in value attributes."))
    for child in source:
        if isinstance(child, etree._Comment):
            continue
        if not isinstance(child.tag, str):  # a processing instruction or an entity
            raise _not_fhir(_("processing instructions and entities are not allowed."))
        qname = etree.QName(child)
        if namespace == FHIR_NS and qname.namespace == XHTML_NS and qname.localname == "div":
            child_namespace = XHTML_NS
        elif qname.namespace == namespace:
            child_namespace = namespace
        else:
            raise _not_fhir(
                _("the element %(name)s is not in the namespace %(ns)s.")
                % {"name": qname.localname[:64], "ns": namespace}
            )
        copy = etree.SubElement(
            target,
            f"{{{child_namespace}}}{qname.localname}",
            nsmap=None if child_namespace == namespace else {None: child_namespace},
        )
        _copy(child, copy, child_namespace)
        if namespace == XHTML_NS:
            copy.tail = child.tail


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
