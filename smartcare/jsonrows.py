"""Related rows as a JSON column of the statement that reads their parent (PostgreSQL).

A read the API answers most often (a Patient, one citizen's care plans, a device's last readings)
spent more on its second to sixth statements (a round trip, a plan on the server, the rows'
instances) than on its first. ``json_rows`` makes one of those statements a column of the first,
an array built by PostgreSQL; ``from_json`` turns the array back into model instances as the ORM
would have made them (the columns not read are deferred, so a forgotten field costs a query, never
a wrong value). Decimals travel as text: a JSON number is a float on the way back.

``capped_count`` does the same for a search's total: the number of matches (up to a cap) as a
column of the page's statement instead of a COUNT of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.contrib.postgres.aggregates import JSONBAgg
from django.db.models import CharField, DecimalField, IntegerField, JSONField, Model, QuerySet, Subquery
from django.db.models.functions import Cast, JSONObject

M = TypeVar("M", bound=Model)


def json_rows(
    model: type[Model],
    rows: QuerySet,
    group: str,
    columns: Mapping[str, str] | Sequence[str],
    ordering: Sequence[str],
) -> Subquery:
    """``rows`` (filtered by an ``OuterRef``) as one JSON array of objects in ``ordering``: each
    object has ``model``'s fields named in ``columns`` (a field's attname, or attname → the path
    to it in ``rows``), and any other key given a path there (a related row's column, which the
    caller reads itself). ``group`` is the column the rows are filtered on (the aggregate's group)."""
    paths = dict(columns) if isinstance(columns, Mapping) else {name: name for name in columns}
    fields = {f.attname: f for f in model._meta.concrete_fields}
    values: dict[str, Any] = {
        name: Cast(path, CharField()) if isinstance(fields.get(name), DecimalField) else path
        for name, path in paths.items()
    }
    aggregated = (
        rows.order_by()
        .values(group)
        .annotate(json_rows=JSONBAgg(JSONObject(**values), order_by=list(ordering)))
        .values("json_rows")
    )
    return Subquery(aggregated, output_field=JSONField())


def from_json(model: type[M], rows: Sequence[dict[str, Any]] | None, db: str | None) -> list[M]:
    """The instances of ``json_rows``' objects, as read from ``db``; the fields not in them deferred."""
    made = []
    for row in rows or ():
        present = [f for f in model._meta.concrete_fields if f.attname in row]
        instance = model.from_db(db, [f.attname for f in present], [f.to_python(row[f.attname]) for f in present])
        made.append(instance)
    return made


class _CappedCount(Subquery):
    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"


def capped_count(rows: QuerySet, cap: int) -> Subquery:
    """How many of ``rows`` there are, counting no further than ``cap`` + 1. Uncorrelated, so
    PostgreSQL counts once per statement, not once per row of the page."""
    return _CappedCount(rows.order_by().values("pk")[: cap + 1], output_field=IntegerField())
