"""Querysets compiled once per process and run many times with other values.

Building and compiling an ORM statement costs more than running it when the statement is an
indexed lookup: a care plan's detail read five such statements (the plan, its conditions, team,
goals and activities) and spent about twice as long compiling them as PostgreSQL spent answering.
A ``PreparedQuery`` compiles its queryset once per database with stand-in values, finds where
each value goes among the parameters (by compiling again with other stand-ins), and from then on
runs the same SQL with the real values in their place, turning the rows into model instances the
way the ORM does (``select_related`` included).

It only takes what it can prove: the statement must be identical for both sets of stand-ins and
each value must land in the parameters unchanged or as the database's text or hex form of it. A
queryset it cannot prepare so is simply evaluated by the ORM each time.

On PostgreSQL the statement is also prepared on the server (``PREPARE``, once per connection, then
``EXECUTE``): planning these small lookups took PostgreSQL longer than running them, and every
logged read runs several of them. ``DATABASE_SERVER_PREPARED = False`` turns that off (behind a
pooler in transaction mode, which hands a session's prepared statements to another client).
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs

M = TypeVar("M", bound=Model)

_CONVERSIONS: tuple[Callable[[Any], Any], ...] = (
    lambda value: value,
    str,
    lambda value: value.hex if isinstance(value, uuid.UUID) else None,
)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int, Callable[[Any], Any]], ...]  # (parameter position, value index, conversion)
    compiler: Any  # the SQLCompiler that compiled it: its select list and converters read the rows


class PreparedQuery(Generic[M]):
    """``build(*values)`` returns the queryset; ``stand_ins`` holds, per value, two distinct values
    of its type that no real value needs to differ from in form (two UUIDs for a UUID)."""

    def __init__(self, build: Callable[..., QuerySet[M]], stand_ins: Sequence[tuple[Any, Any]]) -> None:
        self.build = build
        self.stand_ins = tuple(stand_ins)
        self._compiled: dict[str, _Compiled | None] = {}
        self._model: type[Model] | None = None

    def rows(self, *values: Any) -> list[M]:
        """What ``list(build(*values))`` returns."""
        if self._model is None:
            self._model = self.build(*self._first()).model
        alias = router.db_for_read(self._model)
        if alias not in self._compiled:
            self._compiled[alias] = self._compile(alias)
        compiled = self._compiled[alias]
        if compiled is None:
            return list(self.build(*values))
        params = list(compiled.params)
        for position, index, convert in compiled.slots:
            params[position] = convert(values[index])
        found = fetch_all(alias, compiled.sql, params)
        return list(_instances(compiled.compiler, found, alias))

    def _first(self) -> list[Any]:
        return [first for first, _second in self.stand_ins]

    def _statement(self, values: list[Any], alias: str) -> tuple[Any, str, tuple[Any, ...]]:
        compiler = self.build(*values).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        return compiler, sql, tuple(params)

    def _compile(self, alias: str) -> _Compiled | None:
        base = self._first()
        compiler, sql, params = self._statement(base, alias)
        slots: list[tuple[int, int, Callable[[Any], Any]]] = []
        for index, (first, second) in enumerate(self.stand_ins):
            other = list(base)
            other[index] = second
            _compiler, other_sql, other_params = self._statement(other, alias)
            if other_sql != sql or len(other_params) != len(params):
                return None
            positions = [i for i, (a, b) in enumerate(zip(params, other_params, strict=True)) if a != b]
            for position in positions:
                convert = _conversion(first, params[position], second, other_params[position])
                if convert is None:
                    return None
                slots.append((position, index, convert))
            if not positions:
                return None
        return _Compiled(sql, params, tuple(slots), compiler)


def _conversion(first: Any, first_param: Any, second: Any, second_param: Any) -> Callable[[Any], Any] | None:
    for convert in _CONVERSIONS:
        if convert(first) == first_param and convert(second) == second_param:
            return convert
    return None


def _instances(compiler: Any, rows: list[tuple[Any, ...]], db: str) -> Any:
    """The model instances of the rows, as ``django.db.models.query.ModelIterable`` makes them."""
    select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model_cls = klass_info["model"]
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    related_populators = get_related_populators(klass_info, select, db)
    for row in compiler.results_iter([rows]):
        obj = model_cls.from_db(db, init_list, row[start:end])
        for populator in related_populators:
            populator.populate(row, obj)
        for attr_name, position in (annotation_col_map or {}).items():
            setattr(obj, attr_name, row[position])
        yield obj


def attach_prefetched(instance: Model, name: str, rows: Sequence[Model], *, reverse: str = "") -> None:
    """Keep ``rows`` as ``instance.<name>.all()``, as ``prefetch_related`` keeps them, and (for a
    reverse foreign key, named by ``reverse``) make each row's foreign key the instance."""
    for row in rows:
        if reverse:
            setattr(row, reverse, instance)
    queryset = getattr(instance, name).all()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


# --- statements prepared on the server ----------------------------------------------------------------

# Per database connection (the driver's, which a reconnect replaces): statement → its name, or None
# when PostgreSQL would not prepare it.
SERVER_PREPARED_MAX = 200  # per connection
_server_names: weakref.WeakKeyDictionary[Any, dict[str, str | None]] = weakref.WeakKeyDictionary()


def fetch_all(alias: str, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """``cursor.execute(sql, params)`` and its rows; on PostgreSQL through a statement prepared on
    the server once per connection (a prepared statement outlives a rolled-back transaction, so it
    is used inside transactions too once it exists)."""
    db = connections[alias]
    with db.cursor() as cursor:
        name = _server_name(db, cursor, sql) if db.vendor == "postgresql" else None
        if name is None:
            cursor.execute(sql, params)
        elif params:
            cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
        else:
            cursor.execute(f"EXECUTE {name}")
        return cursor.fetchall()


def _server_name(db: Any, cursor: Any, sql: str) -> str | None:
    if not getattr(settings, "DATABASE_SERVER_PREPARED", True):
        return None
    names = _server_names.setdefault(db.connection, {})
    if sql in names:
        return names[sql]
    if len(names) >= SERVER_PREPARED_MAX:  # statements that vary (a list's many-row INSERT) run as they are
        return None
    if db.in_atomic_block:
        # Prepared only outside a transaction, where PostgreSQL refusing a statement aborts
        # nothing (reads run in autocommit; a write's statements run as they are).
        return None
    name = f"smartcare_{len(names) + 1}"
    try:
        cursor.execute(f"PREPARE {name} AS {_numbered(sql)}")
    except (DatabaseError, ValueError):
        names[sql] = None
        return None
    names[sql] = name
    return name


def _numbered(sql: str) -> str:
    """The driver's ``%s`` placeholders as PostgreSQL's ``$1``, ``$2``…; ``%%`` is a literal ``%``."""
    parts = sql.split("%%")
    number = 0
    numbered = []
    for part in parts:
        pieces = part.split("%s")
        for piece in pieces:
            if "%" in piece:
                raise ValueError("a placeholder the statement cannot be prepared with")
        text = pieces[0]
        for piece in pieces[1:]:
            number += 1
            text += f"${number}{piece}"
        numbered.append(text)
    return "%".join(numbered)
