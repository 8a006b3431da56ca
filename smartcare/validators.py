"""Bounds on what may be stored: dates that can have happened (or can still sensibly happen), and
text without control characters.

The models' ``clean()`` call the date helpers (services run ``full_clean()``), so forms, the API
and the FHIR intake refuse an impossible date with the same field error; the database enforces
the fixed lower bound and the order of periods as named check constraints. The text validator is
attached to every text field of the project's models by ``smartcare.apps``.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Nothing in the portal happened before 1900: no citizen alive today was born earlier, and Danish
# local time had no whole-hour offset before 1894 (it rendered as +00:50:20).
EARLIEST_DAY = datetime.date(1900, 1, 1)
EARLIEST_MOMENT = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
# What has happened may be a few minutes "in the future": the sender's clock may run ahead.
CLOCK_SKEW = datetime.timedelta(minutes=5)
# How far ahead a plan, a goal, an activity or a schedule may sensibly reach.
PLANNING_HORIZON_YEARS = 10

Errors = dict[str, list]


def _local_day(value: datetime.date | datetime.datetime) -> datetime.date:
    if isinstance(value, datetime.datetime):
        try:
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        except OverflowError:  # the last hours of year 9999
            return value.date()
    return value


def planning_horizon(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + PLANNING_HORIZON_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + PLANNING_HORIZON_YEARS, day=28)


def _add(errors: Errors, field: str, message) -> None:
    errors.setdefault(field, []).append(ValidationError(message, code="date_bounds"))


def check_not_before(errors: Errors, field: str, value, *, birth_date: datetime.date | None = None) -> None:
    """Not before the citizen's birth, and never before 1900."""
    if value is None:
        return
    day = _local_day(value)
    if day < EARLIEST_DAY:
        _add(errors, field, _("The date cannot be before 1900."))
    elif birth_date is not None and day < birth_date:
        _add(
            errors,
            field,
            _("The date cannot be before the citizen's birth (%(birth)s).") % {"birth": birth_date.isoformat()},
        )


def check_happened(errors: Errors, field: str, value, *, birth_date: datetime.date | None = None) -> None:
    """A moment or a day that has happened: after the birth (or 1900) and not in the future,
    allowing a few minutes of clock skew for a moment."""
    if value is None:
        return
    check_not_before(errors, field, value, birth_date=birth_date)
    now = timezone.now() + CLOCK_SKEW if isinstance(value, datetime.datetime) else timezone.localdate()
    if value > now:
        _add(errors, field, _("The time cannot be in the future."))


def check_planned(errors: Errors, field: str, value, *, birth_date: datetime.date | None = None) -> None:
    """A planned day or moment: after the birth (or 1900) and within the planning horizon."""
    if value is None:
        return
    check_not_before(errors, field, value, birth_date=birth_date)
    if _local_day(value) > planning_horizon():
        _add(
            errors,
            field,
            _("The date cannot be more than %(years)d years ahead.") % {"years": PLANNING_HORIZON_YEARS},
        )


def check_period(errors: Errors, end_field: str, start, end, *, strict: bool = False) -> None:
    """The end of a period is not before its start (``strict``: after it)."""
    if start is None or end is None:
        return
    if end < start or (strict and end == start):
        message = _("The end must be after the start.") if strict else _("The end cannot be before the start.")
        _add(errors, end_field, message)


def raise_errors(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def gather(errors: Errors, check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one check and add what it raises to ``errors`` (by field; a message without a field
    under ``NON_FIELD_ERRORS``) instead of stopping there, so a form shows every error at once.
    Returns the check's result, or None when it failed."""
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        for field, messages in (
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        ).items():
            errors.setdefault(field, []).extend(messages)
        return None


def birth_date_of(obj) -> datetime.date | None:
    """The birth date of the citizen a row is about (None while it has no citizen)."""
    return obj.citizen.birth_date if getattr(obj, "citizen_id", None) else None


_OWN_CITIZEN = object()


def date_errors(
    obj,
    *,
    happened: tuple[str, ...] = (),
    planned: tuple[str, ...] = (),
    since: tuple[str, ...] = (),
    periods: tuple[tuple[str, str], ...] = (),
    strict_periods: tuple[tuple[str, str], ...] = (),
    birth_date=_OWN_CITIZEN,
) -> Errors:
    """The field errors of a row's dates, for its ``clean()``: ``happened`` fields are in the
    past, ``planned`` ones within the planning horizon, ``since`` ones only bounded below (all
    not before the citizen's birth, or 1900); each period's end is not before its start
    (``strict_periods``: after it). The birth date is that of the row's citizen unless given."""
    if birth_date is _OWN_CITIZEN:
        birth_date = birth_date_of(obj)
    errors: Errors = {}
    for names, check in ((happened, check_happened), (planned, check_planned), (since, check_not_before)):
        for name in names:
            check(errors, name, getattr(obj, name), birth_date=birth_date)
    for pairs, strict in ((periods, False), (strict_periods, True)):
        for start, end in pairs:
            if start not in errors:
                check_period(errors, end, getattr(obj, start), getattr(obj, end), strict=strict)
    return errors


def validate_dates(obj, **rules) -> None:
    raise_errors(date_errors(obj, **rules))


def from_1900(name: str, field: str, *, moment: bool = False) -> models.CheckConstraint:
    """The database's own floor for a date (or, ``moment``, a datetime) field: 1 January 1900."""
    floor = EARLIEST_MOMENT if moment else EARLIEST_DAY
    return models.CheckConstraint(
        name=name,
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": floor}),
        violation_error_message=_("The date cannot be before 1900."),
    )


def period_order(name: str, start: str, end: str, *, strict: bool = False) -> models.CheckConstraint:
    """The database's own check that a period ends after (``strict``) or not before it starts."""
    after = Q(**{f"{end}__gt" if strict else f"{end}__gte": models.F(start)})
    return models.CheckConstraint(
        name=name,
        condition=Q(**{f"{end}__isnull": True}) | after,
        violation_error_message=_("The end must be after the start.")
        if strict
        else _("The end cannot be before the start."),
    )


# --- text ---------------------------------------------------------------------------------------

_LINE_BREAKS = frozenset("\t\n\r")
_NONCHARACTERS = frozenset("\ufffe\uffff")


def _forbidden(char: str, *, multiline: bool) -> bool:
    if multiline and char in _LINE_BREAKS:
        return False
    return unicodedata.category(char) in ("Cc", "Cs") or char in _NONCHARACTERS


@deconstructible
class NoControlCharactersValidator:
    """Refuses control characters (and NUL), which no export format can carry: XML 1.0 has no
    way to write them. Free text (``multiline``) keeps its tabs and line breaks."""

    code = "control_characters"

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        bad = next((c for c in value if _forbidden(c, multiline=self.multiline)), None)
        if bad is not None:
            raise ValidationError(
                _("The text contains a control character (U+%(code)s), which is not allowed."),
                code=self.code,
                params={"code": f"{ord(bad):04X}"},
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharactersValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((type(self), self.multiline))


single_line_text = NoControlCharactersValidator(multiline=False)
free_text = NoControlCharactersValidator(multiline=True)
