"""The session's idle timeout, kept to the minute without a write on every request.

A session ends ``SESSION_COOKIE_AGE`` seconds (``SESSION_IDLE_TIMEOUT_MINUTES``) after it was last
renewed. Saving it on every request (``SESSION_SAVE_EVERY_REQUEST``) cost every page an UPDATE
and a COMMIT; ``SessionMiddleware`` renews it at most once every ``RENEW_SECONDS`` instead, so
an idle session ends between 29 and 30 minutes after the last request. The time of the last
renewal is kept in the session (``RENEWED``), so the page can say exactly how long is left
(``seconds_left``, in ``<body data-session-timeout>``) and the warning comes in time.

The keep-alive (``session_keepalive``) always renews.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

RENEW_SECONDS = 60
RENEWED = "_renewed_at"  # when the session was last saved (its expiry renewed), in Unix seconds


def _renewal_due(request: HttpRequest) -> bool:
    """Whether this request renews the session: decided once per request, so that what the page
    says and what is saved agree. Reading the time of the last renewal does not count as the
    view's use of the session (which adds ``Vary: Cookie``)."""
    due = getattr(request, "_session_renewal_due", None)
    if due is None:
        session = request.session
        accessed = session.accessed
        renewed = session.get(RENEWED)
        session.accessed = accessed
        now = int(time.time())
        due = not isinstance(renewed, int) or abs(now - renewed) >= RENEW_SECONDS
        request._session_renewal_due = due  # type: ignore[attr-defined]
        request._session_checked_at = now  # type: ignore[attr-defined]
    return due


def session_renew(request: HttpRequest) -> None:
    """Renew the session on this request, however recently it was renewed."""
    _renewal_due(request)
    request._session_renewal_due = True  # type: ignore[attr-defined]


def seconds_left(request: HttpRequest) -> int:
    """How long the session lasts without another request, as of this response."""
    age = int(settings.SESSION_COOKIE_AGE)
    if _renewal_due(request):
        return age
    renewed = request.session[RENEWED]
    return max(0, min(age, renewed + age - request._session_checked_at))  # type: ignore[attr-defined]


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, saving a session that was changed, and one that was not at most once every
    ``RENEW_SECONDS`` (with ``SESSION_SAVE_EVERY_REQUEST`` off). An empty session is never saved
    here: that would create one."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and (session.modified or settings.SESSION_COOKIE_NAME in request.COOKIES):
            accessed = session.accessed
            # Loaded first: a session that is gone (expired, signed out elsewhere) is empty then.
            if (session.modified or _renewal_due(request)) and not session.is_empty():
                session[RENEWED] = int(time.time())  # saved below, with its expiry renewed
            session.accessed = accessed
        return super().process_response(request, response)


def session_timeout(request: HttpRequest) -> dict:
    """For the idle warning of every page: the seconds left (a callable, so a page that does not
    show the warning reads nothing), the whole timeout and how often a request renews it."""
    return {
        "session_seconds_left": lambda: seconds_left(request),
        "session_age": settings.SESSION_COOKIE_AGE,
        "session_renew_seconds": RENEW_SECONDS,
    }


@require_POST
def session_keepalive(request):
    """204 renews the session; 401 when it has already ended, so the page can say so instead of
    receiving the sign-in page."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    session_renew(request)
    return HttpResponse(status=204)
