"""Settings that cannot be mistyped, and the development profile that runs like production.

Each case reads the settings in a fresh interpreter with a clean environment, because settings are
read once at start-up (the same pattern as test_settings_production.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]

READ_SETTINGS = """
import json, sys
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}))
"""


@pytest.fixture
def development_env(tmp_path):
    """The zero-setup demo profile, and nothing from the developer's environment."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "smartcare.settings",
    }


def read(env, *names):
    return subprocess.run(  # noqa: S603 - a fixed command line from this module
        [sys.executable, "-c", READ_SETTINGS, *names],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def values(env, *names):
    result = read(env, *names)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("name", "typo"),
    [
        ("DEBUG", "ture"),
        ("MFA_REQUIRED_FOR_ADMINS", "flase"),
        ("CELERY_TASK_ALWAYS_EAGER", "enabled"),
        ("MESSAGING_WEBHOOK_REQUIRE_HTTPS", ""),
    ],
)
def test_a_mistyped_boolean_stops_start_up(development_env, name, typo):
    development_env[name] = typo
    result = read(development_env, name)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} must be one of true/false, yes/no, on/off, 1/0" in result.stderr


def test_mfa_for_admins_cannot_be_turned_off_by_a_typo_in_production(development_env, tmp_path):
    """The case that motivated the strict reader: ``ture`` used to mean false."""
    development_env.update(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "portal.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "EMAIL_URL": "smtp://localhost:25",
            "SMARTCARE_BASE_URL": "https://portal.example",
            "MFA_REQUIRED_FOR_ADMINS": "ture",
        }
    )
    result = read(development_env, "MFA_REQUIRED_FOR_ADMINS")
    assert result.returncode != 0
    assert "MFA_REQUIRED_FOR_ADMINS must be one of" in result.stderr


def test_the_secure_ssl_redirect_switch_is_strict_in_production(development_env, tmp_path):
    development_env.update(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "portal.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "EMAIL_URL": "smtp://localhost:25",
            "SMARTCARE_BASE_URL": "https://portal.example",
            "SECURE_SSL_REDIRECT": "maybe",
        }
    )
    result = read(development_env, "SECURE_SSL_REDIRECT")
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT must be one of" in result.stderr


@pytest.mark.parametrize(
    ("words", "expected"),
    [(["true", "True", " YES ", "on", "1"], True), (["false", "FALSE", "no", "Off", "0"], False)],
)
def test_the_accepted_words(development_env, words, expected):
    for word in words:
        development_env["MFA_REQUIRED_FOR_ADMINS"] = word
        assert values(development_env, "MFA_REQUIRED_FOR_ADMINS") == {"MFA_REQUIRED_FOR_ADMINS": expected}, word


@pytest.mark.parametrize(
    ("name", "garbage", "kind"),
    [
        ("SESSION_IDLE_TIMEOUT_MINUTES", "30m", "a whole number"),
        ("MESSAGING_MAX_MESSAGE_BYTES", "50MB", "a whole number"),
        ("MESSAGING_ESCALATE_AFTER_HOURS", "four", "a number"),
        ("CELERY_TASK_SOFT_TIME_LIMIT", "4 minutes", "a whole number"),
    ],
)
def test_a_number_that_is_not_one_names_the_variable(development_env, name, garbage, kind):
    development_env[name] = garbage
    result = read(development_env, name)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} must be {kind}, not '{garbage}'" in result.stderr


# --- the demo runs like production -----------------------------------------------------------------


def test_development_runs_without_debug_unless_asked(development_env):
    assert values(development_env, "DEBUG", "ALLOWED_HOSTS") == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "[::1]", "testserver"],
    }
    development_env["DEBUG"] = "true"
    assert values(development_env, "DEBUG") == {"DEBUG": True}


STATIC_SCRIPT = """
import django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/static/css/smartcare.css")
print(settings.DEBUG, response.status_code, response["Content-Type"])
"""


def test_static_files_are_served_without_debug_in_development(development_env):
    """``make run`` has DEBUG off: WhiteNoise serves the static files from the finders instead."""
    result = subprocess.run(  # noqa: S603 - a fixed command line from this module
        [sys.executable, "-c", STATIC_SCRIPT],
        cwd=BASE_DIR,
        env=development_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "200", "text/css;", 'charset="utf-8"']


def test_a_soft_time_limit_not_below_the_hard_one_stops_start_up(development_env):
    development_env["CELERY_TASK_SOFT_TIME_LIMIT"] = "300"
    result = read(development_env, "CELERY_TASK_SOFT_TIME_LIMIT")
    assert result.returncode != 0
    assert "CELERY_TASK_SOFT_TIME_LIMIT must be above 0 and below CELERY_TASK_TIME_LIMIT" in result.stderr
