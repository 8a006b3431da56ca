"""``/fhir/metadata``, ``/fhir/<type>`` and ``/fhir/<type>/<id>``: FHIR's REST interface for
the registered resource types.

Plain Django views rather than DRF: a read is a few statements, and the API must stay fast at
region scale. Integrations send their token (``Authorization: Token <key>``), browsers their
session (reads only: a write from a session would need a CSRF check FHIR clients cannot do).
Whatever goes wrong answers an OperationOutcome in the format asked for, never an HTML page.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from sectors.acting import ActingOrganisationInvalid
from sectors.api.authentication import TokenAuthentication
from sectors.choices import TokenUse
from sectors.tokens import token_refusal
from smartcare.api.exceptions import RETRY_AFTER_SECONDS
from smartcare.datetimes import rfc3339
from smartcare.links import absolute_url
from smartcare.transactions import is_transient, sqlstate

from ..access import Actor, actor_from_request
from . import search as searching
from .capability import capability_statement
from .http import FhirError, answer_format, render, render_error
from .writes import process_transaction, resource_body

logger = logging.getLogger(__name__)

READ_METHODS = ("GET", "HEAD")


def base_url() -> str:
    return absolute_url("/fhir")


def _actor(request: HttpRequest, *, resource_types: Iterable[str], write: bool = False) -> Actor:
    """The actor of the request: an integration's token, or a browser's session for reads. A token
    must have the use (read, or write observations) and every resource type the answer holds in
    its scope (``sectors.tokens``): 403 otherwise."""
    try:
        found = TokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed as exc:
        raise FhirError(401, "login", str(exc.detail), headers={"WWW-Authenticate": "Token"}) from None
    if found is not None:
        request.user = found[0]
    elif not request.user.is_authenticated or write:
        raise FhirError(
            401,
            "login",
            _("Send the integration token: Authorization: Token <key>."),
            headers={"WWW-Authenticate": "Token"},
        )
    use = TokenUse.WRITE_OBSERVATIONS if write else TokenUse.READ
    _scope_check(request, use, list(resource_types) or [None])
    try:
        return actor_from_request(request)
    except ActingOrganisationInvalid as exc:
        raise FhirError(400, "invalid", str(exc)) from None
    except PermissionDenied as exc:
        raise FhirError(403, "forbidden", str(exc)) from None


def _scope_check(request: HttpRequest, use: str, resource_types: list[str | None]) -> None:
    for resource_type in resource_types:
        refusal = token_refusal(request, use=use, resource_type=resource_type)
        if refusal:
            raise FhirError(403, "forbidden", refusal)


def fhir_endpoint(view: Callable[..., dict[str, Any] | HttpResponse]) -> Callable[..., HttpResponse]:
    """Every answer FHIR: the view's resource rendered, a ``FhirError`` as its OperationOutcome, a
    failure as a logged 500 OperationOutcome carrying an error id."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        fmt = answer_format(request)
        try:
            answer = view(request, *args, **kwargs)
        except FhirError as error:
            return render_error(error, fmt)
        except OperationalError as exc:
            if not is_transient(exc):
                return _failed(request, fmt)
            # The services ran the transaction again; the database kept giving up (a deadlock, a
            # serialization conflict). It was rolled back whole: a device sends again, as told.
            logger.warning("fhir_busy method=%s path=%s sqlstate=%s", request.method, request.path, sqlstate(exc))
            text = _("The portal is busy. Nothing was saved; send the request again in a moment.")
            busy = FhirError(503, "transient", text, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
            return render_error(busy, fmt)
        except Exception:  # noqa: BLE001 - an OperationOutcome, never Django's HTML page
            return _failed(request, fmt)
        return answer if isinstance(answer, HttpResponse) else render(answer, fmt)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _failed(request: HttpRequest, fmt: str) -> HttpResponse:
    """A 500 OperationOutcome carrying an error id that the logged traceback has too."""
    error_id = uuid.uuid4().hex[:12]
    logger.exception("FHIR %s %s failed (error_id=%s)", request.method, request.path, error_id)
    text = _("The portal failed to answer. error_id=%(id)s") % {"id": error_id}
    return render_error(FhirError(500, "exception", text), fmt)


def _not_allowed(request: HttpRequest, allowed: tuple[str, ...]) -> FhirError:
    text = _("%(method)s is not supported here: the API is read-only except for Observations.") % {
        "method": request.method
    }
    return FhirError(405, "not-supported", text, headers={"Allow": ", ".join(allowed)})


@fhir_endpoint
def metadata(request: HttpRequest) -> dict[str, Any]:
    """The CapabilityStatement; public, like every FHIR server's (it holds no data)."""
    if request.method not in READ_METHODS:
        raise _not_allowed(request, READ_METHODS)
    return capability_statement(base_url())


@fhir_endpoint
def type_endpoint(request: HttpRequest, resource_type: str) -> dict[str, Any] | HttpResponse:
    kind = searching.resource_type(resource_type)
    if request.method == "POST" and kind.create is not None:
        actor = _actor(request, resource_types=[kind.name], write=True)
        resource, status = kind.create(actor, request)
        response = render(resource, answer_format(request), status=status)
        response["Location"] = f"{base_url()}/{kind.name}/{resource['id']}"
        return response
    if request.method not in READ_METHODS:
        raise _not_allowed(request, ("GET", "POST") if kind.create else READ_METHODS)
    actor = _actor(request, resource_types=searching.types_answered(kind, request.GET))
    return searchset(request, kind, searching.search(actor, kind, request.GET))


@fhir_endpoint
def root_endpoint(request: HttpRequest) -> dict[str, Any]:
    """``POST /fhir``: a transaction Bundle (``citizens.fhir.writes``); a token's write only."""
    if request.method != "POST":
        raise FhirError(
            405, "not-supported", _("POST a transaction Bundle to the base URL."), headers={"Allow": "POST"}
        )
    actor = _actor(request, resource_types=[], write=True)
    body = resource_body(request)
    entries = body.get("entry") if isinstance(body, dict) else None
    named = [
        entry["resource"].get("resourceType")
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
    ]
    # The scope must allow every type the Bundle writes (the transaction refuses types it cannot write).
    _scope_check(request, TokenUse.WRITE_OBSERVATIONS, [n for n in dict.fromkeys(named) if isinstance(n, str)])
    return process_transaction(actor, body, base_url())


@fhir_endpoint
def instance_endpoint(request: HttpRequest, resource_type: str, resource_id: str) -> dict[str, Any]:
    kind = searching.resource_type(resource_type)
    if request.method not in READ_METHODS:
        raise _not_allowed(request, READ_METHODS)
    return searching.read(_actor(request, resource_types=[kind.name]), kind, resource_id)


@fhir_endpoint
def unknown_endpoint(request: HttpRequest, rest: str = "") -> dict[str, Any]:
    """Any other path under /fhir/: an OperationOutcome, not the portal's 404 page."""
    raise FhirError(404, "not-found", _("The FHIR API has no such endpoint: %(path)s") % {"path": request.path})


def _link(request: HttpRequest, kind_name: str, offset: int | None = None) -> str:
    query = request.GET.copy()
    if offset is not None:
        query["_offset"] = str(offset)
    encoded = urlencode(list(query.lists()), doseq=True)
    return f"{base_url()}/{kind_name}" + (f"?{encoded}" if encoded else "")


def searchset(request: HttpRequest, kind: Any, found: searching.Found) -> dict[str, Any]:
    """A searchset Bundle: ``total`` (left out above the count cap), self, next and previous."""
    links = [{"relation": "self", "url": _link(request, kind.name)}]
    if found.more:
        links.append({"relation": "next", "url": _link(request, kind.name, found.offset + found.count)})
    if found.offset > 0 and found.count:
        links.append({"relation": "previous", "url": _link(request, kind.name, max(found.offset - found.count, 0))})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": rfc3339(timezone.now())},
        "type": "searchset",
    }
    if found.total is not None:
        bundle["total"] = found.total
    bundle["link"] = links
    entries = [_entry(resource, "match") for resource in found.matches]
    entries += [_entry(resource, "include") for resource in found.included]
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base_url()}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }
