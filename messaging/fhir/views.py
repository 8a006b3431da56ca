"""``POST /fhir/$process-message``: an organisation's own system sends a MedCom message bundle.

Integrations only: the integration token (``Authorization: Token <key>``), never a browser
session, so there is no CSRF to check (a browser cannot send the token on its own), and only a
token whose scope allows ``process-message`` (``sectors.tokens``). The body is
FHIR JSON or XML by its Content-Type; the answer is in the format that ``_format`` or ``Accept``
asks for, else in the body's. The rules and the answer are ``incoming.process_message``'s.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from citizens.fhir.http import FHIR_JSON, FHIR_XML
from sectors.api.authentication import TokenAuthentication
from sectors.choices import TokenUse
from sectors.tokens import token_refusal
from smartcare.api.exceptions import RETRY_AFTER_SECONDS
from smartcare.uploads import large_body

from .acknowledgement import operation_outcome
from .incoming import process_message
from .parsing import XML, answer_format, format_of
from .traffic import call_record

logger = logging.getLogger(__name__)

ACCEPTED = {FHIR_JSON, FHIR_XML, "application/json", "application/xml", "text/xml"}


def _render(status: int, resource: dict[str, Any], fmt: str) -> HttpResponse:
    if fmt == XML:
        model = Bundle if resource.get("resourceType") == "Bundle" else OperationOutcome
        body = model.model_validate(resource).model_dump_xml()
        content_type = FHIR_XML
    else:
        body = json.dumps(resource, ensure_ascii=False).encode()
        content_type = FHIR_JSON
    return HttpResponse(body, status=status, content_type=f"{content_type}; charset=utf-8")


def _outcome(status: int, msg_code: str, text: str, issue_type: str, fmt: str) -> HttpResponse:
    return _render(status, operation_outcome([(msg_code, text, issue_type)]), fmt)


def _token_user(request: HttpRequest):
    """The user of the integration token, or None (no token, or an unknown or inactive one).

    The API's token authentication, so the token and its user come from the identity cache
    (``sectors.identity``) as for every other API request; DRF's ``Request`` around the request
    lets it keep the identity it read for the rest of the request."""
    try:
        found = TokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def _too_large(request: HttpRequest, limit: int) -> HttpResponse:
    fmt = format_of((request.content_type or "").lower())
    return _outcome(413, "MSG_Element_To_Long", _("The message is too large."), "too-long", fmt)


@large_body(refuse=_too_large)  # bundles carry their attachments, base64-encoded
@csrf_exempt
def process_message_view(request: HttpRequest) -> HttpResponse:
    """Every answer is FHIR, whatever goes wrong: a FHIR client cannot read Django's error pages."""
    content_type = (request.content_type or "").lower()
    fmt = answer_format(
        format_param=request.GET.get("_format"),
        accept=request.META.get("HTTP_ACCEPT"),
        body_format=format_of(content_type),
    )
    try:
        return _process_message(request, content_type, fmt)
    except Exception:  # noqa: BLE001 - an OperationOutcome, never Django's HTML page
        logger.exception("$process-message: unexpected error")
        return _outcome(500, "", _("The portal failed to process the request."), "exception", fmt)


def _process_message(request: HttpRequest, content_type: str, fmt: str) -> HttpResponse:
    if request.method != "POST":
        response = _outcome(405, "", _("$process-message only accepts POST."), "not-supported", fmt)
        response["Allow"] = "POST"
        return response
    user = _token_user(request)
    if user is None:
        response = _outcome(401, "", _("Send the integration token: Authorization: Token <key>."), "login", fmt)
        response["WWW-Authenticate"] = "Token"
        return response
    refusal = token_refusal(request, use=TokenUse.PROCESS_MESSAGE)
    if refusal is not None:  # the token's scope (sectors.tokens); recorded for the integrations page
        outcome = operation_outcome([("", refusal, "forbidden")])
        call_record(user=user, status=403, resource=outcome)
        return _render(403, outcome, fmt)
    if content_type not in ACCEPTED:
        return _outcome(
            415,
            "MSG_BAD_FORMAT",
            _("Send the bundle as application/fhir+json or application/fhir+xml."),
            "not-supported",
            fmt,
        )
    body = request.read()  # its declared length was checked against the message limit (large_body)
    status, resource = process_message(body, content_type, user=user)
    response = _render(status, resource, fmt)
    if status == 503:  # the database was busy or away: send it again
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
