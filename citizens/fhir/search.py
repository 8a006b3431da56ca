"""Reads and searches of the FHIR API, through the access gate, logged.

Every row that is about a citizen passes ``citizen_visible`` (the gate as a per-row probe) before
it is counted or read, and the citizens whose data an answer holds are written to the access log
once per answer, each with the relationship that allowed it. A row the actor may not see is
exactly a row that does not exist: 404 on a read, left out of a searchset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from ..access import Actor, access_reasons, citizen_visible
from ..accesslog import access_log_record
from ..models import Citizen
from . import registry
from .http import FhirError
from .params import ReferenceParam, invalid, split_values

# Parameters every type has (FHIR R4 "Search": common and result parameters).
RESULT_PARAMS = ("_count", "_offset", "_sort", "_summary", "_include", "_revinclude", "_total", "_format", "_pretty")
DEFAULT_COUNT = 20
MAX_COUNT = 500
SUMMARIES = ("count", "false")


def max_count() -> int:
    return int(getattr(settings, "FHIR_MAX_COUNT", MAX_COUNT))


def count_cap() -> int:
    return int(getattr(settings, "LIST_COUNT_CAP", 1000))


@dataclass
class Found:
    """A search's answer: the matching resources, the included ones, the total (None above the
    count cap) and whether a next page exists."""

    matches: list[dict[str, Any]]
    included: list[dict[str, Any]]
    total: int | None
    offset: int
    count: int
    more: bool


def resource_type(name: str) -> registry.ResourceType:
    found = registry.get(name)
    if found is None:
        raise FhirError(400, "not-supported", _("Unknown resource type: %(name)s") % {"name": name})
    return found


def citizen_of(row: Any, path: str) -> Any:
    for part in path.split("__"):
        row = getattr(row, part)
    return row


def gated(actor: Actor, kind: registry.ResourceType, rows: QuerySet) -> QuerySet:
    """The rows the actor may see: through the citizen gate, the type's own rule, or both."""
    if kind.citizen is not None and kind.gate:
        rows = rows.filter(citizen_visible(actor.acting, actor.user, citizen=kind.citizen))
    if kind.scope is not None:
        rows = kind.scope(actor, rows)
    if kind.restrict is not None:
        rows = kind.restrict(actor, rows)
    return rows


def log_read(
    actor: Actor, kind: registry.ResourceType, rows: Sequence[Any], detail: str, reasons: dict[Any, str] | None = None
) -> None:
    """One access-log entry per citizen whose data the answer holds, with the reason for access
    (``reasons``: already looked up by the gate, when it covers them all)."""
    if kind.citizen is None or not rows:
        return
    ids = list(dict.fromkeys(citizen_of(row, kind.citizen) for row in rows))
    if reasons is None or not all(pk in reasons for pk in ids):
        reasons = access_reasons(actor, ids)
    access_log_record(
        actor=actor,
        citizens=[Citizen(pk=pk) for pk in ids],
        action=kind.log_action,
        detail=detail,
        reasons=reasons,
    )


def read(actor: Actor, kind: registry.ResourceType, resource_id: str) -> dict[str, Any]:
    """One resource, or 404 for an id that names nothing the actor may see."""
    not_found = FhirError(404, "not-found", _("%(type)s/%(id)s is not known.") % {"type": kind.name, "id": resource_id})
    try:
        key = kind.parse_id(resource_id)
    except (TypeError, ValueError):
        raise not_found from None
    if kind.read_one is not None and kind.scope is None and kind.restrict is None and kind.citizen and kind.gate:
        found = kind.read_one(key)
    else:
        rows = kind.rows().filter(pk=key)
        if kind.citizen is None or not kind.gate:
            rows = gated(actor, kind, rows)
        else:  # the citizen gate below, in one lookup; the type's own rules here
            rows = kind.scope(actor, rows) if kind.scope is not None else rows
            rows = kind.restrict(actor, rows) if kind.restrict is not None else rows
        found = rows.first()
    if found is None:
        raise not_found
    if kind.citizen is not None:
        # The gate in one indexed lookup of this citizen's relationships (what the log needs too).
        citizen_id = citizen_of(found, kind.citizen)
        reasons = access_reasons(actor, [citizen_id])
        if kind.gate and citizen_id not in reasons:
            raise not_found
        access_log_record(
            actor=actor,
            citizens=[Citizen(pk=citizen_id)],
            action=kind.log_action,
            detail=f"FHIR {kind.name} read",
            reasons=reasons,
        )
    return kind.build([found])[0]


def _int(name: str, raw: str | None, default: int, highest: int | None = None) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise invalid(name, _("give a whole number of 0 or more."))
    value = int(raw)
    return min(value, highest) if highest is not None else value


def _order(kind: registry.ResourceType, raw: str | None) -> list[str]:
    if not raw:
        return [*kind.default_order, "pk"]
    order: list[str] = []
    for key in raw.split(","):
        descending = key.startswith("-")
        fields = kind.sorts.get(key.lstrip("-"))
        if fields is None:
            raise invalid(
                "_sort", _("%(type)s cannot be sorted by %(key)s.") % {"type": kind.name, "key": key.lstrip("-")}
            )
        order.extend(f"-{f}" if descending else f for f in fields)
    return [*order, "-pk" if raw.startswith("-") else "pk"]


@dataclass
class Filtered:
    """A search's rows through the gate. ``reasons``: when the parameters name the one citizen
    every row is about, the gate was asked once for that citizen (its reasons, empty if it may not
    be seen) instead of on every row, and the log needs no second lookup. ``one``: that citizen's
    key when the parameters said nothing else (a Patient search by id or CPR number)."""

    make: Callable[[], QuerySet]
    reasons: dict[Any, str] | None = None
    one: Any = None
    row: Any = None  # that citizen's row, when the parameter that named it read it already
    citizen: Any = None  # the citizen the parameters name, when the gate let the actor see it

    @cached_property
    def rows(self) -> QuerySet:
        return self.make()


def _pins(kind: registry.ResourceType, param: Any, raw: str, modifier: str) -> list[Any] | None:
    """The citizens a parameter's value names through the type's own path to the citizen
    (``CarePlan?patient=<id>``, ``Patient?identifier=<CPR system>|<CPR>``): a list of one, none
    when it names nobody; None when it cannot tell."""
    values = split_values(raw)
    if len(values) != 1 or not values[0]:
        return None
    if isinstance(param, ReferenceParam):
        if param.pointing is not None or param.field_name != kind.citizen:
            return None
        key = param.key(values[0], modifier)
        return None if key is None else [key]
    if param.pins is not None and not modifier and kind.citizen == "pk":
        return param.pins(values[0])
    return None


def _filtered(actor: Actor, kind: registry.ResourceType, query: QueryDict) -> Filtered:
    for name in kind.required:
        if not any(key.partition(":")[0] == name for key in query):
            raise invalid(name, _("a search of %(type)s must give it.") % {"type": kind.name})
    # The conditions are made (and checked) here, but put on the rows only when they are read: a
    # search the type answers with a prepared page (``citizen_page``) never builds that statement.
    conditions: list[Q] = []
    pinned: list[Any] | None = None
    row: Any = None
    only_pins = True
    for name, values in query.lists():
        base, _sep, modifier = name.partition(":")
        if base in RESULT_PARAMS:
            continue
        if base == "_id":
            keys = []
            for value in (v for raw in values for v in raw.split(",")):
                try:
                    keys.append(kind.parse_id(value))
                except (TypeError, ValueError):
                    continue
            conditions.append(Q(pk__in=keys))
            found = keys if kind.citizen == "pk" and len(keys) == 1 and len(values) == 1 else None
        else:
            param = kind.param(base)
            if param is None:
                raise invalid(base, _("%(type)s has no such search parameter.") % {"type": kind.name})
            found = None
            for raw in values:
                conditions.append(param.condition(raw, modifier))
                found = _pins(kind, param, raw, modifier) if len(values) == 1 else None
        if found is not None and len(found) <= 1:
            if pinned is None:
                pinned = [getattr(each, "pk", each) for each in found]
                row = next((each for each in found if hasattr(each, "pk")), None)
        else:
            only_pins = False
    if pinned is None or kind.citizen is None or not kind.gate:
        rows = gated(actor, kind, _rows(kind, conditions))
        return Filtered(lambda: rows)
    if not pinned:  # the value names nobody
        return Filtered(lambda: kind.rows().none(), {})
    # Every row is about this citizen: one indexed lookup of its relationships is the gate, and
    # the statement is far cheaper to build without the per-row probe.
    reasons = access_reasons(actor, pinned)
    if pinned[0] not in reasons:
        return Filtered(lambda: kind.rows().none(), reasons)
    one = pinned[0] if only_pins else None
    if kind.scope is None and kind.restrict is None:
        return Filtered(lambda: _rows(kind, conditions), reasons, one, row, pinned[0])
    rows = _rows(kind, conditions)  # the type's own rules apply (and may refuse) whatever is read
    rows = kind.scope(actor, rows) if kind.scope is not None else rows
    rows = kind.restrict(actor, rows) if kind.restrict is not None else rows
    return Filtered(lambda: rows, reasons, one, row, pinned[0])


def _rows(kind: registry.ResourceType, conditions: list[Q]) -> QuerySet:
    """The type's rows with each condition in turn (a parameter given twice must hold twice)."""
    rows = kind.rows()
    for condition in conditions:
        rows = rows.filter(condition)
    return rows


def types_answered(kind: registry.ResourceType, query: QueryDict) -> list[str]:
    """The resource types a search answers with: its own, and those ``_include`` and
    ``_revinclude`` add (a token limited to some types may not read the others this way)."""
    names = [kind.name]
    for raw in query.getlist("_include"):
        source_name, _sep, name = raw.partition(":")
        names += [i.target for i in kind.includes if source_name == kind.name and i.param == name.split(":")[0]]
    names += [raw.partition(":")[0] for raw in query.getlist("_revinclude") if registry.get(raw.partition(":")[0])]
    return list(dict.fromkeys(names))


def _includes(actor: Actor, kind: registry.ResourceType, rows: list[Any], query: QueryDict) -> list[dict[str, Any]]:
    """``_include`` (what the rows point at) and ``_revinclude`` (what points at them), each through
    the gate and logged like the matches."""
    included: list[dict[str, Any]] = []
    for raw in query.getlist("_include"):
        source_name, _sep, name = raw.partition(":")
        spec = (
            next((i for i in kind.includes if i.param == name.split(":")[0]), None)
            if source_name == kind.name
            else None
        )
        if spec is None:
            raise invalid("_include", _("%(value)s is not supported here.") % {"value": raw})
        target = resource_type(spec.target)
        included.extend(_fetch(actor, target, gated(actor, target, target.rows().filter(spec.condition(rows)))))
    for raw in query.getlist("_revinclude"):
        source_name, _sep, name = raw.partition(":")
        source = registry.get(source_name)
        param = source.param(name.split(":")[0]) if source is not None else None
        if source is None or not isinstance(param, ReferenceParam) or kind.name not in param.targets:
            raise invalid("_revinclude", _("%(value)s is not supported here.") % {"value": raw})
        keys = [row.pk for row in rows]
        found = gated(actor, source, source.rows().filter(param.pointing_at(keys)))
        included.extend(_fetch(actor, source, found))
    return included


def _fetch(actor: Actor, kind: registry.ResourceType, rows: QuerySet) -> list[dict[str, Any]]:
    found = list(rows.order_by(*kind.default_order, "pk")[: max_count()])
    log_read(actor, kind, found, f"FHIR {kind.name} included")
    return kind.build(found)


def search(actor: Actor, kind: registry.ResourceType, query: QueryDict) -> Found:
    """A page of the resources matching the query, the total (capped) and the included ones."""
    summary = query.get("_summary")
    if summary is not None and summary not in SUMMARIES:
        raise invalid("_summary", _("only count and false are supported."))
    count = _int("_count", query.get("_count"), DEFAULT_COUNT, max_count())
    offset = _int("_offset", query.get("_offset"), 0)
    order = _order(kind, query.get("_sort"))
    filtered = _filtered(actor, kind, query)
    if filtered.one is not None and _reads_one(kind, query, offset):
        return _one(actor, kind, filtered, summary == "count" or count == 0, count)
    if summary == "count" or count == 0:
        return Found([], [], _total(filtered.rows), offset, count, more=False)
    prepared = _citizen_page(kind, filtered, query, order, offset, count + 1)
    page = prepared.rows if prepared is not None else _page(filtered.rows, order, offset, count + 1)
    more = len(page) > count
    page = page[:count]
    if prepared is not None and prepared.counted is not None:
        total = _capped(prepared.counted)
    elif not more and (page or offset == 0):  # a last page that is not empty (or the first) tells it
        total = _capped(offset + len(page))
    else:
        total = _total(filtered.rows)
    log_read(actor, kind, page, f"FHIR {kind.name} search", filtered.reasons)
    matches = kind.build(page)
    return Found(matches, _includes(actor, kind, page, query) if page else [], total, offset, count, more)


def _page(rows: QuerySet, order: list[str], offset: int, limit: int) -> list[Any]:
    return list(rows.order_by(*order)[offset : offset + limit])


def plain_values(query: QueryDict, names: Sequence[str]) -> dict[str, str] | None:
    """The one value of each search parameter of the query (result parameters aside), when every
    one is among ``names``, given once, without a modifier and without alternatives; else None.
    The shapes a type's ``citizen_page`` reads with a prepared statement are told apart by this."""
    found: dict[str, str] = {}
    for name, values in query.lists():
        if name in RESULT_PARAMS:
            continue
        if name not in names or len(values) != 1 or len(split_values(values[0])) != 1:
            return None
        found[name] = values[0]
    return found


def _citizen_page(
    kind: registry.ResourceType, filtered: Filtered, query: QueryDict, order: list[str], offset: int, limit: int
) -> registry.CitizenPage | None:
    """The page by the type's prepared statement for one citizen, when it reads this search so."""
    if kind.citizen_page is None or filtered.citizen is None or kind.scope is not None or kind.restrict is not None:
        return None
    return kind.citizen_page(filtered.citizen, query, order, offset, limit)


def _reads_one(kind: registry.ResourceType, query: QueryDict, offset: int) -> bool:
    """Whether the search is the read of one row by the type's prepared read: a Patient by id or
    CPR number, nothing included, on the first page."""
    return (
        kind.read_one is not None
        and kind.citizen == "pk"
        and offset == 0
        and not query.getlist("_include")
        and not query.getlist("_revinclude")
    )


def _one(actor: Actor, kind: registry.ResourceType, filtered: Filtered, counting: bool, count: int) -> Found:
    assert kind.read_one is not None
    row = filtered.row if filtered.row is not None else kind.read_one(filtered.one)
    page = [row] if row is not None else []
    if counting:
        return Found([], [], len(page), 0, count, more=False)
    log_read(actor, kind, page, f"FHIR {kind.name} search", filtered.reasons)
    return Found(kind.build(page), [], len(page), 0, count, more=False)


def _total(rows: QuerySet) -> int | None:
    """The number of matches, or None above the cap (counting further costs more than it tells)."""
    return _capped(rows.order_by()[: count_cap() + 1].count())


def _capped(total: int) -> int | None:
    return total if total <= count_cap() else None
