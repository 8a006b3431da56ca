"""``GET /fhir/Bundle/<message id>``: a message as its MedCom message bundle, in FHIR JSON or XML.

Browsers (session) and integrations (``Authorization: Token <key>``) alike; the message goes
through ``messaging.selectors.message_get`` (the access policy; a message the organisation neither
sent nor received, or about a citizen it may not see, answers 404 like a missing one) and the read
is logged with action export.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from citizens.api.views import api_actor
from citizens.choices import AccessAction
from citizens.fhir.http import FHIR_JSON, FHIR_XML
from sectors.api.views import ACTING_HEADER

from .. import selectors
from .export import EXPORTED_TYPES, bundle_json, bundle_xml, message_bundle

XML_FORMATS = {"xml", FHIR_XML, "application/xml", "text/xml"}


def _outcome(data: Any) -> OperationOutcome:
    """An error answer (DRF's ``{"detail": ...}``) as the FHIR OperationOutcome a FHIR client expects."""
    detail = data.get("detail", data) if isinstance(data, dict) else data
    if isinstance(detail, dict):  # field errors (a bad X-Acting-Organisation): "field: message"
        detail = "; ".join(
            f"{field}: {' '.join(map(str, messages)) if isinstance(messages, list) else messages}"
            for field, messages in detail.items()
        )
    code = getattr(detail, "code", "") or (data.get("code") if isinstance(data, dict) else "") or "processing"
    issue_code = {
        "not_found": "not-found",
        "not_authenticated": "login",
        "permission_denied": "forbidden",
        "token_scope": "forbidden",
        "exception": "exception",
        "server_error": "exception",
    }.get(code, "processing")
    diagnostics = str(detail)
    if isinstance(data, dict) and data.get("error_id"):  # a server error: the id is also in the log
        diagnostics = f"{diagnostics} error_id={data['error_id']}"
    return OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": issue_code, "diagnostics": diagnostics}],
        }
    )


class FhirJsonRenderer(BaseRenderer):
    media_type = FHIR_JSON
    format = "json"
    charset = None  # FHIR JSON is UTF-8; the bytes are rendered already

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, bytes):
            return data
        if data is None:
            return b""
        return _outcome(data).model_dump_json().encode()


class FhirXmlRenderer(BaseRenderer):
    media_type = FHIR_XML
    format = "xml"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, bytes):
            return data
        if data is None:
            return b""
        return _outcome(data).model_dump_xml()


class FhirContentNegotiation(BaseContentNegotiation):
    """FHIR's ``_format`` parameter first, then ``Accept``; JSON unless XML is asked for by name
    (a browser's ``Accept`` lists application/xml, but a link it follows wants the default)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = (request.query_params.get("_format") or "").strip().lower()
        accept = (request.META.get("HTTP_ACCEPT") or "").lower()
        xml = wanted in XML_FORMATS if wanted else FHIR_XML in accept
        renderer = next((r for r in renderers if r.format == ("xml" if xml else "json")), renderers[0])
        return renderer, renderer.media_type


# Errors answer as a FHIR OperationOutcome (XML when XML was asked for), not the API's error body.
OPERATION_OUTCOME = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {"resourceType": {"type": "string", "enum": ["OperationOutcome"]}, "issue": {"type": "array"}},
}
MESSAGE_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=_("The message id."))
FORMAT = OpenApiParameter(
    "_format",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=["json", "xml"],
    description=_("json (the default) or xml; instead of `Accept: application/fhir+xml`."),
)
DOWNLOAD = OpenApiParameter(
    "download",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description=_("1: answer as a file to save (`<message id>.json` or `.xml`)."),
)


@extend_schema(
    tags=["fhir"],
    summary=_("A message as its MedCom FHIR message bundle"),
    description=_(
        "The care communication or hospital notification (or acknowledgement) as a MedCom message bundle: "
        "MessageHeader with event code and destinations, the sender and receiver Organizations with SOR and "
        "GLN identifiers, the Patient with the CPR number, the focus (Communication or Encounter) and "
        "Provenance for this message and the earlier messages of the conversation that the acting "
        "organisation took part in. FHIR JSON by default; FHIR XML with `Accept: application/fhir+xml` or "
        "`_format=xml`. Only for a message the organisation sent or received, about a citizen it may see; "
        "logged (action export). Portal notifications are no MedCom messages and answer 404."
    ),
    parameters=[ACTING_HEADER, MESSAGE_ID, FORMAT, DOWNLOAD],
    responses={
        (200, FHIR_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description=_("The Bundle (type message).")),
        (200, FHIR_XML): OpenApiResponse(OpenApiTypes.STR, description=_("The Bundle in FHIR XML.")),
        (400, FHIR_JSON): OpenApiResponse(
            OPERATION_OUTCOME, description=_("X-Acting-Organisation is no organisation id.")
        ),
        (403, FHIR_JSON): OpenApiResponse(
            OPERATION_OUTCOME, description=_("Not signed in: send a session cookie or `Authorization: Token <key>`.")
        ),
        (404, FHIR_JSON): OpenApiResponse(
            OPERATION_OUTCOME,
            description=_(
                "No such message, a portal notification, or a message the acting organisation neither sent nor "
                "received or about a citizen it has no relationship with: indistinguishable on purpose."
            ),
        ),
        (500, FHIR_JSON): OpenApiResponse(
            OPERATION_OUTCOME, description=_("The export failed, or an unexpected server error (logged).")
        ),
    },
)
class BundleView(APIView):
    renderer_classes = [FhirJsonRenderer, FhirXmlRenderer]
    content_negotiation_class = FhirContentNegotiation
    scope_resource_type = "Bundle"

    def get(self, request: Request, pk) -> Response:
        actor = api_actor(request)
        message = selectors.message_get(actor=actor, pk=pk, action=AccessAction.EXPORT)
        if message.type not in EXPORTED_TYPES:  # a portal notification is no MedCom message
            raise Http404
        xml = request.accepted_renderer.format == "xml"
        # An exporter failure is not caught here: the API's exception handler logs it under an error
        # id (method, path and view only: the bundle is health data) and answers a 500
        # OperationOutcome with that id, instead of pretending the message is missing.
        bundle = message_bundle(message, for_organisation=actor.organisation)
        content = bundle_xml(bundle) if xml else bundle_json(bundle)
        response = Response(content)
        if request.query_params.get("download") in {"1", "true", "yes"}:
            response["Content-Disposition"] = f'attachment; filename="{message.pk}.{"xml" if xml else "json"}"'
        return response
