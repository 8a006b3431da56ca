import logging
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.http import HttpResponse, QueryDict
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import resolve_url
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from .api.exceptions import RETRY_AFTER_SECONDS
from .transactions import is_transient, sqlstate

API_PREFIXES = ("/api/", "/fhir/")

logger = logging.getLogger("smartcare.pages")


def is_token_request(request) -> bool:
    """An API request that only its token can authenticate: ``Authorization: Token`` and no session
    cookie. No browser sends one on its own (a page cannot add that header to a request to another
    site without a CORS preflight, which the portal does not answer), and no session is involved,
    so what serves only browsers and sessions can be left out (``BrowserOnly``). A request that
    carries a session cookie too takes the whole way, as DRF tries the session first."""
    return (
        request.path_info.startswith(API_PREFIXES)
        and request.META.get("HTTP_AUTHORIZATION", "")[:6].lower() == "token "
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class BrowserOnly:
    """A middleware whose work only a browser needs (flash messages, the content-security policy):
    token requests go past it."""

    def __call__(self, request):
        if is_token_request(request):
            return self.get_response(request)
        return super().__call__(request)


class MessageMiddleware(BrowserOnly, DjangoMessageMiddleware):
    pass


class CSPMiddleware(BrowserOnly, DjangoCSPMiddleware):
    pass


class DanishFirstLocaleMiddleware:
    """Danish unless the user picked another language with the switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so an English browser
    on a Danish ward would get English; the portal is Danish by default and only the explicit
    choice (the language cookie set by the switch) changes that.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session has ended goes to the sign-in page as a whole page.

    ``login_required`` answers with a redirect to the sign-in page; htmx would follow it and swap
    the sign-in page into the current one. Instead it gets ``HX-Redirect`` (htmx then loads the
    page itself), with ``next`` the page the user is on (``HX-Current-URL``, this site only), not
    the fragment the request asked for.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or not isinstance(response, HttpResponseRedirectBase):
            return response
        user = getattr(request, "user", None)
        login = resolve_url(settings.LOGIN_URL)
        if (user is not None and user.is_authenticated) or urlsplit(response.get("Location", "")).path != login:
            return response
        page = request.htmx.current_url_abs_path
        if page and url_has_allowed_host_and_scheme(
            page, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            query = QueryDict(mutable=True)
            query["next"] = page
            login = f"{login}?{query.urlencode(safe='/')}"
        return HttpResponseClientRedirect(login)


class NoStoreMiddleware:
    """Nothing with citizen data is kept by a browser, a shared computer's disk or a proxy.

    Every response to a signed-in user (pages, CSV exports, attachments) and every response under
    ``/api/`` and ``/fhir/`` (which authenticate by token, so the user is only known inside the
    view) is marked ``Cache-Control: no-store, private``. Static files (served by WhiteNoise before
    this middleware) and the health check are left alone: they carry no citizen data.
    """

    ALWAYS = ("/api/", "/fhir/")
    NEVER = ("/health/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path_info
        if path.startswith(self.NEVER):
            return response
        user = getattr(request, "user", None)
        if path.startswith(self.ALWAYS) or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True, private=True)
        return response


class BusyDatabaseMiddleware:
    """A page whose transaction the database kept giving up answers 503, not 500.

    The services run such a transaction again (``smartcare.transactions``); when a deadlock or a
    serialization conflict persists, the error reaches the view. The transaction was rolled back
    whole, so nothing was saved: the user is told so and to send the form again in a moment, with
    ``Retry-After`` as the API answers it. The page needs no database (``error_base.html``).
    The API and ``$process-message`` answer in their own formats and are left to them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_transient(exception) or request.path_info.startswith(API_PREFIXES):
            return None
        logger.warning(
            "page_busy method=%s path=%s sqlstate=%s", request.method, request.path_info, sqlstate(exception)
        )
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
