"""A request that only its API token can authenticate skips what serves browsers alone (flash
messages, the content-security policy); a browser's requests, to the API too, keep it."""

import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
BROWSER_HEADERS = ("Content-Security-Policy",)


@pytest.fixture
def token(gp):
    return Token.objects.create(user=gp).key


def test_a_token_request_leaves_out_the_browser_headers_and_keeps_the_rest(client, token):
    response = client.get(ME, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert not [h for h in BROWSER_HEADERS if h in response.headers]
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Language"] == "da"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_session_request_to_the_api_keeps_the_browser_headers(client, gp):
    client.force_login(gp)
    response = client.get(ME)
    assert response.status_code == 200
    assert all(h in response.headers for h in BROWSER_HEADERS)


def test_a_token_sent_with_a_session_cookie_takes_the_whole_way(client, gp, token):
    client.force_login(gp)
    response = client.get(ME, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert all(h in response.headers for h in BROWSER_HEADERS)


def test_a_page_requested_with_a_token_header_takes_the_whole_way(client, token):
    response = client.get("/accounts/login/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert all(h in response.headers for h in BROWSER_HEADERS)
