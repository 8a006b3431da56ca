"""Settings that cannot be mistyped, and the development profile that runs like production.

Each case reads the settings in a fresh interpreter with a clean environment, because settings are
read once at start-up (the same pattern as test_settings_production.py)."""

import json

import pytest

from .processes import python

READ_SETTINGS = """
import json, sys
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}))
"""


def read(env, *names):
    return python(READ_SETTINGS, env, *names)


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


@pytest.mark.parametrize(
    ("name", "typo"),
    [
        ("MFA_REQUIRED_FOR_ADMINS", "ture"),  # the case that motivated the strict reader: it meant false
        ("SECURE_SSL_REDIRECT", "maybe"),
        ("DEBUG", "off-ish"),
    ],
)
def test_a_mistyped_boolean_stops_production(development_env, tmp_path, name, typo):
    development_env.update(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "portal.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "EMAIL_URL": "smtp://localhost:25",
            "SMARTCARE_BASE_URL": "https://portal.example",
            name: typo,
        }
    )
    result = read(development_env, name)
    assert result.returncode != 0
    assert f"{name} must be one of" in result.stderr


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
    result = python(STATIC_SCRIPT, development_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "200", "text/css;", 'charset="utf-8"']


def test_a_soft_time_limit_not_below_the_hard_one_stops_start_up(development_env):
    development_env["CELERY_TASK_SOFT_TIME_LIMIT"] = "300"
    result = read(development_env, "CELERY_TASK_SOFT_TIME_LIMIT")
    assert result.returncode != 0
    assert "CELERY_TASK_SOFT_TIME_LIMIT must be above 0 and below CELERY_TASK_TIME_LIMIT" in result.stderr
