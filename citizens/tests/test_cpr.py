import contextlib
import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from citizens.cpr import century, format_cpr, is_cpr_like, normalise_cpr, parse_cpr


@pytest.mark.parametrize(
    ("cpr", "birth_date"),
    [
        ("0101301234", datetime.date(1930, 1, 1)),  # 7th digit 0-3: 1900s
        ("0101993234", datetime.date(1999, 1, 1)),
        ("0101364234", datetime.date(2036, 1, 1)),  # 4: 2000s for 00-36
        ("0101374234", datetime.date(1937, 1, 1)),  # 4: 1900s for 37-99
        ("0101369234", datetime.date(2036, 1, 1)),  # 9 behaves like 4
        ("0101379234", datetime.date(1937, 1, 1)),
        ("0101575234", datetime.date(2057, 1, 1)),  # 5-8: 2000s for 00-57
        ("0101588234", datetime.date(1858, 1, 1)),  # 5-8: 1800s for 58-99
    ],
)
def test_century_rule(cpr, birth_date):
    assert parse_cpr(cpr).birth_date == birth_date


def test_sex_from_last_digit():
    assert parse_cpr("0101701231").sex == "male"
    assert parse_cpr("0101701232").sex == "female"


def test_accepts_dash_and_spaces_and_formats_with_dash():
    parsed = parse_cpr(" 010170-1231 ")
    assert parsed.digits == "0101701231"
    assert parsed.formatted == "010170-1231"
    assert format_cpr("0101701231") == "010170-1231"


def test_numbers_without_modulus_11_are_accepted():
    # 010180-0001 fails the old modulus-11 check; such numbers are issued since 2007 and valid.
    weights = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1]
    digits = "0101800001"
    assert sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 != 0
    assert parse_cpr(digits).birth_date == datetime.date(1980, 1, 1)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("3102801234", "cpr_date"),  # 31 February
        ("2902011234", "cpr_date"),  # 1901 is not a leap year
        ("0013801234", "cpr_date"),  # month 13
        ("0001801234", "cpr_date"),  # day 0
        ("010180123", "cpr_format"),  # 9 digits
        ("01018012345", "cpr_format"),
        ("01018O1234", "cpr_format"),  # letter O
        ("０１０１８０１２３４", "cpr_format"),  # full-width digits
        ("", "cpr_format"),
    ],
)
def test_invalid_cpr_numbers_are_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as exc:
        parse_cpr(value)
    assert exc.value.code == code


def test_leap_day_2000_is_valid():
    assert parse_cpr("2902004000").birth_date == datetime.date(2000, 2, 29)


def test_is_cpr_like_separates_cpr_searches_from_names():
    assert is_cpr_like("010180")
    assert is_cpr_like("010180-1234")
    assert not is_cpr_like("Jensen")
    assert not is_cpr_like("0101")


@given(st.dates(min_value=datetime.date(1858, 1, 1), max_value=datetime.date(2057, 12, 31)), st.integers(0, 999))
def test_any_real_date_round_trips_through_a_cpr_number(birth, serial):
    """For every date the scheme can express, some 7th digit encodes it and parsing gives it back."""
    yy = birth.year % 100
    seventh = next(d for d in range(10) if century(yy, d) + yy == birth.year)
    digits = f"{birth:%d%m}{yy:02d}{seventh}{serial:03d}"
    parsed = parse_cpr(digits)
    assert parsed.birth_date == birth
    assert normalise_cpr(parsed.formatted) == digits


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_parser_never_crashes(digits):
    with contextlib.suppress(ValidationError):
        parse_cpr(digits)
