"""FHIR answers: JSON or XML as ``_format`` or ``Accept`` asks, errors as OperationOutcomes."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
JSON, XML = "json", "xml"
# What ``_format`` and ``Accept`` may name (FHIR R4, "Content Types and Encodings").
FORMATS = {
    "json": JSON,
    "application/json": JSON,
    FHIR_JSON: JSON,
    "application/json+fhir": JSON,
    "xml": XML,
    "text/xml": XML,
    "application/xml": XML,
    FHIR_XML: XML,
    "application/xml+fhir": XML,
}


class FhirError(Exception):
    """A request the API answers with an OperationOutcome: ``status`` and the issue's code
    (FHIR's IssueType: invalid, not-found, not-supported, forbidden, login, processing)."""

    def __init__(
        self,
        status: int,
        code: str,
        text: str,
        *,
        headers: dict[str, str] | None = None,
        issues: list[dict[str, Any]] | None = None,
    ):
        super().__init__(text)
        self.status, self.code, self.text = status, code, str(text)
        self.headers = headers or {}
        # Several problems at once (a write's invalid fields, a transaction's failing entries),
        # each an OperationOutcome issue naming its element in ``expression``.
        self.issues = issues or []


def answer_format(request: HttpRequest) -> str:
    """``_format`` first, then the first ``Accept`` media range the API writes; otherwise a write
    is answered in its body's format, and a read in JSON (a browser's ``Accept`` lists
    application/xml, but it wants the default)."""
    wanted = (request.GET.get("_format") or "").strip().lower().replace(" ", "+")
    if wanted in FORMATS:
        return FORMATS[wanted]
    for part in (request.META.get("HTTP_ACCEPT") or "").lower().split(","):
        media = part.split(";")[0].strip()
        if media in (FHIR_XML, FHIR_JSON, "application/json"):
            return FORMATS[media]
    if request.method == "POST" and FORMATS.get((request.content_type or "").lower()) == XML:
        return XML
    return JSON


def outcome(code: str, text: str, *, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


def issue(code: str, text: str, expression: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": str(text)}
    if expression:
        found["expression"] = [expression]
    return found


def render(resource: dict[str, Any], fmt: str, *, status: int = 200) -> HttpResponse:
    """The resource as FHIR JSON, or as FHIR XML through ``fhir.resources.R4B`` (which checks it)."""
    if fmt == XML:
        from fhir.resources.R4B import get_fhir_model_class

        body: str | bytes = get_fhir_model_class(resource["resourceType"]).model_validate(resource).model_dump_xml()
        content_type = FHIR_XML
    else:
        body = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
        content_type = FHIR_JSON
    response = HttpResponse(body, status=status, content_type=f"{content_type}; charset=utf-8")
    response["Cache-Control"] = "no-store, private"
    return response


def render_error(error: FhirError, fmt: str) -> HttpResponse:
    body = (
        {"resourceType": "OperationOutcome", "issue": error.issues} if error.issues else outcome(error.code, error.text)
    )
    response = render(body, fmt, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response
