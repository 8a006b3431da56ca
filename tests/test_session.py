"""An expired session: an htmx request is sent to the sign-in page as a whole page (``HX-Redirect``,
back to the page the user was on) instead of the sign-in page swapped into the current one; the
page warns before the session ends and a ping renews it."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from freezegun import freeze_time

from sectors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SEARCH = "/citizens/search/?q=Jensen"
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/citizens/?page=2&sort=name"}


def test_an_htmx_request_without_a_session_is_sent_to_sign_in_as_a_whole_page(client):
    response = client.get(SEARCH, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/citizens/%3Fpage%3D2%26sort%3Dname"
    assert "Location" not in response
    assert response.content == b""


def test_an_htmx_post_without_a_session_is_sent_to_sign_in_too(client):
    response = client.post("/acting-organisation/", {"organisation": 1}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/citizens/%3Fpage%3D2%26sort%3Dname"


@pytest.mark.parametrize(
    "current",
    [
        "https://evil.example/citizens/",  # another host
        "http://testserver//evil.example/citizens/",  # a path that is another host
        "",
    ],
)
def test_next_is_only_a_page_of_this_site(client, current):
    response = client.get(SEARCH, headers={"HX-Request": "true", "HX-Current-URL": current})
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/"


def test_a_normal_request_is_still_redirected(client):
    response = client.get(SEARCH)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/citizens/search/%3Fq%3DJensen"
    assert "HX-Redirect" not in response


def test_a_signed_in_htmx_request_is_answered_as_usual(client):
    client.force_login(UserFactory())
    response = client.get("/", headers=HTMX)
    assert response.status_code == 200
    assert "HX-Redirect" not in response


def test_keepalive_renews_the_session(client, settings):
    client.force_login(UserFactory())
    start = timezone.now()
    with freeze_time(start) as frozen:
        client.get("/")
        expires = Session.objects.get().expire_date
        frozen.tick(datetime.timedelta(minutes=10))
        response = client.post("/session/keepalive/")
        assert response.status_code == 204
        assert Session.objects.get().expire_date == expires + datetime.timedelta(minutes=10)


def test_keepalive_without_a_session_is_401_not_a_sign_in_page(client):
    response = client.post("/session/keepalive/")
    assert response.status_code == 401
    assert response.content == b""


def test_keepalive_takes_post_only(client):
    client.force_login(UserFactory())
    assert client.get("/session/keepalive/").status_code == 405


def test_the_page_carries_the_timeout_for_the_warning(client, settings):
    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert f'data-session-timeout="{settings.SESSION_COOKIE_AGE}"' in html
    assert 'data-session-keepalive="/session/keepalive/"' in html
    assert 'data-testid="session-warning"' in html
    assert "js/session.js" in html


def test_signed_out_pages_have_no_warning(client):
    html = client.get("/accounts/login/").content.decode()
    assert "data-session-timeout" not in html
    assert 'data-testid="session-warning"' not in html
