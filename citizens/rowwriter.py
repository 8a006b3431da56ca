"""Batches of rows written fast: with COPY on PostgreSQL, with ``bulk_create`` elsewhere. Both
skip ``save()`` and signals, so the caller sets what ``save()`` would (``generate`` sets
``search_name``). Used by the synthetic data generators (``generate``, ``careplans.generate``)."""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence

from django.db import connection, models


class RowWriter:
    """Writes batches of rows given as tuples in ``columns`` order (foreign keys as ids)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        fields = [model._meta.get_field(name) for name in columns]
        self.attnames = [f.attname for f in fields]
        self.db_columns = [f.column for f in fields]

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if connection.vendor == "postgresql":
            self._copy(rows)
        else:
            objects = [self.model(**dict(zip(self.attnames, row, strict=True))) for row in rows]
            self.model.objects.bulk_create(objects, batch_size=2000)

    def _copy(self, rows: list[tuple]) -> None:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(copy_value(value) for value in row))
            buffer.write("\n")
        self.copy_text(buffer.getvalue())

    def copy_text(self, text: str) -> None:
        """PostgreSQL only: rows already in COPY's text format, one per line (for the largest tables,
        where converting each value on its own would cost more than the COPY)."""
        if not text:
            return
        buffer = io.StringIO(text)
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(column) for column in self.db_columns)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)  # psycopg2


def copy_value(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def settle_tables(*, numbered: Sequence[type[models.Model]], written: Sequence[type[models.Model]]) -> None:
    """After writing with COPY on PostgreSQL: move the id sequences of ``numbered`` past the rows
    written with explicit ids (or the next ``save()`` collides with them), and refresh the planner's
    statistics of every ``written`` table (or its first queries plan as if the tables were empty)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in numbered:
            table = model._meta.db_table
            sql = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            cursor.execute(sql, [table])
        for model in written:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
