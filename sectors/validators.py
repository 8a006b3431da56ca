"""Validators for the Danish organisation identifiers (see the identifier table in DOMAIN.md).

They are used by model fields, so forms, the admin and the API all reject a bad identifier with
the same message.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits before it: weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_gln(value: str) -> None:
    if not (value.isascii() and value.isdigit() and len(value) == 13):
        raise ValidationError(_("A GLN/EAN location number has exactly 13 digits."), code="gln_format")
    if gs1_check_digit(value[:12]) != int(value[12]):
        raise ValidationError(
            _("The GLN/EAN location number %(value)s has a wrong check digit."),
            code="gln_check_digit",
            params={"value": value},
        )


def validate_sor(value: str) -> None:
    if not (value.isascii() and value.isdigit() and 11 <= len(value) <= 18):
        raise ValidationError(_("A SOR code has digits only, at least 11 and at most 18."), code="sor_format")


def validate_municipality_code(value: str) -> None:
    if not (value.isascii() and value.isdigit() and len(value) == 4):
        raise ValidationError(_("A municipality code has exactly 4 digits, e.g. 0461."), code="municipality_code")


def validate_ydernummer(value: str) -> None:
    if not (value.isascii() and value.isdigit() and 1 <= len(value) <= 7):
        raise ValidationError(_("A ydernummer has digits only (at most 7)."), code="ydernummer_format")
