"""Error reporting to Sentry, without CPR numbers or health data.

An error report leaves the portal for a third party, so it carries what an engineer needs to find
the bug (the exception type, the stack of code lines, the URL path, the release) and nothing a
citizen could be identified or diagnosed from: no request bodies, query strings, cookies or
headers, no local variables of the frames, no breadcrumb payloads (SQL parameters, log arguments),
no user details beyond the id. What is left is scanned for anything that looks like a CPR number
(DDMMYY-SSSS, with or without the dash), which is replaced with a placeholder. The SDK's own
options say the same where they can (``send_default_pii``, ``include_local_variables``,
``max_request_body_size``); the scrubber does not rely on them.
"""

from __future__ import annotations

import re
from typing import Any

CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
CPR_PLACEHOLDER = "[CPR]"
FILTERED = "[Filtered]"

# Request fields an engineer may see; the path only, since the query string can hold a search.
REQUEST_KEPT = ("method", "url")
# Headers that describe the client, not the person or the session.
HEADERS_KEPT = frozenset({"content-type", "content-length", "user-agent", "accept", "accept-language", "host"})


def _scrub(value: Any) -> Any:
    """Every string, however deep, with CPR-like numbers replaced."""
    if isinstance(value, str):
        return CPR_LIKE.sub(CPR_PLACEHOLDER, value)
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _drop_frame_variables(container: dict | None) -> None:
    for item in (container or {}).get("values") or []:
        for frame in (item.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)


def _request(request: dict) -> dict:
    kept = {key: request[key] for key in REQUEST_KEPT if key in request}
    if "url" in kept:
        kept["url"] = kept["url"].split("?", 1)[0]
    headers = request.get("headers") or {}
    kept["headers"] = {name: value for name, value in headers.items() if name.lower() in HEADERS_KEPT}
    return kept


def _extra(extra: dict) -> dict:
    """Keys only, except the name of the Celery task (its arguments are filtered)."""
    kept: dict[str, Any] = dict.fromkeys(extra, FILTERED)
    job = extra.get("celery-job")
    if isinstance(job, dict) and "task_name" in job:
        kept["celery-job"] = {"task_name": job["task_name"], "args": FILTERED, "kwargs": FILTERED}
    return kept


def _breadcrumb(crumb: dict) -> dict:
    """Type, category, level, time and message; the payload (SQL parameters, URLs) is dropped."""
    crumb = {key: value for key, value in crumb.items() if key != "data"}
    return _scrub(crumb)


def before_send(event: dict, hint: dict | None = None) -> dict:
    """Sentry's ``before_send``: the event as it may leave the portal."""
    if "request" in event:
        event["request"] = _request(event["request"])
    _drop_frame_variables(event.get("exception"))
    _drop_frame_variables(event.get("threads"))
    if "user" in event:
        event["user"] = {"id": event["user"]["id"]} if event["user"].get("id") else {}
    if "extra" in event:
        event["extra"] = _extra(event["extra"])
    logentry = event.get("logentry")
    if logentry and logentry.get("params"):
        # The template says what happened; the arguments may be anything, so they stay home.
        logentry["params"] = [FILTERED for _ in logentry["params"]]
        logentry["formatted"] = logentry.get("message", "")
    crumbs = event.get("breadcrumbs")
    if crumbs:
        values = crumbs.get("values", []) if isinstance(crumbs, dict) else crumbs
        event["breadcrumbs"] = {"values": [_breadcrumb(crumb) for crumb in values]}
    return _scrub(event)


def before_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    """Sentry's ``before_breadcrumb``: scrubbed when recorded, so nothing waits in memory."""
    return _breadcrumb(crumb)


def sentry_init(*, dsn: str, environment: str, release: str = "") -> None:
    """Report errors of the web process and the Celery worker to ``dsn``."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        traces_sample_rate=0,
    )
