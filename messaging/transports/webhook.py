"""The organisation's own system: the message as its MedCom bundle, posted and signed. A
receiving system may answer with its MedCom Acknowledgement; it comes back in the answer for
the engine to record (``Sent.answer``)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

import requests
from django.conf import settings

from sectors.selectors import outgoing_gateway

from ..choices import AttemptOutcome
from ..fhir.export import bundle_json, message_bundle
from ..models import Delivery
from . import PermanentError, Sent, TransientError


def webhook_payload(delivery: Delivery) -> bytes:
    """The message as its MedCom bundle (FHIR JSON), with the history the receiving organisation
    may know: the organisation's own system receives what a MedCom endpoint would."""
    try:
        bundle = message_bundle(delivery.message, for_organisation=delivery.recipient.organisation)
    except ValueError as exc:  # not a MedCom message
        raise PermanentError(str(exc)) from exc
    return bundle_json(bundle)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _answer(response: requests.Response) -> tuple[bytes, str]:
    """The body of a successful answer and its content type (empty when there is none)."""
    content = getattr(response, "content", b"")
    if not isinstance(content, bytes) or not content.strip():
        return b"", ""
    headers = getattr(response, "headers", None)
    content_type = headers.get("Content-Type", "") if isinstance(headers, Mapping) else ""
    return content, str(content_type)


def _endpoint(delivery: Delivery) -> tuple[str, str]:
    """The URL and secret: the organisation's own system, or for an organisation outside the
    portal the gateway that carries messages to the national network."""
    organisation = delivery.recipient.organisation
    if organisation.is_external:
        gateway = outgoing_gateway()
        if gateway is None:
            raise TransientError("no active gateway with a webhook carries messages outside the portal")
        return gateway.webhook_url, gateway.webhook_secret
    endpoint = getattr(organisation, "webhook", None)
    if endpoint is None or not endpoint.active:
        raise PermanentError("the organisation has no active webhook")
    return endpoint.url, endpoint.secret


def webhook(delivery: Delivery) -> Sent:
    url, secret = _endpoint(delivery)
    if getattr(settings, "MESSAGING_WEBHOOK_REQUIRE_HTTPS", False) and not url.startswith("https://"):
        raise PermanentError("webhooks must use HTTPS")
    body = webhook_payload(delivery)
    headers = {
        "Content-Type": "application/fhir+json",
        "X-SmartCare-Signature": sign(secret, body),
        "X-SmartCare-Delivery": delivery.key,
        "X-SmartCare-Message": str(delivery.message_id),
    }
    try:
        response = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=getattr(settings, "MESSAGING_WEBHOOK_TIMEOUT_SECONDS", 10),
            allow_redirects=False,
        )
    except requests.RequestException as exc:  # timeouts and refused connections
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    if 200 <= response.status_code < 300:
        answer, answer_type = _answer(response)
        return Sent(AttemptOutcome.OK, answer, answer_type)
    detail = f"HTTP {response.status_code}: {response.text[:300]}"
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        raise TransientError(detail)
    raise PermanentError(detail)
