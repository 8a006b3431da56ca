"""Reads go to a PostgreSQL replica only where its lag cannot show; everything else to the primary.

A replica applies the primary's changes a moment later, so a read sent there can miss a row that was
just written. The router therefore sends a read to a replica (``DATABASE_REPLICA_URLS``) only:

- in a request that changes nothing (GET, HEAD, OPTIONS) and has written nothing so far;
- from a client that wrote nothing in the last ``DATABASE_REPLICA_STICKY_SECONDS``: the response to a
  request that wrote carries a signed, timestamped cookie, so the next page shows the user's own
  change (read-your-writes) while other users' reads stay on the replicas;
- outside a transaction, which must see its own writes; locks (``select_for_update``) and
  conditional updates are writes and never leave the primary;
- for models not in ``DATABASE_PRIMARY_MODELS`` (sessions, the access log), which are written on
  every request and every logged read.

Celery tasks and management commands have no request: their reads stay on the primary, where outbox
claims and locks must happen, unless a block opts in with ``replica_reads()``. A streaming response
that reads after the middleware has returned reads from the primary too. Each request or opted-in
block reads from one replica, so its reads agree with each other.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

PRIMARY = DEFAULT_DB_ALIAS
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE_NAME = "smartcare_primary"
COOKIE_SALT = "smartcare.replicas"


@dataclass
class _Reads:
    """Where the reads of one request, or of one opted-in block, go."""

    replica: str
    pinned: bool = False  # from now on, reads go to the primary
    wrote: bool = False  # the client keeps reading from the primary for a while


_reads: ContextVar[_Reads | None] = ContextVar("smartcare_replica_reads", default=None)


def _pick_replica() -> str | None:
    replicas = settings.DATABASE_REPLICAS
    return random.choice(replicas) if replicas else None  # noqa: S311 - spreads load, guards nothing


def _primary_only(model: type[Model]) -> bool:
    return model._meta.label_lower in settings.DATABASE_PRIMARY_MODELS


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        reads = _reads.get()
        if reads is None or reads.pinned or _primary_only(model) or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return reads.replica

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        reads = _reads.get()
        if reads is not None and not _primary_only(model):
            reads.pinned = reads.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        """Rows read from a replica are the primary's rows: a new row may point at them."""
        same_data = {PRIMARY, *settings.DATABASE_REPLICAS}
        return True if {obj1._state.db, obj2._state.db} <= same_data else None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        """Replicas copy the primary's schema; they are never migrated themselves."""
        return db == PRIMARY


class ReplicaMiddleware:
    """Decides where a request's reads go. First in ``MIDDLEWARE``: nothing may read before it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        replica = _pick_replica()
        if replica is None:
            return self.get_response(request)
        reads = _Reads(replica=replica, pinned=request.method not in SAFE_METHODS or _wrote_recently(request))
        token = _reads.set(reads)
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        if reads.wrote and settings.DATABASE_REPLICA_STICKY_SECONDS:
            response.set_signed_cookie(
                COOKIE_NAME,
                "1",
                salt=COOKIE_SALT,
                max_age=settings.DATABASE_REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def _wrote_recently(request: HttpRequest) -> bool:
    """The signature carries the time of the write, so an old or forged cookie pins nothing."""
    seconds = settings.DATABASE_REPLICA_STICKY_SECONDS
    if not seconds:
        return False
    return request.get_signed_cookie(COOKIE_NAME, default=None, salt=COOKIE_SALT, max_age=seconds) is not None


@contextmanager
def replica_reads() -> Iterator[None]:
    """Let a task or command read from a replica, for work that tolerates a few seconds' lag
    (reports, exports). Writes, locks and reads inside a transaction still use the primary, and a
    request keeps its own rules."""
    replica = _pick_replica()
    if replica is None or _reads.get() is not None:
        yield
        return
    token = _reads.set(_Reads(replica=replica))
    try:
        yield
    finally:
        _reads.reset(token)
