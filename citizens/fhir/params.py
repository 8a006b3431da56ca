"""FHIR search parameters (R4 "Search"): each type parses its values from the query string and
turns them into a condition on the resource's rows.

A parameter given twice must hold twice (AND); values separated by commas are alternatives (OR).
What cannot be read (a date that is no date, a prefix or modifier the type does not know) is a
400 with an OperationOutcome saying which parameter, never a 500 and never a silent "everything".
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .http import FhirError

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_DATE = re.compile(
    r"^(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(T(?P<time>\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def invalid(name: str, text: str) -> FhirError:
    return FhirError(400, "invalid", _("Search parameter %(name)s: %(problem)s") % {"name": name, "problem": text})


def split_values(raw: str) -> list[str]:
    r"""The alternatives of one parameter: separated by commas, ``\,`` is a comma in a value."""
    return [part.replace("\\,", ",") for part in re.split(r"(?<!\\),", raw)]


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code of the system ("system|")


@dataclass(frozen=True)
class SearchParam:
    """One search parameter of a resource type; ``kind`` is FHIR's SearchParamType."""

    name: str
    documentation: str
    kind: str = "string"
    modifiers: tuple[str, ...] = ()
    # For a parameter of Patient that can name one citizen exactly (a CPR number): ``pins(value)``
    # returns the citizens the value names (their keys, or their rows as the type's ``read_one``
    # gives them; none: it names nobody), or None when it cannot tell. The search then asks the gate
    # for that citizen alone (``citizens.fhir.search``).
    pins: Callable[[str], list[Any] | None] | None = None

    def condition(self, raw: str, modifier: str) -> Q:
        if modifier and modifier not in self.modifiers:
            raise invalid(f"{self.name}:{modifier}", _("this modifier is not supported."))
        values = [value for value in split_values(raw) if value != ""]
        if not values:
            raise invalid(self.name, _("give a value."))
        condition = Q(pk__in=[])
        for value in values:
            condition |= self.one(value, modifier)
        return condition

    def one(self, value: str, modifier: str) -> Q:  # pragma: no cover - every kind overrides it
        raise NotImplementedError


@dataclass(frozen=True)
class StringParam(SearchParam):
    """Matches the start of any of ``fields``, ignoring case; ``:exact`` and ``:contains``."""

    fields: tuple[str, ...] = ()
    kind: str = "string"
    modifiers: tuple[str, ...] = ("exact", "contains")

    def one(self, value: str, modifier: str) -> Q:
        lookup = {"exact": "exact", "contains": "icontains"}.get(modifier, "istartswith")
        condition = Q(pk__in=[])
        for name in self.fields:
            condition |= Q(**{f"{name}__{lookup}": value})
        return condition


@dataclass(frozen=True)
class TokenParam(SearchParam):
    """``[system|]code``: ``match`` turns one token into a condition (raising ``FhirError`` for a
    system the resource has no codes in is not needed: such a token simply matches nothing)."""

    match: Callable[[Token], Q] = field(default=lambda token: Q(pk__in=[]))
    kind: str = "token"

    def one(self, value: str, modifier: str) -> Q:
        return self.match(parse_token(value))


def parse_token(value: str) -> Token:
    """``[system|]code``: ``system|`` is any code of the system, ``|code`` a code without one."""
    if "|" in value:
        system, code = value.split("|", 1)
        return Token(system, code or None)
    return Token(None, value)


def token_codes(token: Token, system: str, codes: dict[str, Any] | Sequence[str]) -> list[Any]:
    """The values a token names among ``codes`` (code → stored value) of one code system: none
    when it names another system."""
    if token.system not in (None, system):
        return []
    mapping = codes if isinstance(codes, dict) else {code: code for code in codes}
    if token.code is None:
        return list(mapping.values())
    return [mapping[token.code]] if token.code in mapping else []


@dataclass(frozen=True)
class ReferenceParam(SearchParam):
    """``Type/id`` or ``id`` of one of ``targets``; ``convert`` makes the stored key of an id and
    raises ``ValueError`` for an id no row can have (it matches nothing)."""

    field_name: str = ""
    targets: tuple[str, ...] = ()
    convert: Callable[[str], Any] = str
    kind: str = "reference"
    # The condition for rows pointing at any of these keys, when a plain ``<field>__in`` would join
    # a to-many relation (and return a row once per match).
    pointing: Callable[[list[Any]], Q] | None = None

    def pointing_at(self, keys: list[Any]) -> Q:
        return self.pointing(keys) if self.pointing is not None else Q(**{f"{self.field_name}__in": keys})

    def key(self, value: str, modifier: str) -> Any:
        """The stored key the value names, or None when it can name no row."""
        if modifier and modifier not in self.targets:
            raise invalid(f"{self.name}:{modifier}", _("this resource type cannot be referenced here."))
        if "/" in value:
            parts = value.rstrip("/").split("/")
            if len(parts) < 2 or parts[-2] not in self.targets:
                return None
            value = parts[-1]
        try:
            return self.convert(value)
        except (TypeError, ValueError):
            return None

    def condition(self, raw: str, modifier: str) -> Q:
        keys = [self.key(value, modifier) for value in split_values(raw) if value]
        if not keys:
            raise invalid(self.name, _("give a value."))
        return self.pointing_at([key for key in keys if key is not None])

    def one(self, value: str, modifier: str) -> Q:  # pragma: no cover - condition does it all
        raise NotImplementedError


@dataclass(frozen=True)
class DateRange:
    start: datetime.datetime
    end: datetime.datetime  # exclusive


def parse_date(name: str, value: str) -> tuple[str, DateRange]:
    """The prefix and the range a date value stands for at its precision (``2026`` is the whole
    year, ``2026-03-01T10:00`` the minute), in the portal's time zone unless it has its own."""
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in DATE_PREFIXES else value
    found = _DATE.match(text)
    if not found:
        raise invalid(
            name, _("%(value)s is no FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a date and time).") % {"value": value}
        )
    year, month, day = int(found["year"]), int(found["month"] or 1), int(found["day"] or 1)
    try:
        if found["time"]:
            moment = datetime.datetime.fromisoformat(f"{text[:10]}T{found['time']}")
            zone = found["tz"]
            if zone:
                moment = moment.replace(
                    tzinfo=datetime.UTC if zone == "Z" else datetime.datetime.strptime(zone, "%z").tzinfo
                )
            else:
                moment = timezone.make_aware(moment)
            step = datetime.timedelta(seconds=1) if found["time"].count(":") == 2 else datetime.timedelta(minutes=1)
            return prefix, DateRange(moment, moment + step)
        start = datetime.date(year, month, day)
    except ValueError:
        raise invalid(name, _("%(value)s is no valid date.") % {"value": value}) from None
    if found["day"]:
        end = start + datetime.timedelta(days=1)
    elif found["month"]:
        end = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    else:
        end = start.replace(year=year + 1) if year < 9999 else datetime.date.max
    return prefix, DateRange(_midnight(start), _midnight(end))


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


@dataclass(frozen=True)
class DateParam(SearchParam):
    """A date or time with FHIR's prefixes (eq, ne, gt, lt, ge, le, sa, eb) compared with the
    range the value stands for. ``is_date``: the field is a date, not a moment."""

    field_name: str = ""
    is_date: bool = False
    kind: str = "date"

    def one(self, value: str, modifier: str) -> Q:
        prefix, span = parse_date(self.name, value)
        start: Any = span.start
        end: Any = span.end
        if self.is_date:
            start, end = timezone.localtime(span.start).date(), timezone.localtime(span.end).date()
            if end == start:  # a range shorter than a day (a time) stands for its day
                end = start + datetime.timedelta(days=1)
        f = self.field_name
        within = Q(**{f"{f}__gte": start, f"{f}__lt": end})
        return {
            "eq": within,
            "ne": ~within & Q(**{f"{f}__isnull": False}),
            "gt": Q(**{f"{f}__gte": end}),
            "sa": Q(**{f"{f}__gte": end}),
            "ge": Q(**{f"{f}__gte": start}),
            "lt": Q(**{f"{f}__lt": start}),
            "eb": Q(**{f"{f}__lt": start}),
            "le": Q(**{f"{f}__lt": end}),
        }[prefix]


def key_int(value: str) -> int:
    """An integer key as written in an id or reference; ``ValueError`` for anything else (a sign,
    spaces, other scripts' digits, or a number no database key can have)."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ValueError(value)
    return int(value)


def key_uuid(value: str) -> Any:
    """A UUID key as FHIR writes it (hyphenated, any case)."""
    if len(value) != 36:
        raise ValueError(value)
    return uuid.UUID(value)
