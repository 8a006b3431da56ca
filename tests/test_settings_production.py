"""The production profile: refuses to start without its secrets, passes ``check --deploy`` when
configured, and sends the security headers. Each case runs in a fresh interpreter with a clean
environment, because settings are read once at start-up."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]
CHECK = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]


@pytest.fixture
def production_env(tmp_path):
    """Everything a production process needs, and nothing from the developer's environment."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "portal.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp://localhost:25",
        "SMARTCARE_BASE_URL": "https://portal.example",
    }


def run(args, env, **kwargs):
    return subprocess.run(  # noqa: S603 - fixed command lines from this module
        args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


def test_check_deploy_passes_when_configured(production_env):
    result = run(CHECK, production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SMARTCARE_BASE_URL"]
)
def test_production_refuses_to_start_without(production_env, missing):
    del production_env[missing]
    result = run(CHECK, production_env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_refuses_an_empty_allowed_hosts(production_env):
    production_env["ALLOWED_HOSTS"] = ""
    result = run(CHECK, production_env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_check_deploy_fails_on_a_weak_secret_key(production_env):
    """Proves the deploy checks run at all: a short key must be reported."""
    production_env["SECRET_KEY"] = "too-short"
    result = run(CHECK, production_env)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_check_deploy_fails_with_debug_on(production_env):
    production_env["DEBUG"] = "true"
    result = run(CHECK, production_env)
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


RESPONSE_SCRIPT = """
import json
from unittest import mock

import django

django.setup()
from django.test import Client

from smartcare import health

with mock.patch.object(health, "check_broker", return_value=(True, "redis")):
    secure = Client().get("/health/", secure=True, HTTP_HOST="portal.example", HTTP_X_FORWARDED_PROTO="https")
    plain_health = Client().get("/health/", HTTP_HOST="portal.example")
plain_page = Client().get("/accounts/login/", HTTP_HOST="portal.example")
print(json.dumps({
    "secure": [secure.status_code, dict(secure.headers)],
    "plain_health": [plain_health.status_code, dict(plain_health.headers)],
    "plain_page": [plain_page.status_code, dict(plain_page.headers)],
}))
"""


@pytest.fixture
def production_responses(production_env):
    production_env["DJANGO_SETTINGS_MODULE"] = "smartcare.settings"
    result = run([sys.executable, "-c", RESPONSE_SCRIPT], production_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_response_carries_hsts_and_csp(production_responses):
    status, headers = production_responses["secure"]
    assert status == 200
    hsts = headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    csp = headers["Content-Security-Policy"]
    script_src = next(part.split()[1:] for part in csp.split(";") if part.split()[0] == "script-src")
    assert script_src == ["'self'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_production_redirects_plain_http_except_the_health_probe(production_responses):
    status, headers = production_responses["plain_page"]
    assert status == 301
    assert headers["Location"] == "https://portal.example/accounts/login/"
    status, headers = production_responses["plain_health"]
    assert status == 200
    assert "Strict-Transport-Security" not in headers  # only sent over HTTPS


STATE_SCRIPT = """
import json
from django.conf import settings
print(json.dumps({
    "sessions": settings.SESSION_ENGINE,
    "caches": sorted({cache["BACKEND"] for cache in settings.CACHES.values()}),
    "messages": settings.MESSAGE_STORAGE,
}))
"""


@pytest.mark.parametrize("profile", ["production", "development"])
def test_with_redis_the_web_tier_keeps_no_state_of_its_own(production_env, profile):
    """Any web node can answer any request: sessions (and the acting organisation in them) live in the
    database and are read through Redis, the cache (sign-in rate limits, used TOTP codes, throttles) in Redis, and flash
    messages in the cookie or the session; nothing in a process's memory or on its disk."""
    production_env.update({"DJANGO_ENV": profile, "DJANGO_SETTINGS_MODULE": "smartcare.settings"})
    result = run([sys.executable, "-c", STATE_SCRIPT], production_env)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {
        "sessions": "django.contrib.sessions.backends.cached_db",
        "caches": ["smartcare.cache.RedisCache"],
        "messages": "django.contrib.messages.storage.fallback.FallbackStorage",
    }
