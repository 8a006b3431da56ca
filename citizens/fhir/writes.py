"""Writes of the FHIR API: a resource POSTed to ``/fhir/<type>`` and a ``transaction`` Bundle
POSTed to ``/fhir``.

Writes are read as FHIR JSON or FHIR XML. XML is checked and rebuilt by ``citizens.fhir.xml``
(the library's own XML reader crashes on legal XML that is no FHIR), read by ``fhir.resources``
and handed on as the same JSON shape, so the types' writers see one form whatever was sent.
Another media type answers 415 rather than being half-read.

A transaction is all or nothing: every entry is created in one database transaction, and when
any entry is wrong nothing is stored and the OperationOutcome names each wrong entry
(``Bundle.entry[3].resource.valueQuantity``). The entries are handed to their type's
``create_entries`` hook, so this module knows no type: a type that has none cannot be written
in a transaction.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B import get_fhir_model_class
from lxml import etree
from pydantic import ValidationError as PydanticValidationError

from smartcare.datetimes import rfc3339

from ..access import Actor
from . import registry
from . import xml as fhir_xml
from .http import FhirError, issue

JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
XML_TYPES = ("application/fhir+xml", "application/xml", "text/xml", "application/xml+fhir")
STATUS_TEXT = {200: "200 OK", 201: "201 Created"}


class Rollback(Exception):
    """Leaves the transaction's ``atomic`` block, so that nothing an entry stored is kept."""

    def __init__(self, error: FhirError):
        super().__init__(error.text)
        self.error = error


def resource_body(request: HttpRequest) -> dict[str, Any]:
    """The posted resource as FHIR JSON, numbers as ``Decimal`` (a measured 72.35 stays 72.35);
    415 for a body that is neither FHIR JSON nor FHIR XML, 400 for one that cannot be read."""
    media = (request.content_type or "").lower()
    if media in XML_TYPES:
        return _xml_resource(request.body)
    if media and media not in JSON_TYPES:
        raise FhirError(
            415,
            "not-supported",
            _(
                "Send the resource as FHIR JSON (Content-Type: application/fhir+json) or FHIR XML "
                "(application/fhir+xml); %(type)s is not read here."
            )
            % {"type": media},
        )
    try:
        body = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FhirError(400, "invalid", _("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise FhirError(400, "invalid", _("The body must be one FHIR resource (a JSON object)."))
    return body


def _xml_resource(body: bytes) -> dict[str, Any]:
    """FHIR XML read through the library into FHIR JSON; the problems' locations only in the
    answer, because the values may be health data."""
    try:
        root = fhir_xml.checked_root(body)
        name = fhir_xml.resource_name(root)
        try:
            model = get_fhir_model_class(name)
        except KeyError:
            raise FhirError(400, "invalid", _("%(name)s is not a FHIR resource type.") % {"name": name[:64]}) from None
        resource = model.model_validate_xml(etree.tostring(root, encoding="utf-8"), xmlparser=fhir_xml.xml_parser())
    except fhir_xml.NotFhirXml as exc:
        raise FhirError(400, "invalid", str(exc)) from None
    except etree.Error as exc:
        raise FhirError(
            400, "invalid", _("The body is not readable XML: %(error)s") % {"error": str(exc)[:300]}
        ) from None
    except PydanticValidationError as exc:
        issues = [
            issue("invalid", error.get("msg", ""), ".".join([name, *(str(p) for p in error.get("loc", ()))]))
            for error in exc.errors()[:20]
        ]
        raise FhirError(400, "invalid", _("The body is not a valid FHIR resource."), issues=issues) from None
    except (LookupError, AttributeError, TypeError, ValueError, RecursionError):
        # fhir.resources' XML reader on an element or attribute that FHIR does not define there.
        raise FhirError(
            400,
            "invalid",
            _("The body is not a valid FHIR resource: it has an element or attribute that FHIR does not define there."),
        ) from None
    return json.loads(resource.model_dump_json(), parse_float=Decimal)


def process_transaction(actor: Actor, bundle: dict[str, Any], base: str) -> dict[str, Any]:
    """A ``transaction`` Bundle of creations: the ``transaction-response`` Bundle, or a 400 that
    names every wrong entry when any is wrong (and nothing is stored)."""
    if bundle.get("resourceType") != "Bundle":
        raise FhirError(
            400,
            "invalid",
            _("POST a Bundle of type transaction to the base URL."),
            issues=[issue("invalid", _("POST a Bundle of type transaction to the base URL."), "Bundle.resourceType")],
        )
    if bundle.get("type") == "batch":
        raise FhirError(400, "not-supported", _("Batch Bundles are not supported; send a transaction."))
    if bundle.get("type") != "transaction":
        raise FhirError(400, "invalid", _("Only Bundles of type transaction are processed here."))
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError(400, "invalid", _("Bundle.entry must be a list."))
    problems: list[dict[str, Any]] = []
    by_type: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, entry in enumerate(entries):
        found = _entry(index, entry, problems)
        if found is not None:
            by_type.setdefault(found["resourceType"], []).append((index, found))
    if problems:
        raise _invalid(problems)
    answers: dict[int, tuple[dict[str, Any], int]] = {}
    try:
        with transaction.atomic():
            for name, items in by_type.items():
                kind = registry.get(name)
                assert kind is not None and kind.create_entries is not None  # checked by _entry
                try:
                    created = kind.create_entries(actor, [(f"Bundle.entry[{i}].resource", r) for i, r in items])
                except FhirError as error:
                    problems.extend(error.issues or [issue(error.code, error.text)])
                    continue
                answers.update({index: answer for (index, _resource), answer in zip(items, created, strict=True)})
            if problems:
                raise Rollback(_invalid(problems))
    except Rollback as rollback:
        raise rollback.error from None
    return _response(answers, len(entries), base)


def _entry(index: int, entry: Any, problems: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The entry's resource when it is a creation of a type that can be written in a transaction."""
    where = f"Bundle.entry[{index}]"
    if not isinstance(entry, dict):
        problems.append(issue("invalid", _("Each entry must be an object."), where))
        return None
    request, resource = entry.get("request"), entry.get("resource")
    if not isinstance(request, dict):
        request = {}
    method = request.get("method")
    if method != "POST":
        problems.append(
            issue("not-supported", _("Only creations (request.method POST) are supported."), f"{where}.request.method")
        )
        return None
    name = resource.get("resourceType") if isinstance(resource, dict) else None
    kind = registry.get(name) if isinstance(name, str) else None
    if kind is None or kind.create_entries is None:
        problems.append(
            issue(
                "not-supported",
                _("%(type)s cannot be created in a transaction.") % {"type": name or "?"},
                f"{where}.resource.resourceType",
            )
        )
        return None
    url = str(request.get("url") or "").split("?")[0].rstrip("/")
    if url.rsplit("/", 1)[-1] != name:
        problems.append(
            issue(
                "invalid",
                _("request.url must be the resource type, %(type)s.") % {"type": name},
                f"{where}.request.url",
            )
        )
        return None
    assert isinstance(resource, dict)
    return resource


def _invalid(problems: list[dict[str, Any]]) -> FhirError:
    text = "; ".join(p["diagnostics"] for p in problems)
    return FhirError(400, "invalid", text, issues=problems)


def _response(answers: dict[int, tuple[dict[str, Any], int]], count: int, base: str) -> dict[str, Any]:
    entries = []
    for index in range(count):
        resource, status = answers[index]
        location = f"{resource['resourceType']}/{resource['id']}"
        entries.append(
            {
                "fullUrl": f"{base}/{location}",
                "resource": resource,
                "response": {"status": STATUS_TEXT.get(status, str(status)), "location": location},
            }
        )
    answer: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": rfc3339(timezone.now())},
        "type": "transaction-response",
    }
    if entries:
        answer["entry"] = entries
    return answer
