"""An expired session: an htmx request is sent to the sign-in page as a whole page (``HX-Redirect``,
back to the page the user was on) instead of the sign-in page swapped into the current one; the
page warns before the session ends and a ping renews it."""

import datetime
import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from sectors.tests.factories import UserFactory
from smartcare.session import RENEW_SECONDS

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


# --- renewed at most once a minute (smartcare.session) -------------------------------------------


def session_writes(client, method="get", path="/") -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(path)
    writes = [q["sql"] for q in ctx.captured_queries if "django_session" in q["sql"] and "SELECT" not in q["sql"]]
    return len(writes), response


def seconds_left_on(response) -> int:
    return int(re.search(r'data-session-timeout="(\d+)"', response.content.decode()).group(1))


def test_a_request_within_a_minute_of_the_last_renewal_writes_no_session(client, settings):
    client.force_login(UserFactory())
    with freeze_time(timezone.now()) as frozen:
        writes, response = session_writes(client)
        assert writes == 1  # renewed: the page says the whole timeout is left
        assert seconds_left_on(response) == settings.SESSION_COOKIE_AGE
        expires = Session.objects.get().expire_date
        frozen.tick(datetime.timedelta(seconds=RENEW_SECONDS - 1))
        writes, response = session_writes(client)
        assert writes == 0
        assert seconds_left_on(response) == settings.SESSION_COOKIE_AGE - (RENEW_SECONDS - 1)
        assert Session.objects.get().expire_date == expires
        assert "sessionid" not in response.cookies  # the cookie is not sent again either
        frozen.tick(datetime.timedelta(seconds=1))
        writes, response = session_writes(client)
        assert writes == 1
        assert seconds_left_on(response) == settings.SESSION_COOKIE_AGE
        assert Session.objects.get().expire_date == expires + datetime.timedelta(seconds=RENEW_SECONDS)


@pytest.mark.parametrize(("idle", "signed_in"), [(29 * 60 + 9, True), (29 * 60 + 11, False)])
def test_an_idle_session_ends_within_a_minute_of_the_timeout(client, settings, idle, signed_in):
    client.force_login(UserFactory())
    with freeze_time(timezone.now()) as frozen:
        client.get("/")  # renewed
        frozen.tick(datetime.timedelta(seconds=50))
        client.get("/")  # not renewed: the session still ends 30 minutes after the first request
        frozen.tick(datetime.timedelta(seconds=idle))
        response = client.get("/")
    if signed_in:  # 29 min 59 s after the renewal
        assert response.status_code == 200
    else:  # 30 min 1 s after the renewal, though only 29 min 11 s after the last request
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_keepalive_renews_within_the_minute_too(client):
    client.force_login(UserFactory())
    with freeze_time(timezone.now()) as frozen:
        client.get("/")
        expires = Session.objects.get().expire_date
        frozen.tick(datetime.timedelta(seconds=5))
        writes, response = session_writes(client, "post", "/session/keepalive/")
        assert response.status_code == 204
        assert writes == 1
        assert Session.objects.get().expire_date == expires + datetime.timedelta(seconds=5)


def test_a_session_that_has_ended_is_not_created_again(client):
    client.force_login(UserFactory())
    Session.objects.all().delete()
    response = client.get("/")
    assert response.status_code == 302
    assert not Session.objects.exists()
    assert client.post("/session/keepalive/").status_code == 401
    assert not Session.objects.exists()


def test_signing_out_leaves_no_session(client):
    client.force_login(UserFactory())
    client.get("/")
    client.post("/accounts/logout/")
    assert not Session.objects.exists()


def test_the_page_carries_the_whole_timeout_and_the_renewal_interval(client, settings):
    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert f'data-session-age="{settings.SESSION_COOKIE_AGE}"' in html
    assert f'data-session-renew="{RENEW_SECONDS}"' in html
