"""Running a transaction again when the database gave it up for a reason that passes.

PostgreSQL ends a deadlock by aborting one of the transactions in it (SQLSTATE ``40P01``), refuses a
serializable transaction that conflicts with a concurrent one (``40001``) and gives up waiting for a
lock after ``lock_timeout`` (``55P03``). In each case the whole transaction was rolled back and the
same work, started again a moment later, most likely succeeds: the other transaction has moved on.
A sender should not see an error for that, so the services that write wrap their transaction in
``retry_on_deadlock``; when the conflict persists the error reaches the caller, and the API answers
503 with ``Retry-After`` (``smartcare.api.exceptions``), a page a 503 page that says nothing was
saved (``smartcare.middleware.BusyDatabaseMiddleware``), never 500.

Only a whole transaction can be run again. Inside an ``atomic`` block the outer transaction is the
one that failed, so the wrapper lets the error through and the outermost wrapper retries. Work
queued with ``transaction.on_commit`` by a failed attempt is discarded with it (Django drops the
callbacks of a rolled-back block), so nothing is enqueued twice. The model instances passed to
the function are put back as they were before the call (their fields, ``_state`` and cached
relations): a failed attempt may have changed them in memory (``plan.status = ...``), and the next
attempt must start from what the caller passed, not from what the rolled-back one left.

The database gone for a moment (a restart, a lost connection) is not retried here: a request
answers with an error page, and a Celery task is run again later (``smartcare.taskretry``).
"""

from __future__ import annotations

import copy
import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, transaction
from django.db.models import Model

logger = logging.getLogger(__name__)

DEADLOCK = "40P01"
SERIALIZATION_FAILURE = "40001"
LOCK_NOT_AVAILABLE = "55P03"
TRANSIENT_SQLSTATES = frozenset({DEADLOCK, SERIALIZATION_FAILURE, LOCK_NOT_AVAILABLE})

P = ParamSpec("P")
R = TypeVar("R")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error: Django wraps the driver's error, which carries it."""
    for error in (exc, exc.__cause__):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if code:
            return str(code)
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether the same transaction, run again, can succeed (a deadlock, a serialization conflict)."""
    return isinstance(exc, OperationalError) and sqlstate(exc) in TRANSIENT_SQLSTATES


def attempts() -> int:
    return max(1, getattr(settings, "TRANSACTION_RETRY_ATTEMPTS", 4))


def pause(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: short, doubling, with jitter so the transactions that
    collided do not collide again in step."""
    base = getattr(settings, "TRANSACTION_RETRY_BASE_SECONDS", 0.02)
    return base * 2 ** (attempt - 1) * (1 + random.random())  # noqa: S311 - jitter, not a secret


def _copy(fields: dict[str, Any]) -> dict[str, Any]:
    """A copy of a model instance's ``__dict__`` that a later attempt cannot change: its
    ``_state`` (with the cached relations) and prefetched lists are copied as well."""
    copied = dict(fields)
    state = copied["_state"] = copy.copy(fields["_state"])
    state.fields_cache = dict(fields["_state"].fields_cache)
    if "_prefetched_objects_cache" in copied:
        copied["_prefetched_objects_cache"] = dict(copied["_prefetched_objects_cache"])
    return copied


def _kept(values: Iterable[object]) -> list[tuple[Model, dict[str, Any]]]:
    return [(value, _copy(value.__dict__)) for value in values if isinstance(value, Model)]


def _put_back(kept: list[tuple[Model, dict[str, Any]]]) -> None:
    for instance, fields in kept:
        instance.__dict__.clear()
        instance.__dict__.update(_copy(fields))


def retry_on_deadlock(func: Callable[P, R]) -> Callable[P, R]:
    """Call ``func`` (which opens the transaction) again when the database aborted it as a
    deadlock victim or for a serialization conflict, a bounded number of times; other errors,
    and the last attempt's, propagate. Inside an outer transaction it is a plain call."""

    name = getattr(func, "__qualname__", type(func).__qualname__)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if transaction.get_connection(DEFAULT_DB_ALIAS).in_atomic_block:
            return func(*args, **kwargs)
        limit = attempts()
        attempt = 1
        kept = _kept((*args, *kwargs.values()))
        while True:
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt >= limit or not is_transient(exc):
                    raise
                logger.warning("transaction_retry function=%s sqlstate=%s attempt=%d", name, sqlstate(exc), attempt)
            time.sleep(pause(attempt))
            _put_back(kept)
            attempt += 1

    return wrapper
