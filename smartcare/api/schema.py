"""The API's one error schema (component ``Error``) and the responses every operation documents.

Every 4xx/5xx answer under ``/api/`` has this shape (``smartcare.api.exceptions`` makes sure of it),
and the schema generator adds the error answers an operation can give but does not declare itself:
403 (not signed in), 400 (input, filters or the acting-organisation header), 404 (record, unknown
page), 415 (body type), 429 (throttled), 500 (with an ``error_id``) and 503 (the database was busy).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse

ERROR_COMPONENT = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}

MESSAGES = {"type": "array", "items": {"type": "string"}}
# A field's messages; a list's or a nested object's errors are keyed by the item's index or the
# nested field's name (e.g. ``{"cc": {"0": ["..."]}}``, ``{"items": {"3": {"value": ["..."]}}}``).
FIELD_ERRORS = {
    "anyOf": [{"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}}, {"type": "object"}]
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Every error answer of the API. An error about the request as a whole (not signed in, not allowed, "
        "not found, a body that is not JSON, throttled, a server error) has `detail` and `code`. Invalid input "
        "(400) maps each field to its messages instead, with rules that span fields under `non_field_errors`; "
        "a status change the lifecycle does not allow also has `code: invalid_transition`. An unexpected "
        "server error (500) has `error_id`, which is also in the server's log."
    ),
    "properties": {
        "detail": {"type": "string", "description": "What went wrong."},
        "code": {
            "description": (
                "Why, for machines: not_authenticated, authentication_failed, permission_denied, not_found, "
                "parse_error, unsupported_media_type, method_not_allowed, throttled, server_error, "
                "service_unavailable, or "
                "invalid_transition beside a field's messages. On the endpoints with an input or filter named "
                "`code` (observations, thresholds) that field's messages."
            ),
            "anyOf": [{"type": "string"}, MESSAGES],
        },
        "error_id": {"type": "string", "description": "500 only: quote it when reporting the error."},
        "non_field_errors": MESSAGES,
    },
    "additionalProperties": FIELD_ERRORS,
    "example": {"detail": "Not found.", "code": "not_found"},
}


def error_schema(example: dict | None = None) -> dict:
    """The ``Error`` component for one response, with an example of that response's body."""
    if example is None:
        return dict(ERROR_REF)
    return {"allOf": [ERROR_REF], "example": example}


DEFAULT_ERRORS = {
    "400": _(
        "Invalid input, filter values or X-Acting-Organisation header: the body maps each field (or the "
        "header) to its messages."
    ),
    "403": _("Not signed in, or not allowed: send a session cookie or `Authorization: Token <key>`."),
    "404": _("No such record, or a page beyond the last one."),
    "415": _("The body is not of a media type the operation accepts."),
    "429": _("Too many requests: wait as many seconds as `Retry-After` says."),
    "500": _("An unexpected server error: the body's `error_id` is also in the server's log."),
    "503": _(
        "The database was busy (a conflict with concurrent requests that retrying did not resolve): nothing was "
        "saved; send the request again after as many seconds as `Retry-After` says."
    ),
}


class SmartCareAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers every ``/api/`` operation can give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        self.registry.register_on_missing(
            ResolvedComponent(
                name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, object=ERROR_COMPONENT, schema=ERROR_SCHEMA
            )
        )
        if not self.path.startswith("/api/"):
            return responses
        for code in self._possible_errors():
            if code not in responses:
                answer = OpenApiResponse(error_schema(), description=DEFAULT_ERRORS[code])
                responses[code] = self._get_response_for_code(answer, code, direction=direction)
        return responses

    def _possible_errors(self) -> list[str]:
        # 400 always: every operation takes ``X-Acting-Organisation``, and a value that is no
        # organisation id is a bad request whatever else the operation reads.
        codes = ["400", "403", "429", "500", "503"]
        has_body = self.method in ("POST", "PUT", "PATCH")
        paginated = self._is_list_view() and self._get_paginator() is not None
        if "{" in self.path or paginated:
            codes.append("404")
        if has_body:
            codes.append("415")
        return codes
