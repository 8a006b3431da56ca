"""How large a request body may be: Django's 2.5 MB everywhere, a whole MedCom message (50 MB with
its attachments, plus room for the form around it) only where messages arrive.

Django checks ``DATA_UPLOAD_MAX_MEMORY_SIZE`` when ``request.body`` or the form fields are read,
one setting for every view; DRF's JSON parser reads the stream without checking it at all. So the
global setting stays small and ``RequestBodyLimitMiddleware`` refuses a body by its declared
length before any view or parser reads it, with the larger limit for the views marked
``@large_body``. A marked view that needs the raw body reads it with ``request.read()`` (bounded by
the declared length, which was checked), since ``request.body`` would still apply the small limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

Refusal = Callable[[HttpRequest, int], HttpResponse]


def large_body(view: Callable | None = None, *, refuse: Refusal | None = None) -> Any:
    """Mark a view (a function, or a DRF viewset method) as taking a whole message with its
    attachments. ``refuse`` answers a body that is larger still, in the view's own format."""

    def mark(view: Callable) -> Callable:
        view.large_body = refuse or too_large  # type: ignore[attr-defined]
        return view

    return mark(view) if view is not None else mark


def _handler(view_func: Callable, method: str) -> Callable:
    """The code that will answer: a DRF view's method for this HTTP method, or the view itself."""
    cls = getattr(view_func, "cls", None)
    if cls is None:
        return view_func
    actions = getattr(view_func, "actions", None) or {}
    return getattr(cls, actions.get(method.lower(), method.lower()), None) or view_func


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """413 with a message a person can act on: a page for browsers (htmx included), ``{"detail": ...}``
    otherwise."""
    detail = _("The request is larger than %(limit)s. Send less at a time.") % {"limit": filesizeformat(limit)}
    if "text/html" in request.headers.get("Accept", "") or "HX-Request" in request.headers:
        return render(request, "413.html", {"detail": detail}, status=413)
    return JsonResponse({"detail": detail}, status=413)


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body for a length it cannot parse
        refuse = getattr(_handler(view_func, request.method or ""), "large_body", None)
        if refuse is None:
            limit, refuse = settings.DATA_UPLOAD_MAX_MEMORY_SIZE, too_large
        else:
            limit = settings.MESSAGING_MAX_REQUEST_BYTES
        if limit is not None and length > limit:
            return refuse(request, limit)
        return None
