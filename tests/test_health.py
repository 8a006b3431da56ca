"""``GET /health/``: load balancers and compose take an instance out when it cannot serve."""

import pytest
from django.db import OperationalError

from smartcare import health
from smartcare.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_health_is_ok_when_database_and_broker_answer(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert "no-cache" in response["Cache-Control"]


def test_health_needs_no_sign_in_and_shows_no_secrets(client, settings):
    response = client.get("/health/")
    assert response.status_code == 200
    text = response.content.decode()
    assert settings.SECRET_KEY not in text
    assert "://" not in text  # neither the database nor the broker URL


def test_health_is_503_when_the_broker_is_unreachable(client, monkeypatch):
    # Nothing listens on port 1: the connection is refused at once.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


class BrokenConnection:
    vendor = "broken"

    def cursor(self):
        raise OperationalError("could not connect to server")


def test_health_is_503_when_the_database_fails(client, monkeypatch):
    monkeypatch.setattr(health, "connection", BrokenConnection())
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {"ok": False, "detail": "OperationalError"}
    assert body["broker"]["ok"] is True


def test_health_is_503_when_the_broker_check_fails(client, monkeypatch):
    monkeypatch.setattr(health, "check_broker", lambda: (False, "OperationalError"))
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"] == {"ok": False, "detail": "OperationalError"}


def test_health_only_answers_get(client):
    assert client.post("/health/").status_code == 405
