"""The resource types the FHIR API serves, registered by the apps that own their data.

A ``ResourceType`` says where its rows are (``rows``), how a page of them becomes resources
(``build``), how its ids are read, who the rows are about (``citizen``: the path to the
citizen's id, or None for data that is no health data, like an Organization), which search
parameters, sorts, includes and writes it has. The views and the CapabilityStatement only ever
read this registry, so what is listed is what is served.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict

from ..access import Actor
from ..choices import AccessAction
from .params import SearchParam


@dataclass(frozen=True)
class Include:
    """``_include=<Type>:<param>``: the ``target`` resources the found rows point at, as a
    condition on the target's rows made from the found rows."""

    param: str
    target: str
    condition: Callable[[Sequence[Any]], Q]


@dataclass(frozen=True)
class CitizenPage:
    """Up to ``limit`` rows as ``rows()`` would give them, and (when the statement counted them,
    up to the count cap and one more) how many match in all."""

    rows: list[Any]
    counted: int | None = None


@dataclass(frozen=True)
class ResourceType:
    name: str
    description: str
    rows: Callable[[], QuerySet]
    build: Callable[[Sequence[Any]], list[dict[str, Any]]]
    parse_id: Callable[[str], Any]
    citizen: str | None = "citizen_id"
    params: tuple[SearchParam, ...] = ()
    sorts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default_order: tuple[str, ...] = ("pk",)
    includes: tuple[Include, ...] = ()
    # Narrows the rows for the actor beyond the citizen gate (AuditEvent: administrators only);
    # raises FhirError or returns the rows.
    restrict: Callable[[Actor, QuerySet], QuerySet] | None = None
    # Rows that need no citizen gate: the rows of a type without citizens, as the actor may see them.
    scope: Callable[[Actor, QuerySet], QuerySet] | None = None
    # False: the rows are not gated by the citizen's relationships but by ``scope`` alone (the
    # access log, which the region's administrators read for every citizen); still logged.
    gate: bool = True
    log_action: str = AccessAction.API_READ
    # Search parameters a search must give (AuditEvent: one patient at a time).
    required: tuple[str, ...] = ()
    # ``POST /fhir/<type>``: ``create(actor, request) -> (resource, status)``.
    create: Callable[..., Any] | None = None
    # The type's entries of a transaction Bundle, created in the caller's database transaction:
    # ``create_entries(actor, [(expression prefix, resource), ...]) -> [(resource, status), ...]``,
    # raising ``FhirError`` whose issues name the failing entries by the prefixes given.
    create_entries: Callable[[Actor, list[tuple[str, dict[str, Any]]]], list[tuple[dict[str, Any], int]]] | None = None
    profile: str | None = None
    search: bool = True
    # A read by id with statements prepared once (``smartcare.prepared``): ``read_one(key) -> row or
    # None``, the row as ``rows()`` would give it. Only for a type with neither scope nor restrict:
    # the gate is then asked for the row's citizen alone, after the row is read.
    read_one: Callable[[Any], Any] | None = None
    # One citizen's page for the searches other systems repeat most (an EPJ's care plans of a
    # patient, a device's last readings), read by a statement prepared once:
    # ``citizen_page(citizen, query, order, offset, limit) -> CitizenPage``, or None for a search
    # this type reads the general way. Asked only once the gate let the actor see that citizen,
    # and only for a type with neither scope nor restrict.
    citizen_page: Callable[[Any, QueryDict, list[str], int, int], CitizenPage | None] | None = None

    def param(self, name: str) -> SearchParam | None:
        return next((p for p in self.params if p.name == name), None)


_types: dict[str, ResourceType] = {}


def register(resource_type: ResourceType) -> None:
    _types[resource_type.name] = resource_type


def get(name: str) -> ResourceType | None:
    return _types.get(name)


def all_types() -> list[ResourceType]:
    return [_types[name] for name in sorted(_types)]
