"""The live OpenAPI schema as schemathesis sees it, and the Django app to call through it.

Requests go through Django's WSGI handler in this process, so they see the test's database
transaction; the handler's ``close_old_connections`` would close that connection after every
request (as Django's test client knows), so it is switched off while the app is in use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# The fuzz run: bounded and the same on every run.
CONFIG = {
    "seed": 20261206,
    "generation": {"max-examples": 10, "deterministic": True},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
}


@cache
def schema_dict() -> dict:
    """What ``/api/schema/`` serves, as plain JSON."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(generated, cls=DjangoJSONEncoder))


def load_schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(schema_dict(), config=schemathesis.Config.from_dict(CONFIG))


@contextmanager
def wsgi_app() -> Iterator[WSGIHandler]:
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def token_header(user) -> dict[str, str]:
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}
