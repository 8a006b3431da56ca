"""The API's error answers, all in the documented ``Error`` shape (``smartcare.api.schema``).

DRF's field errors for 400s; a JSON body instead of an HTML page for Django's own validation
errors, so that a rule enforced in a service never becomes a 500; ``detail`` and ``code`` for an
error about the request as a whole; a 503 with ``Retry-After`` when the database gave up a
transaction that passes with time (a deadlock or serialization conflict the service's own retries,
``smartcare.transactions``, did not get past), so a sender knows to send again and nothing is
half-done; and for anything unexpected a 500 whose ``error_id`` is also in the log, so that a
support request can be matched with its traceback. The log line names the request by method,
path and view only: never the query string or body, where CPR numbers and health data travel.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.exceptions import BadRequest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from smartcare.transactions import is_transient

logger = logging.getLogger("smartcare.api")

SERVER_ERROR = "server_error"
RETRY_AFTER_SECONDS = 1


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The portal is busy. Nothing was saved; send the request again in a moment.")
    default_code = "service_unavailable"


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
            detail = {("non_field_errors" if k == "__all__" else k): v for k, v in detail.items()}
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, BadRequest):
        exc = exceptions.ValidationError({getattr(exc, "field", "non_field_errors"): [str(exc)]})
    elif is_transient(exc):
        logger.warning("api_busy method=%s path=%s", context["request"].method, context["request"].path)
        exc = ServiceUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        set_rollback()
        view = context.get("view")
        return Response(
            server_error_body(context["request"], view=type(view).__name__ if view else ""),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response.data = error_body(response.data, exc)
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def error_body(data: Any, exc: exceptions.APIException) -> dict:
    """DRF's error data in the documented shape: always an object; an error that is not about
    the fields has its machine-readable code beside the message."""
    if isinstance(data, list):
        return {"non_field_errors": data}
    if not isinstance(exc, exceptions.ValidationError) and isinstance(data, dict) and "detail" in data:
        code = getattr(data["detail"], "code", None)
        if code and "code" not in data:
            data["code"] = code
    return data


def server_error_body(request: HttpRequest, *, view: str = "") -> dict:
    """Log the exception being handled under a new error id and answer with that id."""
    error_id = uuid.uuid4().hex
    logger.exception(
        "api_error error_id=%s method=%s path=%s view=%s", error_id, request.method, request.path, view or "-"
    )
    return {
        "detail": str(exceptions.APIException.default_detail),
        "code": SERVER_ERROR,
        "error_id": error_id,
    }


def api_not_found(request: HttpRequest) -> JsonResponse:
    """An unknown path under ``/api/``: the documented 404 body, not the portal's HTML page."""
    error = exceptions.NotFound()
    return JsonResponse({"detail": str(error.detail), "code": error.default_code}, status=404)


def api_server_error(request: HttpRequest) -> JsonResponse:
    """An exception outside a DRF view (e.g. in a middleware) under ``/api/``."""
    return JsonResponse(server_error_body(request), status=500)
