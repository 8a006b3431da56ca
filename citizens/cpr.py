"""CPR numbers (the Danish personal identification number), as described in DOMAIN.md.

DDMMYY-SSSS: the date part must be a real date, the 7th digit and the year give the century,
the last digit gives the sex (odd: male). The modulus-11 check is NOT applied: numbers issued
since 1 October 2007 need not satisfy it and must be accepted.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
_SEPARATORS = re.compile(r"[\s\-]")


@dataclass(frozen=True)
class CPR:
    digits: str
    birth_date: datetime.date
    sex: str  # "male" | "female"

    @property
    def formatted(self) -> str:
        return format_cpr(self.digits)


def century(year_2d: int, seventh_digit: int) -> int:
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if year_2d <= 36 else 1900
    # 5-8
    return 2000 if year_2d <= 57 else 1800


def normalise_cpr(value: str) -> str:
    """Digits only: accepts DDMMYYSSSS, DDMMYY-SSSS and spaces."""
    return _SEPARATORS.sub("", value or "")


def format_cpr(digits: str) -> str:
    return f"{digits[:6]}-{digits[6:]}" if len(digits) == 10 else digits


def parse_cpr(value: str) -> CPR:
    digits = normalise_cpr(value)
    if not (len(digits) == 10 and digits.isascii() and digits.isdigit()):
        raise ValidationError(_("A CPR number has 10 digits: DDMMYY-SSSS."), code="cpr_format")
    day, month, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    year = century(yy, int(digits[6])) + yy
    try:
        birth_date = datetime.date(year, month, day)
    except ValueError:
        raise ValidationError(
            _("The CPR number %(value)s does not start with a real date."),
            code="cpr_date",
            params={"value": format_cpr(digits)},
        ) from None
    sex = "male" if int(digits[9]) % 2 else "female"
    return CPR(digits=digits, birth_date=birth_date, sex=sex)


def validate_cpr(value: str) -> None:
    """A CPR number a citizen can have: a real date that is not in the future (parse_cpr alone
    decodes any number, e.g. 010130-4xxx as born in 2030)."""
    if parse_cpr(value).birth_date > timezone.localdate():
        raise ValidationError(
            _("The CPR number %(value)s gives a birth date in the future."),
            code="cpr_future",
            params={"value": format_cpr(normalise_cpr(value))},
        )


def is_cpr_like(value: str) -> bool:
    """Whether a search text looks like a (possibly partial) CPR rather than a name."""
    digits = normalise_cpr(value)
    return len(digits) >= 6 and digits.isdigit()


def exact_cpr(value: str) -> str:
    """The 10 digits when a search text is a whole CPR number (with or without the dash), else ""."""
    digits = normalise_cpr((value or "").strip())
    return digits if len(digits) == 10 and digits.isascii() and digits.isdigit() else ""
