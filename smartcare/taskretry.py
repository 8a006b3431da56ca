"""Celery tasks that run again later when the database was gone for a moment.

While PostgreSQL restarts (a few seconds) or a connection is cut, every query fails with an
``OperationalError`` (or ``InterfaceError`` on a connection already known to be broken). A task
that carries ids (a delivery) is the only one that knows about its rows, so giving up would leave
them for the sweeper, minutes later. Such a task is declared with ``database_task``: on a lost
connection it closes the broken connection (the next attempt connects afresh) and is retried by
Celery with exponential backoff, full jitter and a cap (``autoretry_for``, ``retry_backoff``,
``retry_backoff_max``, ``max_retries``), then fails like any task. Any other error (a data
error, a bug, a query cancelled by a timeout) is not retried: the next attempt would fail the same.

The tasks must be safe to run twice, as every task here is: each row is claimed with a
conditional update, so a retry finds what the failed attempt finished and leaves it alone.
Periodic tasks need none of this: the next beat runs them again.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.db import DatabaseError, InterfaceError, OperationalError, connections

from .transactions import sqlstate

# SQLSTATE class 08: connection exception; 57P01-57P03: the server is shutting down, crashed or
# is starting. Errors without a SQLSTATE come from the driver itself: the server did not answer.
CONNECTION_CLASS = "08"
SERVER_GONE = frozenset({"57P01", "57P02", "57P03"})

RETRY_BACKOFF_SECONDS = 1  # the first retry within a second, then doubling ...
RETRY_BACKOFF_MAX_SECONDS = 60  # ... up to a minute between tries
MAX_RETRIES = 10  # about five minutes in all (less with the jitter), then the task fails


class DatabaseUnavailable(Exception):  # noqa: N818 - what happened, not which error it is
    """The task lost its database connection; Celery runs it again later."""


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached, not that the query was wrong."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    code = sqlstate(exc)
    return code is None or code.startswith(CONNECTION_CLASS) or code in SERVER_GONE


def connections_reset() -> None:
    """Close the connections, so the next query connects again. One inside an ``atomic`` block
    (an eager task called from a transaction, a test's) is left alone: its owner rolls back."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            with contextlib.suppress(DatabaseError):
                connection.close()


def database_task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``shared_task(**options)`` whose body is run again when it loses the database."""

    def decorate(func: Callable[..., Any]) -> Any:
        @functools.wraps(func)
        def body(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except (OperationalError, InterfaceError) as exc:
                if not connection_lost(exc):
                    raise
                connections_reset()
                raise DatabaseUnavailable(str(exc)) from exc

        return shared_task(
            autoretry_for=(DatabaseUnavailable,),
            retry_backoff=RETRY_BACKOFF_SECONDS,
            retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS,
            retry_jitter=True,
            max_retries=MAX_RETRIES,
            **options,
        )(body)

    return decorate
