"""Database errors as Django raises them, for tests of what happens when PostgreSQL gives up."""

from __future__ import annotations

from django.db import OperationalError


class DriverError(Exception):
    """What psycopg raises, with the SQLSTATE the server sent."""

    def __init__(self, pgcode: str | None) -> None:
        super().__init__("driver error")
        self.pgcode = pgcode


def database_error(pgcode: str | None) -> OperationalError:
    """Django's OperationalError, caused by the driver's (a deadlock: ``40P01``)."""
    try:
        raise OperationalError("deadlock detected") from DriverError(pgcode)
    except OperationalError as exc:
        return exc
