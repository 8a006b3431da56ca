"""One instrumented request per case, in the harness's own process: the queries it runs (Django's
test client with ``CaptureQueriesContext``, on the same production settings and database as the
portal) and EXPLAIN (ANALYZE, BUFFERS) of its slowest statement."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .cases import Case
from .wrk import COMMON_HEADERS

EXPLAINABLE = ("select", "with", "insert", "update", "delete")


@dataclass
class Probe:
    status: int
    queries: int
    slowest_sql: str = ""
    slowest_ms: float = 0.0
    plan: list[str] = field(default_factory=list)


def _meta(headers: dict[str, str]) -> dict[str, str]:
    """Request headers as the WSGI environ names them (``X-Acting-Organisation`` → ``HTTP_X_ACTING_ORGANISATION``)."""
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items() if name != "Cookie"}


def probe(case: Case) -> Probe:
    """The case's first request, as wrk sends it; the portal's answer status and its queries."""
    client = Client(raise_request_exception=False)
    headers = case.headers[0] if case.headers else {}
    cookie = headers.get("Cookie", "")
    if cookie:
        name, _, value = cookie.partition("=")
        client.cookies[name] = value
    meta = {**_meta(COMMON_HEADERS), **_meta(headers), "HTTP_HOST": "127.0.0.1"}
    with CaptureQueriesContext(connection) as captured:
        response = client.get(case.paths[0], secure=True, **meta)
    result = Probe(status=response.status_code, queries=len(captured.captured_queries))
    for query in captured.captured_queries:
        ms = float(query["time"]) * 1000
        if ms >= result.slowest_ms and query["sql"].lstrip().lower().startswith(EXPLAINABLE):
            result.slowest_ms, result.slowest_sql = ms, query["sql"]
    if result.slowest_sql:
        result.plan = explain(result.slowest_sql)
    return result


def explain(sql: str) -> list[str]:
    """The plan as PostgreSQL ran it; a statement that writes is rolled back afterwards."""
    if connection.vendor != "postgresql":
        return ["(EXPLAIN ANALYZE needs PostgreSQL)"]
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                rows = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
        return rows
    except Exception as exc:  # noqa: BLE001 - a plan that cannot be shown is reported, not fatal
        return [f"(EXPLAIN failed: {exc})"]


def session_cookie_name() -> str:
    return settings.SESSION_COOKIE_NAME
