"""Synthetic CPR numbers (``generate``): valid (a real date; the 7th digit fits the century rule;
the last digit gives the sex) but recognisably synthetic: the 8th digit is always 9, and within
that block the sequence is counted per birth date and sex. Modulus 11 is not applied. A new run
continues each birth date's count after the highest number already in the block, so repeated runs
add citizens and never collide, with each other or with any other citizen."""

from __future__ import annotations

import datetime
import functools

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max
from django.db.models.functions import Cast, Mod, Substr

from .cpr import century, parse_cpr
from .models import Citizen

SYNTHETIC_MARK = "9"  # the 8th CPR digit of every generated number
PER_CENTURY_DIGIT = 50  # 9th digit 0-9 x five last digits of one sex


@functools.cache
def valid_century_digits(year: int) -> list[int]:
    """The 7th CPR digits that give this birth year under the century rule."""
    return [d for d in range(10) if century(year % 100, d) + year % 100 == year]


def synthetic_cpr(birth_date: datetime.date, male: bool, slot: int) -> str | None:
    """The ``slot``-th synthetic number of this birth date and sex, or None when the block is full."""
    digits = valid_century_digits(birth_date.year)
    index, rest = divmod(slot, PER_CENTURY_DIGIT)
    if index >= len(digits):
        return None
    ninth, last = divmod(rest, 5)
    return f"{birth_date:%d%m%y}{digits[index]}{SYNTHETIC_MARK}{ninth}{2 * last + (1 if male else 0)}"


def synthetic_slot(cpr: str) -> tuple[datetime.date, bool, int] | None:
    """Inverse of ``synthetic_cpr``; None for a number outside the synthetic block."""
    if len(cpr) != 10 or cpr[7] != SYNTHETIC_MARK:
        return None
    try:
        parsed = parse_cpr(cpr)
    except ValidationError:
        return None
    digits = valid_century_digits(parsed.birth_date.year)
    last = int(cpr[9])
    return (
        parsed.birth_date,
        bool(last % 2),
        digits.index(int(cpr[6])) * PER_CENTURY_DIGIT + int(cpr[8]) * 5 + last // 2,
    )


def next_slots() -> dict[tuple[datetime.date, bool], int]:
    """For each birth date and sex, the first free slot after the synthetic numbers in use.

    Within one date, century digit and sex the slots follow the number's digits, so the highest
    number of each such group is enough: the database groups and the rows stay few."""
    highest = (
        Citizen.objects.filter(cpr__regex=r"^[0-9]{7}" + SYNTHETIC_MARK + "[0-9]{2}$")
        .annotate(head=Substr("cpr", 1, 7), odd=Mod(Cast(Substr("cpr", 10, 1), models.IntegerField()), 2))
        .values("head", "odd")
        .annotate(top=Max("cpr"))
        .values_list("top", flat=True)
    )
    slots: dict[tuple[datetime.date, bool], int] = {}
    for cpr in highest:
        found = synthetic_slot(cpr)
        if found is not None:
            key = (found[0], found[1])
            slots[key] = max(slots.get(key, 0), found[2] + 1)
    return slots
