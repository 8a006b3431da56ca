"""A FHIR test client: GETs and POSTs ``/fhir/...`` as a world user's token (or a session), and
checks that every answer is a valid FHIR R4 resource (``fhir.resources.R4B``), whatever it is."""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

FHIR_JSON = "application/fhir+json"


def validate(resource: dict[str, Any]) -> None:
    """Raises when the resource (a Bundle with all its entries) is not valid R4."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


class FhirClient:
    def __init__(self, client, token_key: str | None = None, headers: dict[str, str] | None = None):
        self.client, self.headers = client, dict(headers or {})
        if token_key:
            self.headers["HTTP_AUTHORIZATION"] = f"Token {token_key}"

    def get(
        self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None, *, status: int = 200, **extra
    ):
        response = self.client.get(f"/fhir/{path}", params or {}, **self.headers, **extra)
        return self._checked(response, status)

    def post(self, path: str, body: Any, *, status: int = 201, content_type: str = FHIR_JSON, **extra):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        response = self.client.post(f"/fhir/{path}", data, content_type=content_type, **self.headers, **extra)
        return self._checked(response, status)

    def _checked(self, response, status: int) -> dict[str, Any]:
        assert response.status_code == status, (response.status_code, response.content[:2000])
        assert response["Content-Type"].startswith("application/fhir+"), response["Content-Type"]
        if response["Content-Type"].startswith("application/fhir+xml"):
            return {"xml": response.content}
        resource = json.loads(response.content)
        validate(resource)
        return resource


def ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def of_type(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == resource_type]


def compiled_selects(monkeypatch: Any) -> list[str]:
    """From now on, the start of every SELECT the ORM compiles (a prepared read compiles none)."""
    from django.db.models.sql.compiler import SQLCompiler

    built: list[str] = []
    original = SQLCompiler.as_sql

    def as_sql(self: Any, *args: Any, **kwargs: Any) -> Any:
        sql, params = original(self, *args, **kwargs)
        if type(self) is SQLCompiler:  # a SELECT (inserts and updates have their own compilers)
            built.append(sql[:200])
        return sql, params

    monkeypatch.setattr(SQLCompiler, "as_sql", as_sql)
    return built
