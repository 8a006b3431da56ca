"""API error shape: DRF's field errors for 400s, and a JSON body instead of an HTML page for
Django's own validation errors and bad requests, so that a rule enforced in a service never
becomes a 500. A bad request names what was wrong in its ``field`` (a header, say) when it can."""

from django.core.exceptions import BadRequest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


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
    return drf_exception_handler(exc, context)
