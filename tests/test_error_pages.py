"""The portal's own error pages (DEBUG is off, as in production and in ``make run``): in the
user's language, in the portal's layout, with a way back to the dashboard. The 500 and 400 pages
use a layout that needs no request context and no database."""

from html import unescape

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext

from smartcare.transactions import DEADLOCK
from smartcare.urls import urlpatterns as portal_urlpatterns
from tests.dberrors import database_error


def forbidden(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError("boom")


def suspicious(request):
    raise SuspiciousOperation("tampered")


def busy(request):
    raise database_error(DEADLOCK)  # as a service raises it when its retries did not get past it


urlpatterns = [
    path("test-errors/forbidden/", forbidden),
    path("test-errors/broken/", broken),
    path("test-errors/suspicious/", suspicious),
    path("test-errors/busy/", busy),
    *portal_urlpatterns,
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

PAGES = {
    404: (
        "/no-such-page/",
        "Page not found",
        "The page does not exist, or you do not have access to it. Check the address, or start again from the "
        "dashboard.",
    ),
    403: (
        "/test-errors/forbidden/",
        "Access denied",
        "You do not have permission to do this for the organisation you are acting for. Ask your organisation's "
        "administrator if you need it.",
    ),
    500: (
        "/test-errors/broken/",
        "Something went wrong",
        "The portal had an error, and it has been logged. Try again in a moment, and tell your administrator if it "
        "keeps happening.",
    ),
    400: (
        "/test-errors/suspicious/",
        "Bad request",
        "The portal could not understand the request. Go back and try again.",
    ),
    503: (
        "/test-errors/busy/",
        "The portal is busy",
        "Nothing was saved: the database was busy with other work. Wait a moment and send it again; your "
        "browser's Back button takes you back to the form.",
    ),
}


@pytest.fixture(autouse=True)
def no_debug(settings):
    settings.DEBUG = False


def page(gp, language: str, url: str):
    client = Client(raise_request_exception=False)
    client.force_login(gp)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(url)


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("status", sorted(PAGES))
def test_error_pages_in_the_users_language_with_a_way_back(gp, language, status):
    url, heading, text = PAGES[status]

    response = page(gp, language, url)

    assert response.status_code == status
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert 'data-testid="error-page"' in html
    assert f'<a class="btn btn-primary" href="{reverse("dashboard")}" data-testid="back-to-dashboard">' in html
    assert "Traceback" not in html and "boom" not in html and "tampered" not in html
    with translation.override(language):
        expected = [gettext(msgid) for msgid in [heading, text, "Back to the dashboard", "Skip to content"]]
    assert [text for text in expected if text not in unescape(html)] == []
    if language == "da":
        assert "Gå til indhold" in html  # the layout's own Danish


@pytest.mark.parametrize("status", [404, 403])
def test_the_pages_a_user_reaches_by_a_link_have_the_full_layout(gp, status):
    html = page(gp, "en", PAGES[status][0]).content.decode()
    assert 'data-testid="user-menu"' in html  # the navigation of the signed-in user


def test_the_500_page_needs_no_database(gp, django_assert_num_queries):
    """Rendered without the context processors: an error because the database is down still shows."""
    from django.views.defaults import server_error

    request = Client().get("/").wsgi_request
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert 'data-testid="back-to-dashboard"' in response.content.decode()


def test_the_503_page_needs_no_database(gp, django_assert_num_queries):
    """The database gave up the transaction: the page that says so asks it nothing."""
    from smartcare.middleware import BusyDatabaseMiddleware

    request = Client().get("/").wsgi_request
    with django_assert_num_queries(0):
        response = BusyDatabaseMiddleware(lambda request: None).process_exception(request, database_error(DEADLOCK))
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert 'data-testid="back-to-dashboard"' in response.content.decode()
