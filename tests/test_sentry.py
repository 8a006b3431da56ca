"""Error reports leave without CPR numbers or health data, and go out only when SENTRY_DSN is set."""

import json

import pytest

from smartcare.sentry import before_breadcrumb, before_send

from .processes import python

CPRS = ["010203-1234", "0102031234", "311299-4321"]
HEALTH = "Borgeren har hjertesvigt og tager furosemid"


def event_with_everything() -> dict:
    return {
        "message": "Lookup of 010203-1234 failed",
        "logentry": {
            "message": "citizen %s: %s",
            "params": ["0102031234", HEALTH],
            "formatted": f"citizen 0102031234: {HEALTH}",
        },
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "No citizen with CPR 311299-4321",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "citizens/services.py",
                                "function": "citizen_create",
                                "lineno": 12,
                                "vars": {"cpr": "'0102031234'", "note": f"'{HEALTH}'"},
                            }
                        ]
                    },
                }
            ]
        },
        "threads": {"values": [{"stacktrace": {"frames": [{"function": "run", "vars": {"text": HEALTH}}]}}]},
        "breadcrumbs": {
            "values": [
                {"category": "django.db.backends", "message": "SELECT ... WHERE cpr = %s", "data": {"params": CPRS}},
                {"category": "citizens", "message": "opened 010203-1234", "level": "info"},
            ]
        },
        "request": {
            "method": "POST",
            "url": "https://portal.example/citizens/search/?q=0102031234",
            "query_string": "q=0102031234",
            "data": {"cpr": "010203-1234", "text": HEALTH},
            "cookies": {"__Host-sessionid": "secret-session"},
            "headers": {
                "Authorization": "Token abcdef",
                "Cookie": "__Host-sessionid=secret-session",
                "X-Acting-Organisation": "12",
                "Referer": "https://portal.example/citizens/?q=010203-1234",
                "User-Agent": "Firefox",
            },
            "env": {"REMOTE_ADDR": "10.0.0.1"},
        },
        "user": {"id": "7", "email": "gp@example.org", "ip_address": "10.0.0.1"},
        "extra": {"cpr": "010203-1234", "observation": HEALTH},
        "tags": {"citizen": "0102031234"},
        "contexts": {"citizen": {"cpr": "311299-4321"}},
    }


def test_the_scrubbed_event_carries_no_cpr_number_and_no_health_data():
    scrubbed = before_send(event_with_everything(), {})

    text = json.dumps(scrubbed)
    for secret in [*CPRS, HEALTH, "furosemid", "secret-session", "Token abcdef", "gp@example.org", "10.0.0.1"]:
        assert secret not in text, secret
    assert "q=" not in text
    # what an engineer needs is still there
    assert scrubbed["exception"]["values"][0]["type"] == "ValueError"
    assert scrubbed["exception"]["values"][0]["value"] == "No citizen with CPR [CPR]"
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]["function"] == "citizen_create"
    assert "vars" not in scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert scrubbed["message"] == "Lookup of [CPR] failed"
    assert scrubbed["logentry"]["formatted"] == "citizen %s: %s"
    assert scrubbed["request"] == {
        "method": "POST",
        "url": "https://portal.example/citizens/search/",
        "headers": {"User-Agent": "Firefox"},
    }
    assert scrubbed["user"] == {"id": "7"}
    assert scrubbed["extra"] == {"cpr": "[Filtered]", "observation": "[Filtered]"}
    assert [crumb.get("message") for crumb in scrubbed["breadcrumbs"]["values"]] == [
        "SELECT ... WHERE cpr = %s",
        "opened [CPR]",
    ]
    assert "data" not in scrubbed["breadcrumbs"]["values"][0]


def test_a_celery_job_keeps_its_task_name_only():
    event = {"extra": {"celery-job": {"task_name": "messaging.tasks.deliver_task", "args": ["0102031234"]}}}
    assert before_send(event, {})["extra"] == {
        "celery-job": {"task_name": "messaging.tasks.deliver_task", "args": "[Filtered]", "kwargs": "[Filtered]"}
    }


@pytest.mark.parametrize("number", ["0102031234", "010203-1234"])
def test_a_breadcrumb_is_scrubbed_when_it_is_recorded(number):
    crumb = {"category": "httplib", "message": f"GET /api/v1/citizens/?cpr={number}", "data": {"url": number}}
    assert before_breadcrumb(crumb, {}) == {"category": "httplib", "message": "GET /api/v1/citizens/?cpr=[CPR]"}


def test_numbers_that_are_not_cpr_numbers_stay():
    event = {"message": "order 12345 took 1234567 ms; phone 12345678; id 123456789012"}
    assert before_send(event, {})["message"] == event["message"]


REPORT_SCRIPT = """
import json
import django

django.setup()
import sentry_sdk
from sentry_sdk.transport import Transport

from smartcare import sentry

sent = []


class Recorder(Transport):
    def capture_envelope(self, envelope):
        sent.extend(item.payload.json for item in envelope.items if item.payload.json)


client = sentry_sdk.get_client()
client.transport = Recorder(client.options)
options = client.options


def lookup(cpr):
    raise ValueError(f"no citizen {cpr}")


try:
    lookup("0102031234")
except ValueError:
    sentry_sdk.capture_exception()
sentry_sdk.flush()
print(json.dumps({
    "dsn": options["dsn"],
    "environment": options["environment"],
    "send_default_pii": options["send_default_pii"],
    "include_local_variables": options["include_local_variables"],
    "max_request_body_size": options["max_request_body_size"],
    "before_send": options["before_send"] is sentry.before_send,
    "before_breadcrumb": options["before_breadcrumb"] is sentry.before_breadcrumb,
    "integrations": sorted(client.integrations),
    "events": sent,
}))
"""


def run_report(env):
    return python(REPORT_SCRIPT, env)


def test_with_a_dsn_errors_are_reported_through_the_scrubber(development_env):
    development_env["SENTRY_DSN"] = "http://public@127.0.0.1:9/1"  # nothing listens there; the recorder sends
    result = run_report(development_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["dsn"] == "http://public@127.0.0.1:9/1"
    assert report["environment"] == "development"
    assert report["send_default_pii"] is False
    assert report["include_local_variables"] is False
    assert report["max_request_body_size"] == "never"
    assert report["before_send"] is True
    assert report["before_breadcrumb"] is True
    assert {"django", "celery"} <= set(report["integrations"])
    [event] = report["events"]
    assert event["exception"]["values"][0]["value"] == "no citizen [CPR]"
    assert "0102031234" not in json.dumps(event)


def test_without_a_dsn_nothing_is_reported(development_env):
    result = run_report(development_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["dsn"] is None
    assert report["events"] == []
